import { bytesToHex, isCodedError } from "@zgnode/utils";
import { ConsensusEngine } from "../../src/consensus/engine.ts";
import type { ConsensusTimeouts } from "../../src/consensus/options.ts";
import { checkSignRequest, type LastSignState, voteStep } from "../../src/consensus/privval.ts";
import {
  type BlockId,
  type EngineInput,
  type EngineOutput,
  type Proposal,
  Step,
  type Vote,
  VoteType,
} from "../../src/consensus/types.ts";
import { ValidatorSet } from "../../src/consensus/validators.ts";

/**
 * A deterministic in-process network for the consensus engine. Everything (delays, drops, partitions, crashes,
 * byzantine behaviour, block ids) comes from one seeded PRNG and virtual time, so a seed names a run exactly.
 *
 * Signatures are fake here (the engine never verifies them; the driver does); the real BLS signing, aggregation and
 * certificate path has its own tests. Privval's pure double-sign guard IS used for honest nodes, so a replay that
 * tried to sign something conflicting fails the run.
 */

/** mulberry32: small, fast, good enough for test schedules. */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type NodeKind = "honest" | "equivocator" | "silent";

interface CommittedBlock {
  proposal: Proposal;
  precommits: Vote[];
  round: number;
}

type NetMessage =
  | { kind: "proposal"; proposal: Proposal }
  | { kind: "vote"; vote: Vote }
  | { kind: "syncRequest"; from: number; height: number }
  | { kind: "syncResponse"; blocks: CommittedBlock[] };

type SimEvent =
  | { kind: "deliver"; to: number; msg: NetMessage }
  | { kind: "timer"; node: number; incarnation: number; input: EngineInput }
  | { kind: "crash"; node: number }
  | { kind: "restart"; node: number }
  | { kind: "heal" };

interface SimNode {
  index: number;
  kind: NodeKind;
  engine: ConsensusEngine;
  /** Next height to decide. */
  height: number;
  validators: ValidatorSet;
  committed: Map<number, CommittedBlock>;
  /** Inputs since the last end-height marker: the in-memory WAL. */
  wal: EngineInput[];
  lastSign: LastSignState | undefined;
  up: boolean;
  incarnation: number;
  /** Virtual time of the last sync request (requests are rate-limited, and retried if lost). */
  syncPending: number;
}

export interface SimScenario {
  seed: number;
  powers: number[];
  kinds: NodeKind[];
  minDelayMs: number;
  maxDelayMs: number;
  /** Drop probability while faults are active. */
  dropRate: number;
  /** Groups of node indices that cannot talk to each other until the heal; empty for none. */
  partition: number[][];
  healAtMs: number;
  /** Honest nodes that crash during the faulty phase and restart (replaying their WAL) before the heal. */
  crashes: { node: number; atMs: number; downMs: number }[];
  targetHeight: number;
  /** Stake changes (honest validators only gain stake, so the faulty share stays below 1/3) taking effect at a height. */
  powerChanges: { height: number; node: number; power: number }[];
}

export interface SimResult {
  seed: number;
  safetyViolations: string[];
  liveness: boolean;
  heights: number[];
  endTimeMs: number;
  events: number;
  evidence: number;
  falseEvidence: number;
  rounds: number;
}

export const simTimeouts: ConsensusTimeouts = {
  proposeMs: 40,
  proposeDeltaMs: 20,
  prevoteMs: 15,
  prevoteDeltaMs: 10,
  precommitMs: 15,
  precommitDeltaMs: 10,
  commitMs: 5,
  rebroadcastMs: 60,
};

