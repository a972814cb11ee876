import { keccak256 } from "@zgnode/crypto";
import { bytesToHex, CodedError, type Hex } from "@zgnode/utils";
import { ConsensusErrorCode } from "./errors.ts";

/**
 * CometBFT bounds total power so priorities (which live within a window of 2x total power, plus one increment)
 * never overflow; our priorities are JS numbers, so the bound keeps them exact integers (< 2^53).
 */
export const MAX_TOTAL_VOTING_POWER = 2 ** 48;
/** Priorities are rescaled so max - min stays within this many times the total power (CometBFT's value). */
const PRIORITY_WINDOW_SIZE_FACTOR = 2;

export interface Validator {
  /** 48-byte compressed BLS12-381 public key. */
  publicKey: Uint8Array;
  /** keccak256(publicKey)[12:], used for ordering ties and in evidence. */
  address: Hex;
  power: number;
  proposerPriority: number;
}

export interface ValidatorUpdate {
  publicKey: Uint8Array;
  /** 0 removes the validator. */
  power: number;
}

export function validatorAddress(publicKey: Uint8Array): Hex {
  return bytesToHex(keccak256(publicKey).subarray(12));
}

/**
 * A validator set with CometBFT's weighted round-robin proposer selection (types/validator_set.go): each increment
 * adds every validator's power to its priority, the highest priority proposes (ties to the lower address) and pays
 * back the total power. Before each batch of increments priorities are rescaled into a 2x-total window and centred
 * on their average, exactly as CometBFT does, so proposer sequences match its algorithm.
 *
 * Instances are immutable: `copyIncremented` returns a new set.
 */
export class ValidatorSet {
  readonly validators: readonly Validator[];
  readonly totalPower: number;
  private readonly proposerIndex: number;
  private readonly indexByKey: Map<string, number>;

  private constructor(validators: Validator[], proposerIndex: number) {
    this.validators = validators;
    this.totalPower = validators.reduce((s, v) => s + v.power, 0);
    this.proposerIndex = proposerIndex;
    this.indexByKey = new Map(validators.map((v, i) => [bytesToHex(v.publicKey), i]));
  }

  /** A new set from genesis entries: priorities start equal (0 after centring) and one increment picks the proposer. */
  static create(entries: ValidatorUpdate[]): ValidatorSet {
    const seen = new Set<string>();
    const vals: Validator[] = [];
    for (const e of entries) {
      checkPower(e.power);
      if (e.power === 0) continue;
      const key = bytesToHex(e.publicKey);
      if (seen.has(key)) throw new CodedError(ConsensusErrorCode.INVALID_VALIDATOR_SET, `duplicate validator ${key}`);
      seen.add(key);
      vals.push({ publicKey: e.publicKey, address: validatorAddress(e.publicKey), power: e.power, proposerPriority: 0 });
    }
    if (vals.length === 0) throw new CodedError(ConsensusErrorCode.INVALID_VALIDATOR_SET, "validator set is empty");
    sortByPower(vals);
    checkTotal(vals);
    return new ValidatorSet(vals, -1).copyIncremented(1);
  }

  get size(): number {
    return this.validators.length;
  }

  get proposer(): Validator {
    return this.validators[this.proposerIndex];
  }

  get proposerIdx(): number {
    return this.proposerIndex;
  }

  indexOf(publicKey: Uint8Array): number {
    return this.indexByKey.get(bytesToHex(publicKey)) ?? -1;
  }

  /** More than 2/3 of the total power. */
  hasQuorum(power: number): boolean {
    return 3 * power > 2 * this.totalPower;
  }

  /** More than 1/3 of the total power: at least one honest validator is among them. */
  hasOneThird(power: number): boolean {
    return 3 * power > this.totalPower;
  }

