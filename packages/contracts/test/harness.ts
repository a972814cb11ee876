import { createBlock } from "@ethereumjs/block";
import { Common, Hardfork, Mainnet } from "@ethereumjs/common";
import { createAccount, createAddressFromString, hexToBytes as ejsHexToBytes } from "@ethereumjs/util";
import { createVM, type VM } from "@ethereumjs/vm";
import { type BlsSecretKey, blsKeyFromSeed, blsProofOfPossession } from "@zgnode/crypto";
import { bytesToHex, type Hex } from "@zgnode/utils";
import type { LogDescription, Result } from "ethers";
import {
  descriptionTuple,
  expandProofOfPossession,
  type GenesisAlloc,
  type GenesisValidator,
  STAKING_ADDRESS,
  type StakingParams,
  SYSTEM_ADDRESS,
  stakingGenesisAlloc,
  stakingInterface,
} from "../src/index.ts";

export const ETHER = 10n ** 18n;
export const GWEI = 10n ** 9n;

/** Small parameters so tests can cross unbonding, jail and commission delays in a few blocks. */
export const testParams: StakingParams = {
  minSelfStake: 10n * ETHER,
  minDelegation: ETHER / 10n,
  blockReward: ETHER,
  unbondingPeriod: 20,
  epochLength: 10,
  jailPeriod: 30,
  commissionChangeDelay: 5,
  maxCommissionChangePpm: 20_000,
  slashFractionDoubleSignPpm: 20_000,
  maxActiveValidators: 3,
  maxValidatorCount: 8,
  maxUnbondingEntries: 4,
};

export interface TestValidatorKey {
  operator: Hex;
  sk: BlsSecretKey;
  blsPubkey: Uint8Array;
  /** 96-byte compressed proof of possession, as @zgnode/crypto produces it. */
  pop: Uint8Array;
}

export function validatorKey(index: number): TestValidatorKey {
  const sk = blsKeyFromSeed(new Uint8Array(32).fill(index + 1));
  const operator = `0x${(0xa000 + index).toString(16).padStart(40, "0")}` as Hex;
  return { operator, sk, blsPubkey: sk.toPublicKey().toBytes(), pop: blsProofOfPossession(sk) };
}

export function genesisValidator(index: number, stake: bigint, commissionPpm = 100_000): GenesisValidator {
  const k = validatorKey(index);
  return {
    operator: k.operator,
    blsPubkey: k.blsPubkey,
    pop: k.pop,
    stake,
    commissionPpm,
    description: { moniker: `v${index}` },
  };
}

export function account(index: number): Hex {
  return `0x${(0xd000 + index).toString(16).padStart(40, "0")}` as Hex;
}

function defaultValidators(): GenesisValidator[] {
  return [genesisValidator(0, 100n * ETHER), genesisValidator(1, 50n * ETHER)];
}

let cachedAlloc: Promise<GenesisAlloc> | undefined;
function defaultAlloc(): Promise<GenesisAlloc> {
  cachedAlloc ??= stakingGenesisAlloc(testParams, defaultValidators());
  return cachedAlloc;
}

export interface CallOutcome {
  ok: boolean;
  /** Decoded return values (empty when reverted). */
  result: Result | undefined;
  /** Custom error name and args when reverted with one of the contract's errors. */
  error: { name: string; args: Result } | undefined;
  logs: LogDescription[];
  gasUsed: bigint;
  /** Raw return data (revert data when the call failed). */
  raw: Uint8Array;
}

/** A Prague @ethereumjs/vm holding the staking genesis account, with a movable block number. */
export class StakingHarness {
  readonly vm: VM;
  readonly common: Common;
  blockNumber = 1n;

  private constructor(vm: VM, common: Common) {
    this.vm = vm;
    this.common = common;
  }

  /**
   * A fresh VM holding the genesis alloc. Without arguments it reuses one alloc built for `testParams` and two
   * genesis validators (100 and 50 ether, 10% commission): building runs two on-chain PoP checks under a tracer.
   */
  static async create(
    params?: StakingParams,
    validators?: GenesisValidator[],
  ): Promise<{ harness: StakingHarness; alloc: GenesisAlloc }> {
    const alloc =
      params === undefined && validators === undefined
        ? await defaultAlloc()
        : await stakingGenesisAlloc(params ?? testParams, validators ?? defaultValidators());
    const common = new Common({ chain: Mainnet, hardfork: Hardfork.Prague });
    const vm = await createVM({ common });
    const harness = new StakingHarness(vm, common);
    await harness.loadAlloc(alloc);
    await harness.fund(SYSTEM_ADDRESS, 1_000_000n * ETHER);
    for (let i = 0; i < 8; i++) await harness.fund(account(i), 10_000n * ETHER);
    for (let i = 0; i < 10; i++) await harness.fund(validatorKey(i).operator, 10_000n * ETHER);
    return { harness, alloc };
  }

