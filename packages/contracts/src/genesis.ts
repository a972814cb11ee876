import { Common, Hardfork, Mainnet } from "@ethereumjs/common";
import { bigIntToBytes, createAccount, createAddressFromString, setLengthLeft } from "@ethereumjs/util";
import { createVM } from "@ethereumjs/vm";
import { BLS_PUBLIC_KEY_LENGTH, BLS_SIGNATURE_LENGTH, blsSignatureFromBytes } from "@zgnode/crypto";
import {
  bytesToBigInt,
  bytesToHex,
  CodedError,
  concatBytes,
  type Hex,
  hexToBytes,
  toQuantity,
  withDefaults,
} from "@zgnode/utils";
import { ContractsErrorCode } from "./errors.ts";
import type { ContractsMetrics } from "./metrics.ts";
import { defaultStakingParams, type StakingParams } from "./options.ts";
import { STAKING_ADDRESS, stakingBytecode, stakingInterface } from "./staking.ts";

/** Length of a proof of possession as the contract takes it: an uncompressed G2 signature. */
export const STAKING_POP_LENGTH = 192;

export interface StakingDescription {
  moniker: string;
  identity: string;
  website: string;
  securityContact: string;
  details: string;
}

export interface GenesisValidator {
  operator: Hex;
  /** 48-byte compressed BLS12-381 public key. */
  blsPubkey: Uint8Array;
  /** Proof of possession from `blsProofOfPossession` (96 bytes, compressed) or already expanded (192 bytes). */
  pop: Uint8Array;
  /** Self stake, wei (at least `minSelfStake`). */
  stake: bigint;
  commissionPpm?: number;
  description?: Partial<StakingDescription>;
}

/** One genesis account in geth's `alloc` shape (hex strings; storage slots and values are 32 bytes). */
export interface GenesisAccount {
  balance: Hex;
  nonce: Hex;
  code: Hex;
  storage: Record<Hex, Hex>;
}

export type GenesisAlloc = Record<Hex, GenesisAccount>;

export const emptyDescription: StakingDescription = { moniker: "", identity: "", website: "", securityContact: "", details: "" };

/**
 * Converts a proof of possession to the form the contract verifies: the 192-byte uncompressed G2 point (the
 * precompiles cannot decompress G2). 192-byte input is validated and returned as is.
 */
export function expandProofOfPossession(pop: Uint8Array): Uint8Array {
  if (pop.length !== BLS_SIGNATURE_LENGTH && pop.length !== STAKING_POP_LENGTH) {
    throw new CodedError(ContractsErrorCode.INVALID_PROOF_OF_POSSESSION, `proof of possession must be 96 or 192 bytes`, {
      length: pop.length,
    });
  }
  try {
    return blsSignatureFromBytes(pop).toBytes(false);
  } catch (err) {
    throw new CodedError(ContractsErrorCode.INVALID_PROOF_OF_POSSESSION, "proof of possession is not a G2 point", undefined, {
      cause: err,
    });
  }
}

/** The Solidity `Params` tuple, in struct order. */
export function stakingParamsTuple(params: StakingParams): unknown[] {
  return [
    params.minSelfStake,
    params.minDelegation,
    params.blockReward,
    params.unbondingPeriod,
    params.epochLength,
    params.jailPeriod,
    params.commissionChangeDelay,
    params.maxCommissionChangePpm,
    params.slashFractionDoubleSignPpm,
    params.maxActiveValidators,
    params.maxValidatorCount,
    params.maxUnbondingEntries,
  ];
}

export function descriptionTuple(d: Partial<StakingDescription> | undefined): string[] {
  const full = { ...emptyDescription, ...d };
  return [full.moniker, full.identity, full.website, full.securityContact, full.details];
}

