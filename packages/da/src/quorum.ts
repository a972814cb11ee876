import { type BlsPublicKey, blsPublicKeyFromBytes, keccak256 } from "@zgnode/crypto";
import { bytesToBigInt, concatBytes, type Hex, isHex, uintToBytes } from "@zgnode/utils";
import { CELLS_PER_BLOB } from "./constants.ts";
import { DaError, DaErrorCode } from "./errors.ts";

/** A validator as the chain will report it: address, registered BLS key (PoP checked at registration), stake. */
export interface Validator {
  address: Hex;
  blsPublicKey: Uint8Array;
  stake: bigint;
}

export interface QuorumMember {
  address: Hex;
  blsPublicKey: Uint8Array;
  /** Parsed and subgroup-checked once, so verifying aggregates does no point decoding. */
  publicKey: BlsPublicKey;
  stake: bigint;
  /** Cell columns this member holds and attests, ascending. */
  columns: number[];
}

/**
 * A signer quorum for one epoch: members in canonical (address) order, which is also their bit order in an
 * attestation bitmap, and for each of the 128 cell columns the members holding it.
 */
export interface Quorum {
  epoch: bigint;
  quorumId: number;
  members: QuorumMember[];
  /** `holders[column]` = member indices holding that column. */
  holders: number[][];
  totalStake: bigint;
}

export interface SelectQuorumInput {
  validators: Validator[];
  /** Epoch randomness no single signer controls (e.g. from the previous epoch's finalized chain). */
  seed: Uint8Array;
  epoch: bigint | number;
  quorumId: number;
  /** Distinct signers per column; capped at the number of validators with stake. */
  holdersPerColumn: number;
  /** Columns to assign (the 128 cell indices of the 2× extension unless a test says otherwise). */
  columns?: number;
}

const QUORUM_DOMAIN = new TextEncoder().encode("zgnode/da-quorum/v1");

/** Validates a validator set and returns it in canonical order with lower-case addresses. */
export function canonicalValidators(validators: Validator[]): Array<Validator & { publicKey: BlsPublicKey }> {
  const seen = new Set<string>();
  const out = validators.map((v, i) => {
    if (!isHex(v.address) || v.address.length !== 42) {
      throw new DaError(DaErrorCode.INVALID_VALIDATOR_SET, `validator ${i} has a malformed address`, { index: i });
    }
    const address = v.address.toLowerCase() as Hex;
    if (seen.has(address)) {
      throw new DaError(DaErrorCode.INVALID_VALIDATOR_SET, `validator ${address} appears twice`, { address });
    }
    seen.add(address);
    if (typeof v.stake !== "bigint" || v.stake <= 0n) {
      throw new DaError(DaErrorCode.INVALID_VALIDATOR_SET, `validator ${address} has no positive stake`, { address });
    }
    let publicKey: BlsPublicKey;
    try {
      publicKey = blsPublicKeyFromBytes(v.blsPublicKey);
    } catch (err) {
      throw new DaError(
        DaErrorCode.INVALID_VALIDATOR_SET,
        `validator ${address} has an invalid BLS key`,
        { address },
        { cause: err },
      );
    }
    return { address, blsPublicKey: v.blsPublicKey, stake: v.stake, publicKey };
  });
  if (out.length === 0) throw new DaError(DaErrorCode.INVALID_VALIDATOR_SET, "validator set is empty");
  return out.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}

/**
 * Deterministic stake-weighted assignment of cell columns to signers. For each column, `holdersPerColumn` distinct
 * validators are drawn without replacement, each draw with probability proportional to stake among those not yet
 * drawn for the column; draw k of column c takes `keccak(domain ‖ seed ‖ quorumId ‖ epoch ‖ c ‖ k)` modulo the
 * remaining stake (a 256-bit value, so the modulo bias is below 2^-128 for any realistic total stake). The result
 * depends only on the set (not its order), the seed, the epoch and the quorum id. Members are the validators
 * holding at least one column.
 */
export function selectQuorum(input: SelectQuorumInput): Quorum {
  const columns = input.columns ?? CELLS_PER_BLOB;
  if (!Number.isInteger(columns) || columns < 1 || columns > 1 << 16) {
    throw new DaError(DaErrorCode.INVALID_ARGUMENT, `column count must be in 1..65536, got ${columns}`);
  }
  if (!Number.isInteger(input.holdersPerColumn) || input.holdersPerColumn < 1) {
    throw new DaError(DaErrorCode.INVALID_ARGUMENT, "holdersPerColumn must be a positive integer");
  }
  if (!Number.isInteger(input.quorumId) || input.quorumId < 0 || input.quorumId > 0xffffffff) {
    throw new DaError(DaErrorCode.INVALID_ARGUMENT, "quorumId must be a u32");
  }
  if (!(input.seed instanceof Uint8Array) || input.seed.length === 0) {
    throw new DaError(DaErrorCode.INVALID_ARGUMENT, "epoch seed must be non-empty bytes");
  }
  const epoch = BigInt(input.epoch);
  const validators = canonicalValidators(input.validators);
  const n = validators.length;
  const perColumn = Math.min(input.holdersPerColumn, n);
  const prefix = concatBytes(
    QUORUM_DOMAIN,
    uintToBytes(input.seed.length, 4),
    input.seed,
    uintToBytes(input.quorumId, 4),
    uintToBytes(epoch, 8),
  );
  const stakes = validators.map((v) => v.stake);
  const total = stakes.reduce((a, b) => a + b, 0n);
  const holdersByValidator: number[][] = validators.map(() => []);
  const columnHolders: number[][] = [];
  const weights = new Array<bigint>(n);
  for (let c = 0; c < columns; c++) {
    for (let i = 0; i < n; i++) weights[i] = stakes[i];
    let remaining = total;
    const chosen: number[] = [];
    for (let k = 0; k < perColumn; k++) {
      let r = bytesToBigInt(keccak256(concatBytes(prefix, uintToBytes(c, 4), uintToBytes(k, 4)))) % remaining;
      let pick = 0;
      while (r >= weights[pick]) {
        r -= weights[pick];
        pick++;
      }
      chosen.push(pick);
      remaining -= weights[pick];
      weights[pick] = 0n;
    }
    chosen.sort((a, b) => a - b);
    for (const v of chosen) holdersByValidator[v].push(c);
    columnHolders.push(chosen);
  }
  // Renumber from validator order to member order (validators with no column drop out).
  const memberOf = new Array<number>(n).fill(-1);
  const members: QuorumMember[] = [];
  for (let i = 0; i < n; i++) {
    if (holdersByValidator[i].length === 0) continue;
    memberOf[i] = members.length;
    const v = validators[i];
    members.push({
      address: v.address,
      blsPublicKey: v.blsPublicKey,
      publicKey: v.publicKey,
      stake: v.stake,
      columns: holdersByValidator[i],
    });
  }
  return {
    epoch,
    quorumId: input.quorumId,
    members,
    holders: columnHolders.map((hs) => hs.map((v) => memberOf[v])),
    totalStake: members.reduce((a, m) => a + m.stake, 0n),
  };
}