  async loadAlloc(alloc: GenesisAlloc): Promise<void> {
    for (const [address, acct] of Object.entries(alloc)) {
      const addr = createAddressFromString(address);
      await this.vm.stateManager.putAccount(addr, createAccount({ balance: BigInt(acct.balance), nonce: BigInt(acct.nonce) }));
      await this.vm.stateManager.putCode(addr, ejsHexToBytes(acct.code as `0x${string}`));
      for (const [slot, value] of Object.entries(acct.storage)) {
        await this.vm.stateManager.putStorage(addr, ejsHexToBytes(slot as `0x${string}`), ejsHexToBytes(value as `0x${string}`));
      }
    }
  }

  async fund(address: string, amount: bigint): Promise<void> {
    await this.vm.stateManager.putAccount(createAddressFromString(address), createAccount({ balance: amount, nonce: 0n }));
  }

  async balance(address: string): Promise<bigint> {
    return (await this.vm.stateManager.getAccount(createAddressFromString(address)))?.balance ?? 0n;
  }

  mine(blocks = 1n): void {
    this.blockNumber += blocks;
  }

  /** Runs raw calldata against the staking address at the current block. */
  async callData(from: string, data: string, value = 0n, to: string = STAKING_ADDRESS): Promise<CallOutcome> {
    const block = createBlock(
      { header: { number: this.blockNumber, timestamp: this.blockNumber * 2n, gasLimit: 100_000_000n } },
      { common: this.common },
    );
    const res = await this.vm.evm.runCall({
      caller: createAddressFromString(from),
      to: createAddressFromString(to),
      data: ejsHexToBytes(data as `0x${string}`),
      value,
      gasLimit: 50_000_000n,
      block,
    });
    const ok = res.execResult.exceptionError === undefined;
    const raw = res.execResult.returnValue;
    const logs: LogDescription[] = [];
    for (const [address, topics, logData] of res.execResult.logs ?? []) {
      if (bytesToHex(address) !== STAKING_ADDRESS) continue;
      const parsed = stakingInterface.parseLog({ topics: topics.map((t) => bytesToHex(t)), data: bytesToHex(logData) });
      if (parsed !== null) logs.push(parsed);
    }
    let error: CallOutcome["error"];
    if (!ok && raw.length >= 4) {
      const parsed = stakingInterface.parseError(bytesToHex(raw));
      if (parsed !== null) error = { name: parsed.name, args: parsed.args };
    }
    return { ok, raw, result: undefined, error, logs, gasUsed: res.execResult.executionGasUsed };
  }

  /** Encodes `fn(args)` with ethers' Interface, runs it, decodes result, logs and custom errors. */
  async call(from: string, fn: string, args: unknown[] = [], value = 0n): Promise<CallOutcome> {
    const out = await this.callData(from, stakingInterface.encodeFunctionData(fn, args), value);
    if (out.ok) out.result = stakingInterface.decodeFunctionResult(fn, out.raw);
    return out;
  }

  /** Like `call` but throws with the decoded error when the call reverts. */
  async send(from: string, fn: string, args: unknown[] = [], value = 0n): Promise<CallOutcome> {
    const out = await this.call(from, fn, args, value);
    if (!out.ok) throw new Error(`${fn} reverted: ${out.error?.name ?? "no data"}(${out.error?.args.join(", ") ?? ""})`);
    return out;
  }

  async view(fn: string, args: unknown[] = []): Promise<Result> {
    const out = await this.send(account(7), fn, args);
    return out.result as Result;
  }

  async system(fn: string, args: unknown[] = [], value = 0n): Promise<CallOutcome> {
    return this.call(SYSTEM_ADDRESS, fn, args, value);
  }

  async createValidator(index: number, stake: bigint, commissionPpm = 100_000): Promise<CallOutcome> {
    const k = validatorKey(index);
    return this.call(
      k.operator,
      "createValidator",
      [k.blsPubkey, expandProofOfPossession(k.pop), commissionPpm, descriptionTuple({ moniker: `v${index}` })],
      stake,
    );
  }

  /**
   * Sum of every wei the contract accounts for; must equal its balance. Scans the fixture validators (0..9) rather
   * than `validatorOperators()`, which omits validators whose stake was fully undelegated.
   */
  async accountedWei(): Promise<bigint> {
    let total: bigint = (await this.view("pendingRewards"))[0] + (await this.view("totalBurned"))[0];
    for (let i = 0; i < 10; i++) {
      const out = await this.call(account(7), "getValidator", [validatorKey(i).operator]);
      if (!out.ok) continue;
      const info = (out.result as Result)[0];
      total += info.tokens + info.unbondingTokens + info.commissionAccrued;
    }
    return total;
  }
}
