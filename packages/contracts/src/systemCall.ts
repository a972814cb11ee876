import type { EVMInterface, EVMRunCallOpts, Log } from "@ethereumjs/evm";
import { createAddressFromString } from "@ethereumjs/util";
import { CodedError, type Hex, hexToBytes } from "@zgnode/utils";
import { ContractsErrorCode } from "./errors.ts";
import type { StakingParams } from "./options.ts";
import { STAKING_ADDRESS, SYSTEM_ADDRESS } from "./staking.ts";
import {
  decodeParams,
  decodeValidatorSet,
  encodeActiveValidatorSet,
  encodeDistributeRewards,
  encodeGetParams,
  encodeOnEpochEnd,
  encodeSlash,
  type StakingSetMember,
} from "./systemCalls.ts";

/** Gas given to each system call, as EIP-4788 and EIP-2935 do. */
export const SYSTEM_CALL_GAS_LIMIT = 30_000_000n;

export type SystemCallBlock = EVMRunCallOpts["block"];

export interface SystemCallResult {
  ok: boolean;
  returnValue: Uint8Array;
  logs: Log[];
  gasUsed: bigint;
  error: string | undefined;
}

/**
 * Runs one call from SYSTEM_ADDRESS to the staking contract on `evm` (e.g. `vm.evm` of the block being built or
 * imported), outside any transaction: no nonce, no gas payment, 30M gas. `value` is minted for the call (it is
 * how block rewards enter the contract). The system account is left exactly as it was, so these calls never add
 * an account to the state (as EIP-4788 requires of its system address); if the call fails, the minted value
 * vanishes with it.
 */
export async function runStakingSystemCall(
  evm: EVMInterface,
  data: Hex,
  opts: { value?: bigint; block?: SystemCallBlock; gasLimit?: bigint } = {},
): Promise<SystemCallResult> {
  const system = createAddressFromString(SYSTEM_ADDRESS);
  const before = await evm.stateManager.getAccount(system);
  const res = await evm.runCall({
    caller: system,
    origin: system,
    to: createAddressFromString(STAKING_ADDRESS),
    data: hexToBytes(data),
    value: opts.value ?? 0n,
    gasLimit: opts.gasLimit ?? SYSTEM_CALL_GAS_LIMIT,
    block: opts.block,
    skipBalance: true,
    skipNonceIncrement: true,
  });
  if (before === undefined) await evm.stateManager.deleteAccount(system);
  else await evm.stateManager.putAccount(system, before);
  const error = res.execResult.exceptionError?.error;
  return {
    ok: error === undefined,
    returnValue: res.execResult.returnValue,
    logs: res.execResult.logs ?? [],
    gasUsed: res.execResult.executionGasUsed,
    error,
  };
}

export interface EquivocationSlash {
  /** Operator address of the offender (map a BLS key with `validatorByBlsPubkey`). */
  validator: Hex;
  /** Unique id of the evidence (e.g. its hash); a repeat is a no-op in the contract. */
  evidenceHash: Uint8Array | Hex;
}

/**
 * Block-start staking work, in order: one `slash` per committed evidence (at `slashFractionPpm`, normally
 * `params.slashFractionDoubleSignPpm`), then `distributeRewards(proposer)` with `rewardWei` (block reward + fees).
 * Failed calls are returned, not thrown: the block still executes and the caller logs them.
 */
export async function applyStakingBlockStart(
  evm: EVMInterface,
  input: {
    proposer: Hex;
    rewardWei: bigint;
    evidence?: EquivocationSlash[];
    slashFractionPpm: number;
    block?: SystemCallBlock;
  },
): Promise<{ slashes: SystemCallResult[]; rewards: SystemCallResult }> {
  const slashes: SystemCallResult[] = [];
  for (const e of input.evidence ?? []) {
    slashes.push(
      await runStakingSystemCall(evm, encodeSlash(e.validator, input.slashFractionPpm, e.evidenceHash), { block: input.block }),
    );
  }
  const rewards = await runStakingSystemCall(evm, encodeDistributeRewards(input.proposer), {
    value: input.rewardWei,
    block: input.block,
  });
  return { slashes, rewards };
}

/** Epoch-boundary work: installs the next validator set and returns it as consensus should read it. */
export async function applyStakingEpochEnd(
  evm: EVMInterface,
  block?: SystemCallBlock,
): Promise<{ result: SystemCallResult; validatorSet: StakingSetMember[] }> {
  const result = await runStakingSystemCall(evm, encodeOnEpochEnd(), { block });
  return { result, validatorSet: await readActiveValidatorSet(evm, block) };
}

export async function readActiveValidatorSet(evm: EVMInterface, block?: SystemCallBlock): Promise<StakingSetMember[]> {
  const res = await runStakingSystemCall(evm, encodeActiveValidatorSet(), { block });
  if (!res.ok) throw new CodedError(ContractsErrorCode.SYSTEM_CALL_FAILED, `activeValidatorSet() failed: ${res.error}`);
  return decodeValidatorSet(res.returnValue);
}

export async function readStakingParams(evm: EVMInterface, block?: SystemCallBlock): Promise<StakingParams> {
  const res = await runStakingSystemCall(evm, encodeGetParams(), { block });
  if (!res.ok) throw new CodedError(ContractsErrorCode.SYSTEM_CALL_FAILED, `params() failed: ${res.error}`);
  return decodeParams(res.returnValue);
}