  /** The set after `times` proposer rounds (one per consensus round, one per height). */
  copyIncremented(times: number): ValidatorSet {
    if (!Number.isInteger(times) || times < 1) throw new RangeError("times must be a positive integer");
    const vals = this.validators.map((v) => ({ ...v }));
    const total = this.totalPower;
    rescalePriorities(vals, PRIORITY_WINDOW_SIZE_FACTOR * total);
    shiftByAveragePriority(vals);
    let proposer = -1;
    for (let t = 0; t < times; t++) {
      for (const v of vals) v.proposerPriority += v.power;
      proposer = 0;
      for (let i = 1; i < vals.length; i++) if (morePriority(vals[i], vals[proposer])) proposer = i;
      vals[proposer].proposerPriority -= total;
    }
    return new ValidatorSet(vals, proposer);
  }

  /**
   * Applies staking changes (CometBFT updateWithChangeSet, simplified to one pass): updated validators keep their
   * priority, new ones start at -1.125 x the new total so they cannot propose at once, removed ones go; then the
   * priorities are rescaled and centred. The result has no proposer yet: call `copyIncremented(1)`.
   */
  withUpdates(updates: ValidatorUpdate[]): ValidatorSet {
    const byKey = new Map(this.validators.map((v) => [bytesToHex(v.publicKey), { ...v }]));
    const added = new Set<string>();
    for (const u of updates) {
      checkPower(u.power);
      const key = bytesToHex(u.publicKey);
      const cur = byKey.get(key);
      if (u.power === 0) {
        byKey.delete(key);
      } else if (cur) {
        cur.power = u.power;
      } else {
        byKey.set(key, { publicKey: u.publicKey, address: validatorAddress(u.publicKey), power: u.power, proposerPriority: 0 });
        added.add(key);
      }
    }
    const vals = [...byKey.values()];
    if (vals.length === 0) throw new CodedError(ConsensusErrorCode.INVALID_VALIDATOR_SET, "update removes every validator");
    checkTotal(vals);
    const total = vals.reduce((s, v) => s + v.power, 0);
    for (const v of vals) if (added.has(bytesToHex(v.publicKey))) v.proposerPriority = -(total + Math.floor(total / 8));
    rescalePriorities(vals, PRIORITY_WINDOW_SIZE_FACTOR * total);
    shiftByAveragePriority(vals);
    sortByPower(vals);
    return new ValidatorSet(vals, -1).copyIncremented(1);
  }
}

function checkPower(power: number): void {
  if (!Number.isSafeInteger(power) || power < 0)
    throw new CodedError(ConsensusErrorCode.INVALID_VALIDATOR_SET, `invalid voting power ${power}`);
}

function checkTotal(vals: Validator[]): void {
  const total = vals.reduce((s, v) => s + v.power, 0);
  if (total > MAX_TOTAL_VOTING_POWER)
    throw new CodedError(
      ConsensusErrorCode.INVALID_VALIDATOR_SET,
      `total voting power ${total} exceeds ${MAX_TOTAL_VOTING_POWER}`,
    );
}

function sortByPower(vals: Validator[]): void {
  vals.sort((a, b) => b.power - a.power || (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}

function morePriority(a: Validator, b: Validator): boolean {
  if (a.proposerPriority !== b.proposerPriority) return a.proposerPriority > b.proposerPriority;
  return a.address < b.address;
}

function rescalePriorities(vals: Validator[], diffMax: number): void {
  if (diffMax <= 0) return;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of vals) {
    min = Math.min(min, v.proposerPriority);
    max = Math.max(max, v.proposerPriority);
  }
  const diff = max - min;
  if (diff > diffMax) {
    const ratio = Math.ceil(diff / diffMax);
    // Go's integer division truncates toward zero.
    for (const v of vals) v.proposerPriority = Math.trunc(v.proposerPriority / ratio);
  }
}

function shiftByAveragePriority(vals: Validator[]): void {
  const sum = vals.reduce((s, v) => s + v.proposerPriority, 0);
  // big.Int.Div is Euclidean: floor for a positive divisor.
  const avg = Math.floor(sum / vals.length);
  for (const v of vals) v.proposerPriority -= avg;
}
