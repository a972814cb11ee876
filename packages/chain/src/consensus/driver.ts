import { CodedError, createLogger, isCodedError, type Logger, withDefaults } from "@zgnode/utils";
import type { SyncedBlock } from "./blockSync.ts";
import { verifySyncedBlock } from "./blockSync.ts";
import { buildCommitCertificate, verifyProposalSignature, verifyVoteSignature } from "./certificate.ts";
import { ConsensusEngine, inputHeight } from "./engine.ts";
import { ConsensusErrorCode } from "./errors.ts";
import type { ConsensusMetrics } from "./metrics.ts";
import { type ConsensusEngineOptions, defaultConsensusEngineOptions } from "./options.ts";
import type { ConsensusSigner } from "./privval.ts";
import {
  type BlockId,
  type CommitCertificate,
  type EngineInput,
  type EngineOutput,
  type Proposal,
  Step,
  type Timeout,
  type Vote,
  VoteType,
} from "./types.ts";
import type { ValidatorSet } from "./validators.ts";
import type { ConsensusWal } from "./wal.ts";

/**
 * What consensus needs from the chain. The node's `Chain` implements it: build a block from the tx pool, validate
 * (execute) a proposed block, commit a block with its certificate, and tell the validator set of a height.
 */
export interface ConsensusBlockSource {
  /** Latest committed height (0 when only genesis exists). */
  headHeight(): number;
  /** The validator set deciding `height`, with proposer priorities as of its round 0. */
  validatorSet(height: number): ValidatorSet | Promise<ValidatorSet>;
  buildBlock(height: number, round: number): Promise<{ blockId: BlockId; payload: Uint8Array }>;
  /** Must give the same answer for the same block every time (the WAL replay relies on it). */
  validateBlock(height: number, blockId: BlockId, payload: Uint8Array): Promise<boolean>;
  /** Durably stores and executes the block with its certificate; resolves when done. */
  commitBlock(height: number, payload: Uint8Array, certificate: CommitCertificate): Promise<void>;
  /** The id (hash) of an encoded block. */
  blockIdOf(payload: Uint8Array): BlockId;
  /** Committed blocks with certificates from `startHeight`, to serve block sync. */
  committedBlocks(startHeight: number, count: number): Promise<SyncedBlock[]>;
}

/** How consensus messages leave the node, and how it fetches blocks when it fell behind. */
export interface ConsensusTransport {
  broadcastProposal(proposal: Proposal): void | Promise<void>;
  broadcastVote(vote: Vote): void | Promise<void>;
  fetchBlocks(startHeight: number, count: number): Promise<SyncedBlock[]>;
}

export type ReceiveVerdict = "accept" | "ignore" | "reject";

export interface ConsensusDriverOptions {
  chainId: bigint;
  engine: ConsensusEngineOptions;
  /** Minimum pause between two block-sync requests. */
  syncIntervalMs: number;
  /** Blocks asked for per sync request. */
  syncBatch: number;
  /** Messages for the next height held until it starts. */
  maxFutureMessages: number;
}

export const defaultConsensusDriverOptions: Omit<ConsensusDriverOptions, "chainId"> = {
  engine: defaultConsensusEngineOptions,
  syncIntervalMs: 500,
  syncBatch: 16,
  maxFutureMessages: 2000,
};

export interface ConsensusDriverDeps {
  blockSource: ConsensusBlockSource;
  transport: ConsensusTransport;
  /** Null for a full node that follows without voting. */
  signer: ConsensusSigner | null;
  /** Null only in tests: a validator without a WAL can equivocate after a crash (privval still refuses). */
  wal: ConsensusWalLike | null;
  logger?: Logger;
  metrics?: ConsensusMetrics;
  onCommit?: (height: number, certificate: CommitCertificate) => void;
  onEvidence?: (evidence: { voteA: Vote; voteB: Vote }) => void;
}

/** The part of `ConsensusWal` the driver uses. */
export type ConsensusWalLike = Pick<ConsensusWal, "append" | "sync" | "writeEndHeight" | "inputsSince">;

type FutureMessage = { kind: "proposal"; proposal: Proposal } | { kind: "vote"; vote: Vote };

/**
 * The I/O shell around the pure engine: it verifies incoming messages, logs every engine input to the WAL,
 * fsyncs the WAL and goes through privval before any own message is released, runs timers, asks the chain to build,
 * validate and commit blocks, aggregates commit certificates and catches up by block sync. All engine work runs
 * one task at a time in arrival order.
 */
