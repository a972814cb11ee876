import { withDefaults } from "@zgnode/utils";
import { type ConsensusEngineOptions, defaultConsensusEngineOptions } from "./options.ts";
import {
  type BlockId,
  type EngineInput,
  type EngineOutput,
  type Proposal,
  Step,
  type Timeout,
  type Vote,
  VoteType,
} from "./types.ts";
import type { ValidatorSet } from "./validators.ts";
import { RoundVotes } from "./voteSet.ts";

/** Decides whether a proposed block is valid. Must be pure and deterministic (the WAL replays through it). */
export type ProposalValidator = (proposal: Proposal) => boolean;

/**
 * The Tendermint consensus algorithm (Buchman, Kwon, Milosevic 2018, arXiv:1807.04938, Algorithm 1) as a pure
 * state machine: `handle(input)` consumes one message or timer event and returns what to do next. It does no I/O,
 * reads no clock and draws no random numbers, so a run is a function of its inputs: the WAL replays it after a
 * crash, and the simulation tests drive thousands of seeded runs of it.
 *
 * Signatures are the driver's job: inputs arrive authenticated (the driver verifies signatures and membership);
 * the engine's own messages leave as `signVote`/`signProposal` requests and come back signed as ordinary inputs.
 * Line numbers in comments refer to Algorithm 1 of the paper.
 */
export class ConsensusEngine {
  readonly opts: ConsensusEngineOptions;
  private readonly validate: ProposalValidator;

  height = 0;
  round = 0;
  step: Step = Step.COMMIT;
  /** Set once the height's newHeight timer fired (round 0 started). */
  private started = false;
  private validators: ValidatorSet | undefined;
  private selfIndex: number | null = null;

  lockedRound = -1;
  lockedValue: Proposal | null = null;
  validRound = -1;
  validValue: Proposal | null = null;

  private votes = new Map<number, RoundVotes>();
  private proposals = new Map<number, Proposal[]>();
  private validity = new Map<BlockId, boolean>();
  private setsByRound = new Map<number, ValidatorSet>();
  /** Per-round "for the first time" guards of lines 34, 36 and 47, and whether we already proposed. */
  private prevoteTimerSet = new Set<number>();
  private polcSeen = new Set<number>();
  private precommitTimerSet = new Set<number>();
  private proposed = new Set<number>();
  private future: EngineInput[] = [];
  private evidenceSeen = new Set<string>();

  constructor(validate: ProposalValidator, opts?: Partial<ConsensusEngineOptions>) {
    this.validate = validate;
    this.opts = withDefaults(defaultConsensusEngineOptions, opts);
  }

  get validatorSet(): ValidatorSet {
    if (!this.validators) throw new Error("engine not started");
    return this.validators;
  }

  get decided(): boolean {
    return this.step === Step.COMMIT;
  }

  /**
   * Enters `height` with its validator set (proposer priorities as of round 0). `selfIndex` is our index in the set,
   * or null for a full node that follows without voting. Round 0 starts when the returned newHeight timer fires.
   * Then feed `takeEarlyInputs()` back in.
   */
  startHeight(height: number, validators: ValidatorSet, selfIndex: number | null): EngineOutput[] {
    this.height = height;
    this.round = 0;
    this.step = Step.PROPOSE;
    this.started = false;
    this.validators = validators;
    this.selfIndex = selfIndex;
    this.lockedRound = -1;
    this.lockedValue = null;
    this.validRound = -1;
    this.validValue = null;
    this.votes = new Map();
    this.proposals = new Map();
    this.validity = new Map();
    this.setsByRound = new Map([[0, validators]]);
    this.prevoteTimerSet = new Set();
    this.polcSeen = new Set();
    this.precommitTimerSet = new Set();
    this.proposed = new Set();
    this.evidenceSeen = new Set();
    const out: EngineOutput[] = [
      { type: "scheduleTimeout", timeout: { height, round: 0, step: "newHeight" }, durationMs: this.opts.timeouts.commitMs },
      {
        type: "scheduleTimeout",
        timeout: { height, round: 0, step: "rebroadcast" },
        durationMs: this.opts.timeouts.rebroadcastMs,
      },
    ];
    return out;
  }

  /**
   * Messages for this height that arrived early. The driver feeds them back through its normal input path right
   * after `startHeight`, so they land in the WAL of this height and a replay sees exactly what the engine saw.
   */
  takeEarlyInputs(): EngineInput[] {
    const early = this.future.filter((i) => inputHeight(i) === this.height);
    this.future = [];
    return early;
  }

