import { bytesToHex, CodedError, type Hex, hexToBytes } from "@zgnode/utils";
import { ContractsErrorCode } from "./errors.ts";
import type { StakingParams } from "./options.ts";
import { stakingInterface } from "./staking.ts";

/**
 * Typed calldata builders and result decoders for what the chain itself does with the staking contract.
 *
 * Protocol (the chain runs these as calls from SYSTEM_ADDRESS to STAKING_ADDRESS, outside any transaction):
 * 1. At the start of block N, before its transactions: `slash(validator, params.slashFractionDoubleSignPpm,
 *    evidenceHash)` once per piece of committed equivocation evidence (repeats are no-ops by evidence hash).
 * 2. Then `distributeRewards(proposer)` with value = params.blockReward + the priority fees of block N-1 (or
 *    of N, after its transactions, if the chain prefers; the contract does not care), the chain crediting that
 *    value to SYSTEM_ADDRESS first. Burned base fees stay burned.
 * 3. At the end of block N when N % params.epochLength == 0: `onEpochEnd()`; the consensus engine then reads
 *    `activeValidatorSet()` for the heights of the next epoch.
 */
export interface StakingSetMember {
  operator: Hex;
  blsPubkey: Uint8Array;
  /** Bonded stake in gwei, frozen at the epoch boundary. */
  votingPower: bigint;
}

export function encodeSlash(validator: Hex, fractionPpm: number, evidenceHash: Uint8Array | Hex): Hex {
  const hash = typeof evidenceHash === "string" ? hexToBytes(evidenceHash) : evidenceHash;
  if (hash.length !== 32) throw new CodedError(ContractsErrorCode.INVALID_PARAMS, "evidence hash must be 32 bytes");
  return stakingInterface.encodeFunctionData("slash", [validator, fractionPpm, hash]) as Hex;
}

export function encodeDistributeRewards(proposer: Hex): Hex {
  return stakingInterface.encodeFunctionData("distributeRewards", [proposer]) as Hex;
}

export function encodeOnEpochEnd(): Hex {
  return stakingInterface.encodeFunctionData("onEpochEnd", []) as Hex;
}

export function encodeActiveValidatorSet(): Hex {
  return stakingInterface.encodeFunctionData("activeValidatorSet", []) as Hex;
}

export function encodeGetParams(): Hex {
  return stakingInterface.encodeFunctionData("params", []) as Hex;
}

export function encodeValidatorByBlsPubkey(blsPubkey: Uint8Array): Hex {
  return stakingInterface.encodeFunctionData("validatorByBlsPubkey", [blsPubkey]) as Hex;
}

/** Decodes the return data of `activeValidatorSet()` (or `nextValidatorSet()`). */
export function decodeValidatorSet(returnData: Uint8Array | Hex): StakingSetMember[] {
  const data = typeof returnData === "string" ? returnData : bytesToHex(returnData);
  const [members] = stakingInterface.decodeFunctionResult("activeValidatorSet", data);
  return (members as Array<{ operator: string; blsPubkey: string; votingPower: bigint }>).map((m) => ({
    operator: m.operator.toLowerCase() as Hex,
    blsPubkey: hexToBytes(m.blsPubkey),
    votingPower: m.votingPower,
  }));
}

/** Decodes the return data of `params()`. */
export function decodeParams(returnData: Uint8Array | Hex): StakingParams {
  const data = typeof returnData === "string" ? returnData : bytesToHex(returnData);
  const [p] = stakingInterface.decodeFunctionResult("params", data);
  return {
    minSelfStake: p.minSelfStake,
    minDelegation: p.minDelegation,
    blockReward: p.blockReward,
    unbondingPeriod: Number(p.unbondingPeriod),
    epochLength: Number(p.epochLength),
    jailPeriod: Number(p.jailPeriod),
    commissionChangeDelay: Number(p.commissionChangeDelay),
    maxCommissionChangePpm: Number(p.maxCommissionChangePpm),
    slashFractionDoubleSignPpm: Number(p.slashFractionDoubleSignPpm),
    maxActiveValidators: Number(p.maxActiveValidators),
    maxValidatorCount: Number(p.maxValidatorCount),
    maxUnbondingEntries: Number(p.maxUnbondingEntries),
  };
}

/** Decodes the address returned by `validatorByBlsPubkey` (zero address when the key is not registered). */
export function decodeAddress(fn: "validatorByBlsPubkey", returnData: Uint8Array | Hex): Hex {
  const data = typeof returnData === "string" ? returnData : bytesToHex(returnData);
  return (stakingInterface.decodeFunctionResult(fn, data)[0] as string).toLowerCase() as Hex;
}

/** True at the last block of an epoch, where the chain calls `onEpochEnd()`. */
export function isEpochBoundary(blockNumber: bigint, epochLength: number): boolean {
  return blockNumber > 0n && blockNumber % BigInt(epochLength) === 0n;
}