export class ConsensusDriver {
  readonly opts: ConsensusDriverOptions;
  private readonly deps: ConsensusDriverDeps;
  private readonly log: Logger;
  private engine: ConsensusEngine;
  private set: ValidatorSet | undefined;
  private selfIndex: number | null = null;
  height = 0;
  private validity = new Map<BlockId, boolean>();
  private future: FutureMessage[] = [];
  private timers = new Set<NodeJS.Timeout>();
  private queue: Promise<void> = Promise.resolve();
  private lastSyncAt = 0;
  private syncing = false;
  private heightStartedAt = 0;
  private stopped = false;

  constructor(opts: Partial<ConsensusDriverOptions> & { chainId: bigint }, deps: ConsensusDriverDeps) {
    this.opts = withDefaults({ ...defaultConsensusDriverOptions, chainId: opts.chainId }, opts);
    this.deps = deps;
    this.log = deps.logger ?? createLogger({ name: "consensus" });
    this.engine = this.newEngine();
  }

  private newEngine(): ConsensusEngine {
    return new ConsensusEngine((p) => this.validity.get(p.blockId) === true, this.opts.engine);
  }

  get validatorSet(): ValidatorSet {
    if (!this.set) throw new CodedError(ConsensusErrorCode.INVALID_VALIDATOR_SET, "consensus not started");
    return this.set;
  }

  get round(): number {
    return this.engine.round;
  }