/** ABI-encoded creation code + constructor arguments for the staking contract. */
export function stakingCreationCode(params: StakingParams, validators: GenesisValidator[]): Uint8Array {
  const initial = validators.map((v, i) => {
    if (!/^0x[0-9a-fA-F]{40}$/.test(v.operator)) {
      throw new CodedError(ContractsErrorCode.INVALID_GENESIS_VALIDATOR, `validator ${i}: operator is not an address`);
    }
    if (v.blsPubkey.length !== BLS_PUBLIC_KEY_LENGTH) {
      throw new CodedError(ContractsErrorCode.INVALID_GENESIS_VALIDATOR, `validator ${i}: BLS public key must be 48 bytes`);
    }
    if (v.stake < params.minSelfStake) {
      throw new CodedError(ContractsErrorCode.INVALID_GENESIS_VALIDATOR, `validator ${i}: stake below minSelfStake`);
    }
    return [
      v.operator,
      v.blsPubkey,
      expandProofOfPossession(v.pop),
      v.stake,
      v.commissionPpm ?? 0,
      descriptionTuple(v.description),
    ];
  });
  const args = stakingInterface.encodeDeploy([stakingParamsTuple(params), initial]);
  return concatBytes(hexToBytes(stakingBytecode), hexToBytes(args));
}

// A scratch deployer; its identity does not matter because the constructor never stores addresses of its own.
const SCRATCH_DEPLOYER = createAddressFromString("0x00000000000000000000000000000000000c0de0");

/**
 * Builds the staking contract's genesis account with no deployment transaction: runs the creation code
 * (constructor with `params` and the genesis validators, whose proofs of possession it verifies) in a scratch
 * Prague EVM, records every storage slot the constructor wrote, and returns code, storage and balance (the sum of
 * the stakes) for `address`, ready for a genesis `alloc`.
 */
export async function stakingGenesisAlloc(
  params: Partial<StakingParams> | undefined,
  validators: GenesisValidator[],
  opts: { address?: Hex; metrics?: ContractsMetrics } = {},
): Promise<GenesisAlloc> {
  const stopTimer = opts.metrics?.genesisBuildSeconds.startTimer();
  const full = withDefaults(defaultStakingParams, params);
  const data = stakingCreationCode(full, validators);
  const total = validators.reduce((sum, v) => sum + v.stake, 0n);

  const common = new Common({ chain: Mainnet, hardfork: Hardfork.Prague });
  const vm = await createVM({ common });
  await vm.stateManager.putAccount(SCRATCH_DEPLOYER, createAccount({ balance: total, nonce: 0n }));
  // Record every slot the constructor writes. Wrapping the scratch state manager's putStorage (every SSTORE goes
  // through it) is ~10x cheaper than a per-opcode "step" tracer, which copies memory on each step.
  const written = new Set<bigint>();
  const stateManager = vm.evm.stateManager;
  const putStorage = stateManager.putStorage.bind(stateManager);
  stateManager.putStorage = async (address, key, value) => {
    written.add(bytesToBigInt(key));
    return putStorage(address, key, value);
  };
  const result = await vm.evm.runCall({ caller: SCRATCH_DEPLOYER, data, value: total, gasLimit: 1_000_000_000n });
  const created = result.createdAddress;
  if (result.execResult.exceptionError !== undefined || created === undefined) {
    const reason = describeRevert(result.execResult.returnValue);
    const code = reason.startsWith("InvalidProofOfPossession")
      ? ContractsErrorCode.INVALID_PROOF_OF_POSSESSION
      : ContractsErrorCode.GENESIS_DEPLOY_FAILED;
    throw new CodedError(code, `staking constructor failed: ${reason}`, {
      error: result.execResult.exceptionError?.error,
    });
  }

  const storage: Record<Hex, Hex> = {};
  for (const slot of [...written].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    const key = setLengthLeft(bigIntToBytes(slot), 32);
    const value = await vm.stateManager.getStorage(created, key);
    if (value.length > 0) storage[bytesToHex(key)] = bytesToHex(setLengthLeft(value, 32));
  }
  const account = await vm.stateManager.getAccount(created);
  const code = await vm.stateManager.getCode(created);
  stopTimer?.();
  const address = (opts.address ?? STAKING_ADDRESS).toLowerCase() as Hex;
  return {
    [address]: {
      balance: toQuantity(account?.balance ?? 0n),
      nonce: toQuantity(account?.nonce ?? 1n),
      code: bytesToHex(code),
      storage,
    },
  };
}

function describeRevert(returnValue: Uint8Array): string {
  if (returnValue.length === 0) return "reverted without data";
  try {
    const parsed = stakingInterface.parseError(bytesToHex(returnValue));
    if (parsed !== null) return `${parsed.name}(${parsed.args.map(String).join(", ")})`;
  } catch {
    // not one of the contract's errors
  }
  return `reverted with ${bytesToHex(returnValue)}`;
}