/** Builds a random scenario from a seed: 4-7 validators, < 1/3 of the stake faulty, random network faults. */
export function randomScenario(seed: number, opts: { faultyStake?: "under" | "over" } = {}): SimScenario {
  const rng = createRng(seed ^ 0x9e3779b9);
  const n = 4 + Math.floor(rng() * 4);
  const equalPower = rng() < 0.4;
  const powers = Array.from({ length: n }, () => (equalPower ? 10 : 1 + Math.floor(rng() * 10)));
  const total = powers.reduce((a, b) => a + b, 0);
  const kinds: NodeKind[] = powers.map(() => "honest");
  const order = Array.from({ length: n }, (_, i) => i).sort(() => rng() - 0.5);
  let faulty = 0;
  if (opts.faultyStake === "over") {
    // Byzantine stake >= 1/3: the checker must be able to catch the resulting forks.
    for (const i of order) {
      if (3 * faulty >= total) break;
      kinds[i] = "equivocator";
      faulty += powers[i];
    }
  } else {
    for (const i of order) {
      if (rng() < 0.5) continue;
      if (3 * (faulty + powers[i]) >= total) continue;
      kinds[i] = rng() < 0.7 ? "equivocator" : "silent";
      faulty += powers[i];
    }
  }
  const healAtMs = 100 + Math.floor(rng() * 1500);
  const honest = kinds.flatMap((k, i) => (k === "honest" ? [i] : []));
  let partition: number[][] = [];
  if (rng() < 0.5) {
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < n; i++) (rng() < 0.5 ? a : b).push(i);
    if (a.length > 0 && b.length > 0) partition = [a, b];
  }
  const crashes: SimScenario["crashes"] = [];
  if (rng() < 0.3) {
    const node = honest[Math.floor(rng() * honest.length)];
    const atMs = Math.floor(rng() * healAtMs);
    crashes.push({ node, atMs, downMs: 1 + Math.floor(rng() * Math.max(1, healAtMs - atMs)) });
  }
  const minDelayMs = 1 + Math.floor(rng() * 4);
  const powerChanges: SimScenario["powerChanges"] = [];
  if (rng() < 0.4) {
    const node = honest[Math.floor(rng() * honest.length)];
    powerChanges.push({ height: 2 + Math.floor(rng() * 3), node, power: powers[node] + 1 + Math.floor(rng() * 15) });
  }
  return {
    powerChanges,
    seed,
    powers,
    kinds,
    minDelayMs,
    maxDelayMs: minDelayMs + 2 + Math.floor(rng() * 30),
    dropRate: rng() < 0.5 ? 0 : rng() * 0.4,
    partition,
    healAtMs,
    crashes,
    targetHeight: 3 + Math.floor(rng() * 3),
  };
}

/** A binary min-heap of events ordered by (time, insertion sequence). */
class EventQueue {
  private heap: { t: number; seq: number; ev: SimEvent }[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(t: number, ev: SimEvent): void {
    const h = this.heap;
    h.push({ t, seq: this.seq++, ev });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(h[p], h[i])) break;
      [h[p], h[i]] = [h[i], h[p]];
      i = p;
    }
  }

  pop(): { t: number; ev: SimEvent } | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop() as (typeof h)[number];
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l], h[m])) m = l;
        if (r < h.length && less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
    return top;
  }
}

function less(a: { t: number; seq: number }, b: { t: number; seq: number }): boolean {
  return a.t < b.t || (a.t === b.t && a.seq < b.seq);
}

const INVALID_MARK = 0xff;