  /** Enters the height after the chain head and replays the WAL of that height (crash recovery). */
  start(): Promise<void> {
    return this.enqueue(async () => {
      const height = this.deps.blockSource.headHeight() + 1;
      await this.setHeight(height);
      const held: EngineOutput[] = this.engine.startHeight(height, this.validatorSet, this.selfIndex);
      // Inputs of an older height show up when the node crashed after committing a block but before writing its
      // end-height marker; the engine would ignore them anyway, so they are not even validated.
      const replay = (this.deps.wal?.inputsSince(height) ?? []).filter((i) => inputHeight(i) === height);
      // Replay: feed the logged inputs without re-logging them, and hold the outputs until the engine has caught
      // up; then handle them once (a re-requested signature is either identical, or superseded and skipped).
      for (const input of replay) {
        if (input.type === "proposal") await this.checkValidity(input.proposal);
        if (input.type === "blockBuilt") this.validity.set(input.blockId, true);
        held.push(...this.engine.handle(input));
      }
      if (replay.length > 0) this.log.info({ height, inputs: replay.length }, "replayed consensus WAL");
      await this.apply(held, true);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.queue;
  }

  /** Verifies a proposal from the network and hands it to the engine. Returns the gossip verdict. */
  receiveProposal(p: Proposal): ReceiveVerdict {
    if (this.stopped || !this.set) return "ignore";
    if (p.height === this.height + 1) return this.holdFuture({ kind: "proposal", proposal: p });
    if (p.height > this.height + 1) {
      this.requestSync();
      return "ignore";
    }
    if (p.height < this.height) return "ignore";
    // Bound the round before anything costs work: the proposer check replays priorities once per round.
    if (p.round > this.engine.round + this.opts.engine.maxRoundsAhead) return "ignore";
    if (p.proposerIndex >= this.set.size || !verifyProposalSignature(this.opts.chainId, this.set, p)) {
      this.deps.metrics?.invalidMessages.inc({ kind: "proposal" });
      return "reject";
    }
    void this.enqueue(async () => {
      if (p.height !== this.height) return;
      await this.checkValidity(p);
      await this.input({ type: "proposal", proposal: p });
    });
    return "accept";
  }

  /** Verifies a vote from the network and hands it to the engine. Returns the gossip verdict. */
  receiveVote(v: Vote): ReceiveVerdict {
    if (this.stopped || !this.set) return "ignore";
    if (v.height === this.height + 1) return this.holdFuture({ kind: "vote", vote: v });
    if (v.height > this.height + 1) {
      this.requestSync();
      return "ignore";
    }
    if (v.height < this.height) return "ignore";
    if (!verifyVoteSignature(this.opts.chainId, this.set, v)) {
      this.deps.metrics?.invalidMessages.inc({ kind: "vote" });
      return "reject";
    }
    void this.enqueue(async () => {
      if (v.height === this.height) await this.input({ type: "vote", vote: v });
    });
    return "accept";
  }

  /**
   * Messages of the next height cannot be verified before we know its validator set: hold them until then. Peers
   * already there committed our height; if we have been at it for a while we probably missed its precommits, and
   * the peers may need our votes to finish theirs, so ask for the block (rate-limited; peers without it answer
   * nothing).
   */
  private holdFuture(m: FutureMessage): ReceiveVerdict {
    if (this.future.length < this.opts.maxFutureMessages) this.future.push(m);
    if (Date.now() - this.heightStartedAt > this.opts.syncIntervalMs) this.requestSync();
    return "ignore";
  }

  private async checkValidity(p: Proposal): Promise<void> {
    if (this.validity.has(p.blockId)) return;
    let ok = false;
    try {
      ok =
        this.deps.blockSource.blockIdOf(p.payload) === p.blockId &&
        (await this.deps.blockSource.validateBlock(p.height, p.blockId, p.payload));
    } catch (err) {
      this.log.debug({ height: p.height, err: (err as Error).message }, "proposed block invalid");
    }
    this.validity.set(p.blockId, ok);
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.queue.then(() => (this.stopped ? undefined : task()));
    this.queue = run.catch((err) => {
      this.log.error({ err }, "consensus task failed");
    });
    return this.queue;
  }

  private async setHeight(height: number): Promise<void> {
    this.height = height;
    this.set = await this.deps.blockSource.validatorSet(height);
    const idx = this.deps.signer ? this.set.indexOf(this.deps.signer.publicKey) : -1;
    this.selfIndex = idx >= 0 ? idx : null;
    this.validity = new Map();
    this.heightStartedAt = Date.now();
    this.deps.metrics?.height.set(height);
  }

  private async enterHeight(height: number): Promise<void> {
    await this.setHeight(height);
    await this.apply(this.engine.startHeight(height, this.validatorSet, this.selfIndex), false);
    for (const early of this.engine.takeEarlyInputs()) await this.input(early);
    const held = this.future;
    this.future = [];
    for (const m of held) {
      if (m.kind === "proposal") this.receiveProposal(m.proposal);
      else this.receiveVote(m.vote);
    }
  }

  /** One engine input: WAL first, then the engine, then its outputs. */
  private async input(input: EngineInput): Promise<void> {
    await this.deps.wal?.append(input);
    await this.apply(this.engine.handle(input), false);
    this.deps.metrics?.round.set(this.engine.round);
  }

  private async apply(outputs: EngineOutput[], afterReplay: boolean): Promise<void> {
    for (const out of outputs) {
      if (this.stopped) return;
      switch (out.type) {
        case "scheduleTimeout":
          this.schedule(out.timeout, out.durationMs);
          break;
        case "buildBlock":
          void this.build(out.height, out.round);
          break;
        case "signProposal": {
          if (out.proposal.height !== this.height || !this.deps.signer) break;
          const signed = await this.sign(
            () => (this.deps.signer as ConsensusSigner).signProposal(out.proposal),
            afterReplay,
            out.proposal.round,
            Step.PROPOSE,
          );
          if (!signed) break;
          this.send(() => this.deps.transport.broadcastProposal(signed));
          await this.input({ type: "proposal", proposal: signed });
          break;
        }
        case "signVote": {
          if (out.vote.height !== this.height || !this.deps.signer) break;
          const signed = await this.sign(
            () => (this.deps.signer as ConsensusSigner).signVote(out.vote),
            afterReplay,
            out.vote.round,
            out.vote.type === VoteType.PREVOTE ? Step.PREVOTE : Step.PRECOMMIT,
          );
          if (!signed) break;
          this.send(() => this.deps.transport.broadcastVote(signed));
          await this.input({ type: "vote", vote: signed });
          break;
        }
        case "rebroadcast":
          for (const p of out.proposals) this.send(() => this.deps.transport.broadcastProposal(p));
          for (const v of out.votes) this.send(() => this.deps.transport.broadcastVote(v));
          break;
        case "commit":
          await this.commit(out.height, out.proposal, out.precommits);
          break;
        case "evidence":
          this.deps.metrics?.evidence.inc();
          this.log.warn({ validator: out.evidence.voteA.validatorIndex, height: out.evidence.voteA.height }, "equivocation");
          this.deps.onEvidence?.(out.evidence);
          break;
        case "peerAhead":
          this.requestSync();
          break;
      }
    }
  }

  /** Everything that led to this message is fsynced before privval signs it and before it leaves the node. */
  private async sign<T>(fn: () => Promise<T>, afterReplay: boolean, round: number, step: Step): Promise<T | undefined> {
    await this.deps.wal?.sync();
    try {
      return await fn();
    } catch (err) {
      if (!isCodedError(err) || err.code !== ConsensusErrorCode.DOUBLE_SIGN) throw err;
      this.deps.metrics?.signRefused.inc();
      if (round === this.engine.round && step === this.engine.step) {
        // Privval knows more than the engine (the WAL was lost or torn), and the engine now waits for a message we
        // cannot sign. Leave the round as a precommit timeout would: changing rounds never affects safety (locks
        // and quorums do), and without it a validator holding a quorum alone would wait forever for its own vote.
        this.log.error({ err: err.message }, "refused to double-sign; moving to the next round");
        const t = this.opts.engine.timeouts;
        this.schedule({ height: this.height, round, step: "precommit" }, t.precommitMs + round * t.precommitDeltaMs);
      } else {
        // Typically after a WAL replay: a request the node answered before crashing, since superseded.
        this.log[afterReplay ? "debug" : "warn"]({ err: err.message }, "superseded sign request refused");
      }
      return undefined;
    }
  }

  private send(fn: () => void | Promise<void>): void {
    try {
      const r = fn();
      if (r) r.catch((err) => this.log.debug({ err: (err as Error).message }, "broadcast failed"));
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, "broadcast failed");
    }
  }

  private schedule(timeout: Timeout, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      void this.enqueue(async () => {
        if (timeout.height === this.height) await this.input({ type: "timeout", timeout });
      });
    }, ms);
    this.timers.add(t);
  }

  private async build(height: number, round: number): Promise<void> {
    try {
      const { blockId, payload } = await this.deps.blockSource.buildBlock(height, round);
      await this.enqueue(async () => {
        if (height !== this.height) return;
        this.validity.set(blockId, true);
        await this.input({ type: "blockBuilt", height, round, blockId, payload });
      });
    } catch (err) {
      this.log.error({ height, round, err: (err as Error).message }, "block building failed");
    }
  }

  private async commit(height: number, proposal: Proposal, precommits: Vote[]): Promise<void> {
    if (height !== this.height) return;
    const certificate = buildCommitCertificate(this.validatorSet, precommits);
    await this.finalize(height, proposal.payload, certificate, "decided");
  }

  private async finalize(
    height: number,
    payload: Uint8Array,
    certificate: CommitCertificate,
    how: "decided" | "synced",
  ): Promise<void> {
    await this.deps.blockSource.commitBlock(height, payload, certificate);
    (how === "decided" ? this.deps.metrics?.commits : this.deps.metrics?.synced)?.inc();
    // The end-height marker follows the durable commit: a crash in between replays this height's inputs, which the
    // engine (already at the next height) ignores.
    await this.deps.wal?.writeEndHeight(height);
    this.deps.metrics?.blockSeconds.observe((Date.now() - this.heightStartedAt) / 1000);
    this.deps.onCommit?.(height, certificate);
    await this.enterHeight(height + 1);
  }

  /**
   * Catches up by block sync: fetch committed blocks from the current height, verify each certificate, then apply.
   * Rate-limited by `syncIntervalMs`; public so a node-level watchdog (peer status) can also trigger it.
   */
  requestSync(): void {
    if (this.stopped || !this.set) return;
    const now = Date.now();
    if (this.syncing || now - this.lastSyncAt < this.opts.syncIntervalMs) return;
    this.syncing = true;
    this.lastSyncAt = now;
    const from = this.height;
    void (async () => {
      let more = false;
      try {
        const blocks = await this.deps.transport.fetchBlocks(from, this.opts.syncBatch);
        await this.enqueue(() => this.applySynced(blocks));
        // A full batch that moved us means the peer probably has more: ask again now rather than on the next
        // gossip message from ahead (a node far behind would otherwise sync one batch per trigger).
        more = blocks.length >= this.opts.syncBatch && this.height >= from + blocks.length;
      } catch (err) {
        this.log.debug({ from, err: (err as Error).message }, "block sync failed");
      } finally {
        this.syncing = false;
      }
      if (more) {
        this.lastSyncAt = 0;
        this.requestSync();
      }
    })();
  }

  private async applySynced(blocks: SyncedBlock[]): Promise<void> {
    for (const b of blocks) {
      if (b.certificate.height < this.height) continue;
      try {
        verifySyncedBlock(this.opts.chainId, this.height, this.validatorSet, b, (p) => this.deps.blockSource.blockIdOf(p));
        if (!(await this.deps.blockSource.validateBlock(this.height, b.certificate.blockId, b.payload)))
          throw new CodedError(ConsensusErrorCode.SYNC_INVALID_RESPONSE, `synced block ${this.height} is invalid`);
      } catch (err) {
        this.log.warn({ height: this.height, err: (err as Error).message }, "rejected synced block");
        return;
      }
      await this.finalize(this.height, b.payload, b.certificate, "synced");
    }
  }
}
