import type { Block } from "@ethereumjs/block";
import { bytesToHex, createLogger, type Hex, type Logger, withDefaults } from "@zgnode/utils";
import type { Chain } from "../chain.ts";
import type { SyncedBlock } from "../consensus/blockSync.ts";
import type { ConsensusBlockSource } from "../consensus/driver.ts";
import type { BlockId, CommitCertificate, DuplicateVoteEvidence } from "../consensus/types.ts";
import type { ValidatorSet } from "../consensus/validators.ts";
import type { TxPool } from "../txPool.ts";
import { BftError, BftErrorCode } from "./errors.ts";
import type { EvidencePool } from "./evidencePool.ts";
import { type BftBlockSourceOptions, defaultBftBlockSourceOptions } from "./options.ts";
import { decodePayload, encodePayload, evidenceHash, evidenceRoot, payloadBlockId } from "./payload.ts";
import type { CertifiedBlockStore } from "./store.ts";
import { createStakingBlockStartHook } from "./systemCalls.ts";
import type { StakingValidatorSets } from "./validatorSets.ts";

/** How far (seconds) a proposed block's timestamp may run ahead of our clock. */
export const MAX_CLOCK_DRIFT_S = 15;

export interface ChainBlockSourceDeps {
  chain: Chain;
  pool: TxPool;
  store: CertifiedBlockStore;
  sets: StakingValidatorSets;
  evidence: EvidencePool;
  logger?: Logger;
}

/**
 * The chain as consensus sees it. Proposing builds a block from the pool WITHOUT committing it; validating
 * re-executes a proposed block on its parent by rebuilding it from the same inputs (transactions, timestamp,
 * coinbase, randao, extraData) and comparing hashes, again without committing; committing stores the payload with
 * its certificate (by height) and then imports the block. The validator set comes from the staking contract.
 */
export class ChainBlockSource implements ConsensusBlockSource {
  readonly opts: BftBlockSourceOptions;
  private readonly chain: Chain;
  private readonly pool: TxPool;
  private readonly store: CertifiedBlockStore;
  private readonly sets: StakingValidatorSets;
  private readonly evidence: EvidencePool;
  private readonly log: Logger;
  /** Outcome of validation per "height:blockId" (cleared on commit). */
  private readonly verdicts = new Map<string, boolean>();
  /** Evidence carried by blocks being built, validated or imported, by their extraData (for the block-start hook). */
  readonly evidenceByRoot = new Map<Hex, DuplicateVoteEvidence[]>();

  constructor(opts: Partial<BftBlockSourceOptions>, deps: ChainBlockSourceDeps) {
    this.opts = withDefaults(defaultBftBlockSourceOptions, opts);
    this.chain = deps.chain;
    this.pool = deps.pool;
    this.store = deps.store;
    this.sets = deps.sets;
    this.evidence = deps.evidence;
    this.log = deps.logger ?? createLogger({ name: "bft" });
  }

  /**
   * Installs the staking system calls (slash per evidence, rewards, epoch end) as the chain's block-start hook, so
   * every built, validated and imported block runs them. A node of a BFT network must call this before it
   * executes any block; without it the chain executes plain Ethereum blocks.
   */
  async enableStakingSystemCalls(): Promise<void> {
    const params = await this.sets.stakingParams();
    this.chain.setBlockStartHook(
      createStakingBlockStartHook({
        sets: this.sets,
        params,
        evidenceOf: (extra) => this.evidenceByRoot.get(extra),
        logger: this.log,
      }),
    );
  }

  /**
   * Imports certified blocks stored before a crash but not yet executed (the certificate is written first), so
   * the chain head and the certificate store agree before consensus starts.
   */
  async recover(): Promise<number> {
    let imported = 0;
    for (let h = this.headHeight() + 1; ; h++) {
      const b = await this.store.get(h);
      if (!b) break;
      await this.importPayload(b.payload);
      imported++;
    }
    if (imported > 0) this.log.info({ imported, head: this.headHeight() }, "re-imported certified blocks after restart");
    return imported;
  }

  headHeight(): number {
    return Number(this.chain.head.header.number);
  }

  headHash(): Hex {
    return bytesToHex(this.chain.head.hash());
  }

  validatorSet(height: number): Promise<ValidatorSet> {
    return this.sets.setFor(height);
  }

  blockIdOf(payload: Uint8Array): BlockId {
    return payloadBlockId(payload);
  }