  handle(input: EngineInput): EngineOutput[] {
    const out: EngineOutput[] = [];
    if (!this.validators) return out;
    switch (input.type) {
      case "proposal":
        this.onProposal(input.proposal, input, out);
        break;
      case "vote":
        this.onVote(input.vote, input, out);
        break;
      case "timeout":
        this.onTimeout(input.timeout, out);
        break;
      case "blockBuilt":
        if (
          input.height === this.height &&
          input.round === this.round &&
          this.step === Step.PROPOSE &&
          this.isProposer(this.round) &&
          !this.proposed.has(this.round)
        ) {
          this.proposed.add(this.round);
          out.push({ type: "signProposal", proposal: this.newProposal(this.round, -1, input.blockId, input.payload) });
        }
        break;
    }
    this.process(out);
    return out;
  }

  /** A summary of the last rounds, for debugging stuck runs. */
  debugRound(): Record<string, unknown> {
    const rounds: Record<string, unknown> = {};
    for (const r of [this.round - 2, this.round - 1, this.round]) {
      const rv = this.votes.get(r);
      if (!rv) continue;
      const fmt = (vs: typeof rv.prevotes) => [...vs.tallies()].map(([id, p]) => `${id?.slice(0, 8) ?? "nil"}:${p}`).join(" ");
      rounds[r] = {
        proposer: this.proposerIndex(r),
        proposals: this.proposals.get(r)?.map((p) => `${p.blockId.slice(0, 8)}@${p.polRound}`),
        prevotes: fmt(rv.prevotes),
        precommits: fmt(rv.precommits),
      };
    }
    return rounds;
  }

  /** The proposer of `round` at the current height. */
  proposerIndex(round: number): number {
    return this.setForRound(round).proposerIdx;
  }

  private setForRound(round: number): ValidatorSet {
    let set = this.setsByRound.get(round);
    if (!set) {
      set = this.validatorSet.copyIncremented(round);
      this.setsByRound.set(round, set);
    }
    return set;
  }

  private isProposer(round: number): boolean {
    return this.selfIndex !== null && this.proposerIndex(round) === this.selfIndex;
  }

  private roundVotes(round: number): RoundVotes {
    let rv = this.votes.get(round);
    if (!rv) {
      rv = new RoundVotes();
      this.votes.set(round, rv);
    }
    return rv;
  }

  private isValid(p: Proposal): boolean {
    let ok = this.validity.get(p.blockId);
    if (ok === undefined) {
      ok = this.validate(p);
      this.validity.set(p.blockId, ok);
    }
    return ok;
  }

  /** Returns true when the message belongs to the current height; buffers or notes later heights. */
  private admitHeight(height: number, sender: number, input: EngineInput, out: EngineOutput[]): boolean {
    if (height === this.height) return true;
    if (height > this.height) {
      if (height === this.height + 1 && this.future.length < this.opts.maxFutureMessages) this.future.push(input);
      // Emitted for every such message: the driver rate-limits sync requests (a lost request must be retried).
      out.push({ type: "peerAhead", height, validatorIndex: sender });
    }
    return false;
  }

  private onProposal(p: Proposal, input: EngineInput, out: EngineOutput[]): void {
    if (!this.admitHeight(p.height, p.proposerIndex, input, out)) return;
    if (p.round < 0 || p.round > this.round + this.opts.maxRoundsAhead) return;
    if (p.polRound < -1 || p.polRound >= p.round) return;
    if (p.proposerIndex !== this.proposerIndex(p.round)) return;
    const list = this.proposals.get(p.round) ?? [];
    if (list.some((q) => q.blockId === p.blockId) || list.length >= this.opts.maxProposalsPerRound) return;
    list.push(p);
    this.proposals.set(p.round, list);
  }

  private onVote(v: Vote, input: EngineInput, out: EngineOutput[]): void {
    if (!this.admitHeight(v.height, v.validatorIndex, input, out)) return;
    const set = this.validatorSet;
    if (v.validatorIndex < 0 || v.validatorIndex >= set.size) return;
    if (v.round < 0 || v.round > this.round + this.opts.maxRoundsAhead) return;
    const power = set.validators[v.validatorIndex].power;
    const rv = this.roundVotes(v.round);
    const vs = v.type === VoteType.PREVOTE ? rv.prevotes : rv.precommits;
    const res = vs.add(v, power);
    if (res.conflict) {
      const key = `${v.validatorIndex}/${v.round}/${v.type}`;
      if (!this.evidenceSeen.has(key)) {
        this.evidenceSeen.add(key);
        out.push({ type: "evidence", evidence: { voteA: res.conflict, voteB: v } });
      }
    }
    if (res.added) rv.noteSender(v.validatorIndex, power);
  }

