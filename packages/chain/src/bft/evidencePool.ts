import { bytesToHex, type Hex } from "@zgnode/utils";
import { verifyDuplicateVoteEvidence } from "../consensus/certificate.ts";
import type { DuplicateVoteEvidence } from "../consensus/types.ts";
import { BftError, BftErrorCode } from "./errors.ts";
import { evidenceHash } from "./payload.ts";
import type { StakingValidatorSets } from "./validatorSets.ts";

/** Evidence older than this many heights is neither proposed nor accepted (its validator set may be gone). */
export const EVIDENCE_MAX_AGE = 5_000;

/**
 * Equivocation evidence waiting to be committed: found by this node's engine or received by gossip. Proposers put
 * pending evidence into their blocks; committed evidence leaves the pool (the staking contract ignores repeats
 * by evidence hash anyway, so a restart that forgets what was committed costs nothing but a no-op call).
 */
export class EvidencePool {
  private readonly chainId: bigint;
  private readonly sets: StakingValidatorSets;
  private readonly pending = new Map<Hex, DuplicateVoteEvidence>();
  private readonly committed = new Set<Hex>();

  constructor(chainId: bigint, sets: StakingValidatorSets) {
    this.chainId = chainId;
    this.sets = sets;
  }

  get size(): number {
    return this.pending.size;
  }

  /** Checks evidence against the validator set of its height. Throws BFT_INVALID_EVIDENCE. */
  async verify(ev: DuplicateVoteEvidence, atHeight: number): Promise<void> {
    const h = ev.voteA.height;
    if (h >= atHeight || h < atHeight - EVIDENCE_MAX_AGE)
      throw new BftError(BftErrorCode.INVALID_EVIDENCE, `evidence of height ${h} is not admissible at height ${atHeight}`);
    const set = await this.sets.setFor(h);
    try {
      verifyDuplicateVoteEvidence(this.chainId, set, ev);
    } catch (err) {
      throw new BftError(BftErrorCode.INVALID_EVIDENCE, (err as Error).message);
    }
  }

  /** Adds verified evidence (of `currentHeight`, the height being decided, or earlier); false if already known. */
  async add(ev: DuplicateVoteEvidence, currentHeight: number): Promise<boolean> {
    const id = bytesToHex(evidenceHash(ev));
    if (this.pending.has(id) || this.committed.has(id)) return false;
    // Admissible in the next block at the latest.
    await this.verify(ev, currentHeight + 1);
    this.pending.set(id, ev);
    return true;
  }

  /** Pending evidence admissible at `height`, oldest first. */
  forBlock(height: number, max: number): DuplicateVoteEvidence[] {
    const out: DuplicateVoteEvidence[] = [];
    for (const [id, ev] of this.pending) {
      if (ev.voteA.height < height - EVIDENCE_MAX_AGE) {
        this.pending.delete(id);
        continue;
      }
      if (out.length < max && ev.voteA.height < height) out.push(ev);
    }
    return out;
  }

  markCommitted(evidence: DuplicateVoteEvidence[]): void {
    for (const ev of evidence) {
      const id = bytesToHex(evidenceHash(ev));
      this.pending.delete(id);
      this.committed.add(id);
    }
  }

  isCommitted(ev: DuplicateVoteEvidence): boolean {
    return this.committed.has(bytesToHex(evidenceHash(ev)));
  }
}
