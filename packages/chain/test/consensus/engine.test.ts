import { bytesToHex } from "@zgnode/utils";
import { describe, expect, it } from "vitest";
import { ConsensusEngine } from "../../src/consensus/engine.ts";
import { type BlockId, type EngineOutput, type Proposal, Step, type Vote, VoteType } from "../../src/consensus/types.ts";
import { ValidatorSet } from "../../src/consensus/validators.ts";

const id = (n: number): BlockId => bytesToHex(Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? n : 1)));
const key = (i: number) => Uint8Array.from({ length: 48 }, (_, j) => (j === 0 ? i + 1 : j));
const set = ValidatorSet.create([0, 1, 2, 3].map((i) => ({ publicKey: key(i), power: 10 })));
const INVALID = 0xff;

function engineFor(selfIndex: number | null) {
  const engine = new ConsensusEngine((p) => p.payload[0] !== INVALID);
  engine.startHeight(1, set, selfIndex);
  const out = engine.handle({ type: "timeout", timeout: { height: 1, round: 0, step: "newHeight" } });
  return { engine, out };
}

const vote = (type: VoteType, round: number, blockId: BlockId | null, validatorIndex: number): Vote => ({
  type,
  height: 1,
  round,
  blockId,
  validatorIndex,
  signature: Uint8Array.of(validatorIndex),
});

function proposal(round: number, blockId: BlockId, polRound = -1, valid = true, engine?: ConsensusEngine): Proposal {
  return {
    height: 1,
    round,
    polRound,
    blockId,
    payload: Uint8Array.of(valid ? 1 : INVALID),
    proposerIndex: engine ? engine.proposerIndex(round) : set.proposerIdx,
    signature: new Uint8Array(0),
  };
}

const ofType = <T extends EngineOutput["type"]>(outs: EngineOutput[], type: T) =>
  outs.filter((o): o is Extract<EngineOutput, { type: T }> => o.type === type);

/** Feeds votes from the given validators and returns all outputs. */
function feed(engine: ConsensusEngine, type: VoteType, round: number, blockId: BlockId | null, from: number[]) {
  return from.flatMap((i) => engine.handle({ type: "vote", vote: vote(type, round, blockId, i) }));
}

function selfVote(outs: EngineOutput[]): Vote | undefined {
  return ofType(outs, "signVote")[0]?.vote;
}