  async buildBlock(height: number, _round: number): Promise<{ blockId: BlockId; payload: Uint8Array }> {
    const parent = this.chain.head;
    if (Number(parent.header.number) !== height - 1)
      throw new BftError(BftErrorCode.INVALID_BLOCK, `cannot build height ${height} on head ${parent.header.number}`);
    const evidence = this.evidence.forBlock(height, this.opts.maxEvidencePerBlock);
    const extra = evidenceRoot(evidence);
    this.evidenceByRoot.set(bytesToHex(extra), evidence);
    const txs = this.pool.selectForBlock(this.opts.maxTxsPerBlock);
    // Kept: if this proposal is committed, importing it commits this execution instead of running it again.
    const { block } = await this.chain.buildBlock(txs, {
      commit: false,
      keep: true,
      parentHash: parent.hash(),
      coinbase: this.opts.coinbase,
      extraData: bytesToHex(extra),
    });
    const payload = encodePayload({ block, evidence });
    const blockId = bytesToHex(block.hash());
    this.verdicts.set(`${height}:${blockId}`, true);
    this.log.debug({ height, txs: block.transactions.length, evidence: evidence.length }, "built block");
    return { blockId, payload };
  }

  async validateBlock(height: number, blockId: BlockId, payload: Uint8Array): Promise<boolean> {
    const key = `${height}:${blockId}`;
    const known = this.verdicts.get(key);
    if (known !== undefined) return known;
    let ok = false;
    try {
      await this.check(height, blockId, payload);
      ok = true;
    } catch (err) {
      this.log.warn({ height, blockId, err: (err as Error).message }, "invalid proposed block");
    }
    this.verdicts.set(key, ok);
    return ok;
  }

  private async check(height: number, blockId: BlockId, payload: Uint8Array): Promise<void> {
    const { block, evidence } = decodePayload(payload, this.chain.common);
    const fail = (why: string): never => {
      throw new BftError(BftErrorCode.INVALID_BLOCK, why);
    };
    if (bytesToHex(block.hash()) !== blockId) fail("block id does not match the block");
    if (Number(block.header.number) !== height) fail(`block number ${block.header.number} at height ${height}`);
    const parent = this.chain.head;
    if (Number(parent.header.number) !== height - 1) fail(`head ${parent.header.number} is not the parent height`);
    if (bytesToHex(block.header.parentHash) !== bytesToHex(parent.hash())) fail("block does not extend our head");
    // Proposers stamp max(now, parent + 1) (seconds): later than both is a clock running ahead or a lie.
    const latest = BigInt(Math.floor(Date.now() / 1000) + MAX_CLOCK_DRIFT_S);
    const parentNext = parent.header.timestamp + 1n;
    if (block.header.timestamp > (latest > parentNext ? latest : parentNext))
      fail(`timestamp ${block.header.timestamp} is in the future`);
    if (evidence.length > this.opts.maxEvidencePerBlock) fail(`${evidence.length} evidences in one block`);
    const seen = new Set<string>();
    for (const ev of evidence) {
      const id = bytesToHex(evidenceHash(ev));
      if (seen.has(id)) fail("duplicate evidence in block");
      seen.add(id);
      await this.evidence.verify(ev, height);
    }
    this.evidenceByRoot.set(bytesToHex(block.header.extraData), evidence);
    // Re-execute: rebuild from the same inputs; any difference (a tx that fails, a wrong root) changes the hash.
    const rebuilt = await this.chain.buildBlock(block.transactions as Block["transactions"][number][], {
      commit: false,
      keep: true,
      parentHash: parent.hash(),
      timestamp: block.header.timestamp,
      coinbase: block.header.coinbase.toString(),
      prevRandao: block.header.mixHash,
      parentBeaconBlockRoot: block.header.parentBeaconBlockRoot,
      extraData: bytesToHex(block.header.extraData),
    });
    if (rebuilt.rejected.length > 0) fail(`transaction not includable: ${rebuilt.rejected[0].error}`);
    if (bytesToHex(rebuilt.block.hash()) !== blockId)
      fail(`re-execution gives block ${bytesToHex(rebuilt.block.hash())}, proposed ${blockId}`);
  }

  async commitBlock(height: number, payload: Uint8Array, certificate: CommitCertificate): Promise<void> {
    await this.store.put(height, { payload, certificate });
    await this.importPayload(payload);
    this.verdicts.clear();
  }

  private async importPayload(payload: Uint8Array): Promise<void> {
    const { block, evidence } = decodePayload(payload, this.chain.common);
    this.evidenceByRoot.set(bytesToHex(block.header.extraData), evidence);
    // The hook needs the validator set of each evidence height; compute it now, outside block execution.
    for (const ev of evidence) await this.sets.setFor(ev.voteA.height);
    await this.chain.importBlock(block);
    this.evidence.markCommitted(evidence);
    for (const k of this.evidenceByRoot.keys()) if (k !== "0x") this.evidenceByRoot.delete(k);
  }

  committedBlocks(startHeight: number, count: number): Promise<SyncedBlock[]> {
    return this.store.range(startHeight, Math.min(count, this.headHeight() - startHeight + 1));
  }
}