export function runSimulation(
  sc: SimScenario,
  opts: { maxVirtualMs?: number; maxEvents?: number; debug?: boolean } = {},
): SimResult {
  const rng = createRng(sc.seed);
  const maxVirtualMs = opts.maxVirtualMs ?? sc.healAtMs + 60_000;
  const maxEvents = opts.maxEvents ?? 400_000;
  const n = sc.powers.length;
  const keys = sc.powers.map((_, i) => Uint8Array.from({ length: 48 }, (_, j) => (j === 0 ? i + 1 : (i * 31 + j) & 0xff)));
  const genesisSet = ValidatorSet.create(sc.powers.map((power, i) => ({ publicKey: keys[i], power })));
  // The validator set of each height, as every node's chain would compute it: one proposer increment per height,
  // with stake changes applied at their height (which can reorder the power-sorted indices).
  const sets = new Map<number, ValidatorSet>([[1, genesisSet]]);
  const setFor = (height: number): ValidatorSet => {
    let set = sets.get(height);
    if (!set) {
      const prev = setFor(height - 1);
      const changes = sc.powerChanges.filter((c) => c.height === height);
      set = changes.length
        ? prev.withUpdates(changes.map((c) => ({ publicKey: keys[c.node], power: c.power })))
        : prev.copyIncremented(1);
      sets.set(height, set);
    }
    return set;
  };
  const setIndexAt = (node: number, height: number) => setFor(height).indexOf(keys[node]);
  const nodeOfIndexAt = (index: number, height: number): number | undefined => {
    const v = setFor(height).validators[index];
    if (!v) return undefined;
    const node = keys.indexOf(v.publicKey as (typeof keys)[number]);
    return node >= 0 ? node : undefined;
  };
  const queue = new EventQueue();
  let now = 0;
  let healed = false;
  const safetyViolations: string[] = [];
  const decidedAt = new Map<number, BlockId>();
  let evidence = 0;
  let falseEvidence = 0;
  let maxRound = 0;

  const validate = (p: Proposal) => p.payload[0] !== INVALID_MARK;
  const newEngine = () => new ConsensusEngine(validate, { timeouts: simTimeouts });

  const nodes: SimNode[] = sc.kinds.map((kind, i) => ({
    index: i,
    kind,
    engine: newEngine(),
    height: 1,
    validators: genesisSet,
    committed: new Map(),
    wal: [],
    lastSign: undefined,
    up: kind !== "silent",
    incarnation: 0,
    syncPending: Number.NEGATIVE_INFINITY,
  }));

  const randomId = (): BlockId => bytesToHex(Uint8Array.from({ length: 32 }, () => Math.floor(rng() * 256)));

  const cut = (from: number, to: number): boolean => {
    if (healed || sc.partition.length === 0) return false;
    const g = sc.partition.findIndex((grp) => grp.includes(from));
    return !sc.partition[g].includes(to);
  };

  const send = (from: number, to: number, msg: NetMessage): void => {
    if (from === to) return;
    if (!healed && (cut(from, to) || rng() < sc.dropRate)) return;
    let delay = sc.minDelayMs + rng() * (sc.maxDelayMs - sc.minDelayMs);
    if (!healed && rng() < 0.05) delay *= 5; // occasional straggler: reordering
    queue.push(now + delay, { kind: "deliver", to, msg });
  };

  const broadcast = (from: number, msg: NetMessage): void => {
    for (let to = 0; to < n; to++) send(from, to, msg);
  };

  const recordCommit = (node: SimNode, block: CommittedBlock): void => {
    const h = block.proposal.height;
    node.committed.set(h, block);
    if (node.kind !== "honest") return;
    if (block.proposal.payload[0] === INVALID_MARK)
      safetyViolations.push(`node ${node.index} committed an invalid block at ${h}`);
    const prev = decidedAt.get(h);
    if (prev === undefined) decidedAt.set(h, block.proposal.blockId);
    else if (prev !== block.proposal.blockId)
      safetyViolations.push(`height ${h}: node ${node.index} committed ${block.proposal.blockId}, others ${prev}`);
  };

  const startHeight = (node: SimNode, height: number): void => {
    node.height = height;
    node.wal = [];
    node.validators = setFor(height);
    process(node, node.engine.startHeight(height, node.validators, setIndexAt(node.index, height)));
    for (const early of node.engine.takeEarlyInputs()) if (node.height === height) input(node, early);
  };

  /** A certificate is acceptable when distinct validators holding > 2/3 of the stake precommitted the block. */
  const certificateValid = (set: ValidatorSet, block: CommittedBlock): boolean => {
    const seen = new Set<number>();
    let power = 0;
    for (const v of block.precommits) {
      if (v.type !== VoteType.PRECOMMIT || v.height !== block.proposal.height || v.round !== block.round) return false;
      if (v.blockId !== block.proposal.blockId || seen.has(v.validatorIndex) || v.validatorIndex >= set.size) return false;
      seen.add(v.validatorIndex);
      power += set.validators[v.validatorIndex].power;
    }
    return set.hasQuorum(power);
  };

  const commit = (node: SimNode, block: CommittedBlock): void => {
    if (!certificateValid(node.validators, block))
      safetyViolations.push(`node ${node.index} produced an invalid certificate at ${block.proposal.height}`);
    recordCommit(node, block);
    startHeight(node, block.proposal.height + 1);
  };

  let replaying = false;
  /** Colluding byzantine nodes' split per "height/round": [block shown to even nodes, block shown to odd nodes]. */
  const byzPlan = new Map<string, [BlockId, BlockId]>();
  const sign = (node: SimNode, h: number, r: number, step: number, bytesKey: string): boolean => {
    if (node.kind !== "honest") return true;
    const last = node.lastSign;
    // After a WAL replay the held-back requests include messages signed before the crash and since superseded
    // (the engine asks in increasing height/round/step order): those are skipped, not double-signed.
    if (replaying && last && (h - last.height || r - last.round || step - last.step) < 0) return false;
    const bytes = new TextEncoder().encode(bytesKey);
    try {
      const d = checkSignRequest(node.lastSign, h, r, step, bytes);
      if (d.action === "sign") node.lastSign = { height: h, round: r, step, signBytes: bytesToHex(bytes), signature: "0x01" };
      return true;
    } catch (err) {
      if (isCodedError(err)) safetyViolations.push(`honest node ${node.index} asked to double-sign: ${err.message}`);
      return false;
    }
  };

  const input = (node: SimNode, inp: EngineInput): void => {
    node.wal.push(inp);
    process(node, node.engine.handle(inp));
  };

  function process(node: SimNode, outs: EngineOutput[]): void {
    for (const out of outs) {
      // Outputs of a height the node already left (it committed while handling an earlier output) are stale.
      if ("height" in out && out.type !== "peerAhead" && out.height < node.height) continue;
      if (
        (out.type === "signVote" ? out.vote.height : out.type === "signProposal" ? out.proposal.height : node.height) <
        node.height
      )
        continue;
      switch (out.type) {
        case "scheduleTimeout":
          queue.push(now + out.durationMs, {
            kind: "timer",
            node: node.index,
            incarnation: node.incarnation,
            input: { type: "timeout", timeout: out.timeout },
          });
          break;
        case "buildBlock": {
          const payload = Uint8Array.of(1, node.index, out.height, out.round);
          input(node, { type: "blockBuilt", height: out.height, round: out.round, blockId: randomId(), payload });
          break;
        }
        case "signProposal": {
          const p = out.proposal;
          if (!sign(node, p.height, p.round, Step.PROPOSE, `P${p.height}/${p.round}/${p.polRound}/${p.blockId}`)) break;
          const signed = { ...p, signature: Uint8Array.of(node.index) };
          if (node.kind === "equivocator") {
            // Byzantine proposer: a conflicting (sometimes invalid) block to the odd-numbered nodes. The byzantine
            // nodes collude: they all vote for whichever block each side received.
            const other: Proposal = {
              ...signed,
              blockId: randomId(),
              polRound: -1,
              payload: Uint8Array.of(rng() < 0.5 ? INVALID_MARK : 2, node.index, p.height, p.round),
            };
            byzPlan.set(`${p.height}/${p.round}`, [signed.blockId, other.blockId]);
            for (let to = 0; to < n; to++) send(node.index, to, { kind: "proposal", proposal: to % 2 === 0 ? signed : other });
          } else {
            broadcast(node.index, { kind: "proposal", proposal: signed });
          }
          input(node, { type: "proposal", proposal: signed });
          break;
        }
        case "signVote": {
          const v = out.vote;
          if (!sign(node, v.height, v.round, voteStep(v.type), `V${v.type}/${v.height}/${v.round}/${v.blockId}`)) break;
          const signed = { ...v, signature: Uint8Array.of(node.index) };
          if (node.kind === "equivocator") {
            // Byzantine voter: each side gets a vote for the block it was shown (or a random conflicting vote).
            const plan = byzPlan.get(`${v.height}/${v.round}`);
            const alt = v.blockId === null ? randomId() : rng() < 0.5 ? null : randomId();
            for (let to = 0; to < n; to++) {
              const blockId = plan ? plan[to % 2] : rng() < 0.5 ? v.blockId : alt;
              send(node.index, to, { kind: "vote", vote: { ...signed, blockId } });
            }
          } else {
            broadcast(node.index, { kind: "vote", vote: signed });
          }
          input(node, { type: "vote", vote: signed });
          break;
        }
        case "rebroadcast":
          for (const proposal of out.proposals) broadcast(node.index, { kind: "proposal", proposal });
          for (const vote of out.votes) broadcast(node.index, { kind: "vote", vote });
          break;
        case "commit":
          commit(node, { proposal: out.proposal, precommits: out.precommits, round: out.round });
          break;
        case "evidence": {
          evidence++;
          const offender = nodeOfIndexAt(out.evidence.voteA.validatorIndex, out.evidence.voteA.height);
          if (offender === undefined || nodes[offender].kind === "honest") falseEvidence++;
          break;
        }
        case "peerAhead": {
          const peer = nodeOfIndexAt(out.validatorIndex, out.height);
          if (peer !== undefined && now - node.syncPending >= 50) {
            node.syncPending = now;
            send(node.index, peer, { kind: "syncRequest", from: node.index, height: node.height });
          }
          break;
        }
      }
    }
  }

  const onDeliver = (node: SimNode, msg: NetMessage): void => {
    switch (msg.kind) {
      case "proposal":
        input(node, { type: "proposal", proposal: msg.proposal });
        break;
      case "vote":
        input(node, { type: "vote", vote: msg.vote });
        break;
      case "syncRequest": {
        const blocks: CommittedBlock[] = [];
        for (let h = msg.height; node.committed.has(h) && blocks.length < 8; h++)
          blocks.push(node.committed.get(h) as CommittedBlock);
        if (blocks.length > 0) send(node.index, msg.from, { kind: "syncResponse", blocks });
        break;
      }
      case "syncResponse":
        for (const b of msg.blocks) {
          if (b.proposal.height !== node.height) continue;
          // A follower applies a synced block only if its certificate checks out against its validator set.
          if (!certificateValid(node.validators, b) || !validate(b.proposal)) break;
          commit(node, b);
        }
        break;
    }
  };

  const restart = (node: SimNode): void => {
    // Crash recovery: a fresh engine replays the WAL since the last end-height marker. Outputs produced during
    // the replay are held back and handled afterwards (re-signing is idempotent through the privval guard).
    node.up = true;
    node.incarnation++;
    node.engine = newEngine();
    const wal = node.wal;
    node.wal = [];
    const held: EngineOutput[] = node.engine.startHeight(node.height, node.validators, setIndexAt(node.index, node.height));
    for (const inp of wal) {
      node.wal.push(inp);
      held.push(...node.engine.handle(inp));
    }
    replaying = true;
    process(node, held);
    replaying = false;
  };

  for (const c of sc.crashes) {
    queue.push(c.atMs, { kind: "crash", node: c.node });
    queue.push(c.atMs + c.downMs, { kind: "restart", node: c.node });
  }
  queue.push(sc.healAtMs, { kind: "heal" });
  for (const node of nodes) if (node.up) startHeight(node, 1);

  const honest = nodes.filter((x) => x.kind === "honest");
  const done = () => healed && honest.every((x) => x.up && x.height >= sc.targetHeight);
  let events = 0;
  while (!done() && events < maxEvents) {
    const next = queue.pop();
    if (!next || next.t > maxVirtualMs) break;
    now = next.t;
    events++;
    const ev = next.ev;
    switch (ev.kind) {
      case "heal":
        healed = true;
        break;
      case "crash":
        nodes[ev.node].up = false;
        break;
      case "restart":
        restart(nodes[ev.node]);
        break;
      case "timer": {
        const node = nodes[ev.node];
        if (node.up && node.incarnation === ev.incarnation) input(node, ev.input);
        break;
      }
      case "deliver": {
        const node = nodes[ev.to];
        if (node.up) onDeliver(node, ev.msg);
        break;
      }
    }
    for (const node of honest) if (node.engine.round > maxRound) maxRound = node.engine.round;
  }
  if (opts.debug) {
    for (const x of nodes) {
      const e = x.engine;
      const info = e.debugRound();
      console.log(
        `node ${x.index} (${x.kind}, set idx ${setIndexAt(x.index, x.height)}) h=${x.height} r=${e.round} step=${e.step} locked=${e.lockedRound}:${e.lockedValue?.blockId.slice(0, 8)} valid=${e.validRound}:${e.validValue?.blockId.slice(0, 8)}`,
      );
      console.log("   ", JSON.stringify(info));
    }
  }
  return {
    seed: sc.seed,
    safetyViolations,
    liveness: done(),
    heights: nodes.map((x) => x.height),
    endTimeMs: now,
    events,
    evidence,
    falseEvidence,
    rounds: maxRound,
  };
}