  private onTimeout(t: Timeout, out: EngineOutput[]): void {
    if (t.height !== this.height) return;
    switch (t.step) {
      case "newHeight":
        if (!this.started) {
          this.started = true;
          this.startRound(0, out);
        }
        return;
      case "rebroadcast":
        if (this.decided) return;
        this.rebroadcast(out);
        out.push({
          type: "scheduleTimeout",
          timeout: { height: this.height, round: this.round, step: "rebroadcast" },
          durationMs: this.opts.timeouts.rebroadcastMs,
        });
        return;
      case "propose": // line 57
        if (this.started && t.round === this.round && this.step === Step.PROPOSE) this.prevote(null, out);
        return;
      case "prevote": // line 61
        if (this.started && t.round === this.round && this.step === Step.PREVOTE) this.precommit(null, out);
        return;
      case "precommit": // line 65
        if (this.started && t.round === this.round && !this.decided) this.startRound(this.round + 1, out);
        return;
    }
  }

  private startRound(round: number, out: EngineOutput[]): void {
    this.round = round;
    this.step = Step.PROPOSE;
    const t = this.opts.timeouts;
    if (this.isProposer(round) && !this.proposed.has(round)) {
      if (this.validValue) {
        this.proposed.add(round);
        const v = this.validValue;
        out.push({ type: "signProposal", proposal: this.newProposal(round, this.validRound, v.blockId, v.payload) });
      } else {
        out.push({ type: "buildBlock", height: this.height, round });
      }
    }
    out.push({
      type: "scheduleTimeout",
      timeout: { height: this.height, round, step: "propose" },
      durationMs: t.proposeMs + round * t.proposeDeltaMs,
    });
  }

  private newProposal(round: number, polRound: number, blockId: BlockId, payload: Uint8Array): Proposal {
    const proposerIndex = this.selfIndex as number;
    return { height: this.height, round, polRound, blockId, payload, proposerIndex, signature: new Uint8Array(0) };
  }

  private prevote(blockId: BlockId | null, out: EngineOutput[]): void {
    this.step = Step.PREVOTE;
    this.sendVote(VoteType.PREVOTE, blockId, out);
  }

  private precommit(blockId: BlockId | null, out: EngineOutput[]): void {
    this.step = Step.PRECOMMIT;
    this.sendVote(VoteType.PRECOMMIT, blockId, out);
  }

  private sendVote(type: VoteType, blockId: BlockId | null, out: EngineOutput[]): void {
    if (this.selfIndex === null) return;
    const vote: Vote = {
      type,
      height: this.height,
      round: this.round,
      blockId,
      validatorIndex: this.selfIndex,
      signature: new Uint8Array(0),
    };
    out.push({ type: "signVote", vote });
  }

  private findProposal(round: number, blockId: BlockId): Proposal | undefined {
    return this.proposals.get(round)?.find((p) => p.blockId === blockId);
  }

  private findAnyProposal(blockId: BlockId): Proposal | undefined {
    for (const list of this.proposals.values()) {
      const p = list.find((q) => q.blockId === blockId);
      if (p) return p;
    }
    return undefined;
  }

  /** Evaluates the "upon" rules until none fires, so the order inputs arrived in does not matter. */
  private process(out: EngineOutput[]): void {
    if (!this.started || this.decided) return;
    const set = this.validatorSet;
    for (let guard = 0; guard < 1000; guard++) {
      // Line 49: a proposal and > 2/3 precommits for it in any round decide the height.
      for (const [r, rv] of this.votes) {
        for (const [blockId, power] of rv.precommits.tallies()) {
          if (blockId === null || !set.hasQuorum(power)) continue;
          const p = this.findAnyProposal(blockId);
          if (p && this.isValid(p)) {
            this.step = Step.COMMIT;
            out.push({ type: "commit", height: this.height, round: r, proposal: p, precommits: rv.precommits.votesFor(blockId) });
            return;
          }
        }
      }
      // Line 55: > 1/3 of the stake is already in a later round: skip to it.
      let skipTo = -1;
      for (const [r, rv] of this.votes) if (r > this.round && set.hasOneThird(rv.senderPower) && r > skipTo) skipTo = r;
      if (skipTo > this.round) {
        this.startRound(skipTo, out);
        continue;
      }
      if (!this.applyRoundRules(out)) return;
    }
  }