describe("ConsensusEngine", () => {
  it("as proposer: builds, proposes, prevotes, locks, precommits and commits with > 2/3 precommits", () => {
    const proposer = set.proposerIdx;
    const others = [0, 1, 2, 3].filter((i) => i !== proposer);
    const { engine, out } = engineFor(proposer);
    expect(ofType(out, "buildBlock")).toEqual([{ type: "buildBlock", height: 1, round: 0 }]);
    const built = engine.handle({ type: "blockBuilt", height: 1, round: 0, blockId: id(1), payload: Uint8Array.of(1) });
    const p = ofType(built, "signProposal")[0].proposal;
    expect(p).toMatchObject({ height: 1, round: 0, polRound: -1, blockId: id(1), proposerIndex: proposer });
    const afterProposal = engine.handle({ type: "proposal", proposal: { ...p, signature: Uint8Array.of(9) } });
    expect(selfVote(afterProposal)).toMatchObject({ type: VoteType.PREVOTE, blockId: id(1) });
    engine.handle({ type: "vote", vote: vote(VoteType.PREVOTE, 0, id(1), proposer) });
    const prevotes = feed(engine, VoteType.PREVOTE, 0, id(1), others.slice(0, 2));
    expect(selfVote(prevotes)).toMatchObject({ type: VoteType.PRECOMMIT, blockId: id(1) });
    expect(engine.lockedRound).toBe(0);
    engine.handle({ type: "vote", vote: vote(VoteType.PRECOMMIT, 0, id(1), proposer) });
    const precommits = feed(engine, VoteType.PRECOMMIT, 0, id(1), others.slice(0, 2));
    const commit = ofType(precommits, "commit")[0];
    expect(commit.proposal.blockId).toBe(id(1));
    expect(commit.precommits.map((v) => v.validatorIndex).sort()).toEqual([proposer, ...others.slice(0, 2)].sort());
    expect(engine.step).toBe(Step.COMMIT);
  });

  it("prevotes nil on an invalid proposal and on the propose timeout", () => {
    const self = (set.proposerIdx + 1) % 4;
    const a = engineFor(self).engine;
    expect(selfVote(a.handle({ type: "proposal", proposal: proposal(0, id(1), -1, false) }))?.blockId).toBeNull();
    const b = engineFor(self).engine;
    const t = b.handle({ type: "timeout", timeout: { height: 1, round: 0, step: "propose" } });
    expect(selfVote(t)).toMatchObject({ type: VoteType.PREVOTE, blockId: null });
  });

  it("keeps its lock against a fresh proposal and releases it only for a newer proof of lock", () => {
    // Pick a validator that is not the proposer of rounds 0-2, so all proposals come from outside.
    const probe = engineFor(null).engine;
    const proposers = [0, 1, 2].map((r) => probe.proposerIndex(r));
    const self = [0, 1, 2, 3].find((i) => !proposers.includes(i)) as number;
    const others = [0, 1, 2, 3].filter((i) => i !== self);
    const { engine } = engineFor(self);
    // Round 0: lock on A.
    engine.handle({ type: "proposal", proposal: proposal(0, id(1), -1, true, engine) });
    const pc = feed(engine, VoteType.PREVOTE, 0, id(1), others);
    expect(selfVote(pc)).toMatchObject({ type: VoteType.PRECOMMIT, blockId: id(1) });
    expect(engine.lockedValue?.blockId).toBe(id(1));
    // No decision in round 0: precommits nil from the others, then the precommit timeout.
    feed(engine, VoteType.PRECOMMIT, 0, null, others);
    engine.handle({ type: "timeout", timeout: { height: 1, round: 0, step: "precommit" } });
    expect(engine.round).toBe(1);
    // Round 1: a fresh proposal B; the locked node prevotes nil (line 22).
    const r1 = engine.handle({ type: "proposal", proposal: proposal(1, id(2), -1, true, engine) });
    expect(selfVote(r1)).toMatchObject({ round: 1, type: VoteType.PREVOTE, blockId: null });
    // Others prevote B in round 1 (a PoLC for B we observe while already past prevote)...
    feed(engine, VoteType.PREVOTE, 1, id(2), others);
    feed(engine, VoteType.PRECOMMIT, 1, null, others);
    engine.handle({ type: "timeout", timeout: { height: 1, round: 1, step: "precommit" } });
    expect(engine.round).toBe(2);
    // Round 2: B re-proposed with polRound 1: its proof of lock is newer than our lock, so we prevote B (line 28).
    const r2 = engine.handle({ type: "proposal", proposal: proposal(2, id(2), 1, true, engine) });
    expect(selfVote(r2)).toMatchObject({ round: 2, type: VoteType.PREVOTE, blockId: id(2) });
  });

  it("refuses a re-proposal whose proof of lock is older than its own lock", () => {
    const probe = engineFor(null).engine;
    const proposers = [0, 1, 2, 3].map((r) => probe.proposerIndex(r));
    const self = [0, 1, 2, 3].find((i) => !proposers.slice(0, 3).includes(i)) as number;
    const others = [0, 1, 2, 3].filter((i) => i !== self);
    const { engine } = engineFor(self);
    // Round 0: prevotes for A (a PoLC at round 0) arrive only after we prevoted nil by timeout.
    engine.handle({ type: "timeout", timeout: { height: 1, round: 0, step: "propose" } });
    feed(engine, VoteType.PRECOMMIT, 0, null, others);
    engine.handle({ type: "timeout", timeout: { height: 1, round: 0, step: "precommit" } });
    // Round 1: lock on B.
    engine.handle({ type: "proposal", proposal: proposal(1, id(2), -1, true, engine) });
    feed(engine, VoteType.PREVOTE, 1, id(2), others);
    expect(engine.lockedRound).toBe(1);
    feed(engine, VoteType.PRECOMMIT, 1, null, others);
    engine.handle({ type: "timeout", timeout: { height: 1, round: 1, step: "precommit" } });
    // Round 2: A with a proof of lock from round 0 (older than our lock at 1): prevote nil.
    feed(engine, VoteType.PREVOTE, 0, id(1), others);
    engine.handle({ type: "proposal", proposal: proposal(0, id(1), -1, true, engine) });
    const r2 = engine.handle({ type: "proposal", proposal: proposal(2, id(1), 0, true, engine) });
    expect(selfVote(r2)).toMatchObject({ round: 2, blockId: null });
  });

  it("skips to a later round when more than 1/3 of the stake is there", () => {
    const { engine } = engineFor(null);
    feed(engine, VoteType.PREVOTE, 5, null, [0]);
    expect(engine.round).toBe(0);
    feed(engine, VoteType.PRECOMMIT, 5, null, [1]);
    expect(engine.round).toBe(5);
  });

  it("reports equivocation once, as evidence naming both votes", () => {
    const { engine } = engineFor(null);
    const outs = [
      ...feed(engine, VoteType.PREVOTE, 0, id(1), [2]),
      ...feed(engine, VoteType.PREVOTE, 0, id(2), [2]),
      ...feed(engine, VoteType.PREVOTE, 0, id(2), [2]),
      ...feed(engine, VoteType.PREVOTE, 0, null, [2]),
    ];
    const ev = ofType(outs, "evidence");
    expect(ev).toHaveLength(1);
    expect(ev[0].evidence.voteA.blockId).toBe(id(1));
    expect(ev[0].evidence.voteB.blockId).toBe(id(2));
  });

  it("a full node (no validator index) decides without signing anything", () => {
    const { engine, out } = engineFor(null);
    const outs = [
      ...out,
      ...engine.handle({ type: "proposal", proposal: proposal(0, id(7)) }),
      ...feed(engine, VoteType.PREVOTE, 0, id(7), [0, 1, 2]),
      ...feed(engine, VoteType.PRECOMMIT, 0, id(7), [0, 1, 2]),
    ];
    expect(ofType(outs, "signVote")).toHaveLength(0);
    expect(ofType(outs, "commit")[0].proposal.blockId).toBe(id(7));
  });

  it("holds next-height messages and flags peers that are ahead", () => {
    const { engine } = engineFor(null);
    const outs = engine.handle({ type: "vote", vote: { ...vote(VoteType.PREVOTE, 0, id(1), 3), height: 2 } });
    expect(ofType(outs, "peerAhead")).toEqual([{ type: "peerAhead", height: 2, validatorIndex: 3 }]);
    engine.startHeight(2, set.copyIncremented(1), null);
    expect(engine.takeEarlyInputs()).toHaveLength(1);
  });
});
