import type { BlockId, Vote } from "./types.ts";

const NIL = "nil";
/** Distinct values one validator may be counted for in one vote set: bounds memory under equivocation spam. */
const MAX_VALUES_PER_VALIDATOR = 3;

/**
 * The votes of one type in one round at one height, tallied by stake.
 *
 * As in the paper, "2f+1 PREVOTE for v" counts distinct validators that signed a vote for v, so a validator that
 * equivocates is counted once for each value it signed. That is safe (each such vote is a real signed message for
 * that value; quorum intersection is per value) and it is what keeps the network live: an honest node that saw an
 * equivocator's other vote first can still recognise a proof of lock relayed by a peer. `totalPower` (for the
 * "any 2f+1" rules) counts each validator once. A second, different vote is reported as a conflict (evidence).
 */
export class VoteSet {
  /** The first vote of each validator. */
  readonly votes = new Map<number, Vote>();
  private readonly byValue = new Map<string, Map<number, Vote>>();
  private readonly powerByValue = new Map<string, number>();
  private readonly valuesPerValidator = new Map<number, number>();
  totalPower = 0;

  /** `added` is false for a duplicate; `conflict` is an earlier vote of the same validator for another value. */
  add(vote: Vote, power: number): { added: boolean; conflict?: Vote } {
    const key = vote.blockId ?? NIL;
    let forValue = this.byValue.get(key);
    if (forValue?.has(vote.validatorIndex)) return { added: false };
    const prev = this.votes.get(vote.validatorIndex);
    const count = this.valuesPerValidator.get(vote.validatorIndex) ?? 0;
    if (count >= MAX_VALUES_PER_VALIDATOR) return { added: false, conflict: prev };
    this.valuesPerValidator.set(vote.validatorIndex, count + 1);
    if (!forValue) {
      forValue = new Map();
      this.byValue.set(key, forValue);
    }
    forValue.set(vote.validatorIndex, vote);
    this.powerByValue.set(key, (this.powerByValue.get(key) ?? 0) + power);
    if (prev) return { added: true, conflict: prev };
    this.votes.set(vote.validatorIndex, vote);
    this.totalPower += power;
    return { added: true };
  }

  powerFor(blockId: BlockId | null): number {
    return this.powerByValue.get(blockId ?? NIL) ?? 0;
  }

  /** Values (block ids, or null for nil) in insertion order with their power. */
  *tallies(): Iterable<[BlockId | null, number]> {
    for (const [k, p] of this.powerByValue) yield [k === NIL ? null : (k as BlockId), p];
  }

  votesFor(blockId: BlockId | null): Vote[] {
    return [...(this.byValue.get(blockId ?? NIL)?.values() ?? [])];
  }
}

/** Prevotes and precommits of one round plus the set of validators that sent anything in it (for round skips). */
export class RoundVotes {
  readonly prevotes = new VoteSet();
  readonly precommits = new VoteSet();
  readonly senders = new Set<number>();
  senderPower = 0;

  noteSender(index: number, power: number): void {
    if (this.senders.has(index)) return;
    this.senders.add(index);
    this.senderPower += power;
  }
}