  /** Lines 22-47 for the current round; returns true when the state changed. */
  private applyRoundRules(out: EngineOutput[]): boolean {
    const set = this.validatorSet;
    const r = this.round;
    const rv = this.roundVotes(r);
    const first = this.proposals.get(r)?.[0];
    if (this.step === Step.PROPOSE && first) {
      if (first.polRound === -1) {
        // Line 22.
        const ok = this.isValid(first) && (this.lockedRound === -1 || this.lockedValue?.blockId === first.blockId);
        this.prevote(ok ? first.blockId : null, out);
        return true;
      }
      const pol = this.votes.get(first.polRound);
      if (pol && set.hasQuorum(pol.prevotes.powerFor(first.blockId))) {
        // Line 28: the proposal carries a proof of lock from a round we may have missed (unlock rule).
        const ok = this.isValid(first) && (this.lockedRound <= first.polRound || this.lockedValue?.blockId === first.blockId);
        this.prevote(ok ? first.blockId : null, out);
        return true;
      }
    }
    if (this.step === Step.PREVOTE && !this.prevoteTimerSet.has(r) && set.hasQuorum(rv.prevotes.totalPower)) {
      // Line 34.
      this.prevoteTimerSet.add(r);
      const t = this.opts.timeouts;
      out.push({
        type: "scheduleTimeout",
        timeout: { height: this.height, round: r, step: "prevote" },
        durationMs: t.prevoteMs + r * t.prevoteDeltaMs,
      });
      return true;
    }
    if (this.step >= Step.PREVOTE && !this.polcSeen.has(r)) {
      for (const [blockId, power] of rv.prevotes.tallies()) {
        if (blockId === null || !set.hasQuorum(power)) continue;
        const p = this.findProposal(r, blockId);
        if (!p || !this.isValid(p)) continue;
        // Line 36: a proof of lock in this round.
        this.polcSeen.add(r);
        if (this.step === Step.PREVOTE) {
          this.lockedValue = p;
          this.lockedRound = r;
          this.precommit(blockId, out);
        }
        this.validValue = p;
        this.validRound = r;
        return true;
      }
    }
    if (this.step === Step.PREVOTE && set.hasQuorum(rv.prevotes.powerFor(null))) {
      // Line 44.
      this.precommit(null, out);
      return true;
    }
    if (!this.precommitTimerSet.has(r) && set.hasQuorum(rv.precommits.totalPower)) {
      // Line 47.
      this.precommitTimerSet.add(r);
      const t = this.opts.timeouts;
      out.push({
        type: "scheduleTimeout",
        timeout: { height: this.height, round: r, step: "precommit" },
        durationMs: t.precommitMs + r * t.precommitDeltaMs,
      });
      return true;
    }
    return false;
  }

  /**
   * Own signed votes of this and the previous round, the proposals a lagging peer needs, and the prevotes that
   * prove the lock those proposals carry (CometBFT gossips a proposal's POL prevotes for the same reason: without
   * them a peer that missed the proof of lock can never accept the re-proposed value).
   */
  private rebroadcast(out: EngineOutput[]): void {
    const votes: Vote[] = [];
    const proposals: Proposal[] = [];
    if (this.selfIndex !== null) {
      for (const r of [this.round - 1, this.round]) {
        const rv = this.votes.get(r);
        if (!rv) continue;
        const pv = rv.prevotes.votes.get(this.selfIndex);
        const pc = rv.precommits.votes.get(this.selfIndex);
        if (pv) votes.push(pv);
        if (pc) votes.push(pc);
      }
    }
    const current = this.proposals.get(this.round)?.[0];
    if (current) proposals.push(current);
    if (this.validValue && this.validValue !== current) proposals.push(this.validValue);
    const proofs = new Map<number, BlockId>();
    if (this.validValue) proofs.set(this.validRound, this.validValue.blockId);
    if (current && current.polRound >= 0) proofs.set(current.polRound, current.blockId);
    for (const [r, blockId] of proofs) {
      const pol = this.votes.get(r)?.prevotes;
      if (pol && this.validatorSet.hasQuorum(pol.powerFor(blockId))) {
        for (const v of pol.votesFor(blockId)) if (!votes.includes(v)) votes.push(v);
      }
    }
    if (votes.length > 0 || proposals.length > 0) out.push({ type: "rebroadcast", proposals, votes });
  }
}

/** The height an engine input belongs to. */
export function inputHeight(input: EngineInput): number {
  switch (input.type) {
    case "proposal":
      return input.proposal.height;
    case "vote":
      return input.vote.height;
    case "timeout":
      return input.timeout.height;
    case "blockBuilt":
      return input.height;
  }
}
