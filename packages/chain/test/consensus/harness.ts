import { join } from "node:path";
import { blsKeyFromSeed, keccak256 } from "@zgnode/crypto";
import { bytesToHex, createLogger } from "@zgnode/utils";
import type { SyncedBlock } from "../../src/consensus/blockSync.ts";
import { verifyCommitCertificate } from "../../src/consensus/certificate.ts";
import { type ConsensusBlockSource, ConsensusDriver, type ConsensusTransport } from "../../src/consensus/driver.ts";
import type { ConsensusMetrics } from "../../src/consensus/metrics.ts";
import type { ConsensusTimeouts } from "../../src/consensus/options.ts";
import { FilePrivValidator } from "../../src/consensus/privval.ts";
import type { BlockId, CommitCertificate, Proposal, Vote } from "../../src/consensus/types.ts";
import type { ValidatorSet } from "../../src/consensus/validators.ts";
import { ConsensusWal } from "../../src/consensus/wal.ts";

export const CHAIN_ID = 8888n;
export const fastTimeouts: ConsensusTimeouts = {
  proposeMs: 300,
  proposeDeltaMs: 100,
  prevoteMs: 100,
  prevoteDeltaMs: 50,
  precommitMs: 100,
  precommitDeltaMs: 50,
  commitMs: 10,
  rebroadcastMs: 200,
};

/** A chain stand-in: blocks are small byte strings, ids their keccak hash; commits are checked and stored. */
export class MemoryBlockSource implements ConsensusBlockSource {
  readonly genesis: ValidatorSet;
  readonly blocks = new Map<number, SyncedBlock>();
  private nonce = 0;
  readonly tag: number;

  constructor(genesis: ValidatorSet, tag: number) {
    this.genesis = genesis;
    this.tag = tag;
  }

  headHeight(): number {
    return this.blocks.size;
  }

  validatorSet(height: number): ValidatorSet {
    return height === 1 ? this.genesis : this.genesis.copyIncremented(height - 1);
  }

  async buildBlock(height: number, round: number): Promise<{ blockId: BlockId; payload: Uint8Array }> {
    const payload = Uint8Array.of(height & 0xff, round, this.tag, this.nonce++ & 0xff, 0x42);
    return { blockId: this.blockIdOf(payload), payload };
  }

  async validateBlock(height: number, _id: BlockId, payload: Uint8Array): Promise<boolean> {
    return payload[0] === (height & 0xff) && payload[4] === 0x42;
  }

  async commitBlock(height: number, payload: Uint8Array, certificate: CommitCertificate): Promise<void> {
    if (height !== this.blocks.size + 1) throw new Error(`commit of ${height} on head ${this.blocks.size}`);
    verifyCommitCertificate(CHAIN_ID, this.validatorSet(height), certificate);
    this.blocks.set(height, { payload, certificate });
  }

  blockIdOf(payload: Uint8Array): BlockId {
    return bytesToHex(keccak256(payload));
  }

  async committedBlocks(startHeight: number, count: number): Promise<SyncedBlock[]> {
    const out: SyncedBlock[] = [];
    for (let h = startHeight; h < startHeight + count && this.blocks.has(h); h++) out.push(this.blocks.get(h) as SyncedBlock);
    return out;
  }
}

/** An in-process network: broadcasts reach every other live node after a small delay; nodes can be cut off. */
export class MemoryNetwork {
  readonly nodes = new Map<number, { driver: ConsensusDriver; source: MemoryBlockSource }>();
  readonly down = new Set<number>();
  delayMs = 2;
  /** Drops a vote on its way to node `to` when it returns true. */
  dropVote: (to: number, vote: Vote) => boolean = () => false;

  transport(self: number): ConsensusTransport {
    const deliver = (fn: (d: ConsensusDriver) => void, vote?: Vote) => {
      if (this.down.has(self)) return;
      for (const [i, n] of this.nodes) {
        if (i === self || this.down.has(i) || (vote && this.dropVote(i, vote))) continue;
        setTimeout(() => {
          if (!this.down.has(i) && this.nodes.get(i) === n) fn(n.driver);
        }, this.delayMs);
      }
    };
    return {
      broadcastProposal: (p: Proposal) => deliver((d) => d.receiveProposal(p)),
      broadcastVote: (v: Vote) => deliver((d) => d.receiveVote(v), v),
      fetchBlocks: async (start, count) => {
        if (this.down.has(self)) return [];
        for (const [i, n] of this.nodes) {
          if (i === self || this.down.has(i)) continue;
          const blocks = await n.source.committedBlocks(start, count);
          if (blocks.length > 0) return blocks;
        }
        return [];
      },
    };
  }
}

export function validatorKeys(n: number) {
  return Array.from({ length: n }, (_, i) => blsKeyFromSeed(new Uint8Array(32).fill(i + 1)));
}

export async function startNode(
  net: MemoryNetwork,
  index: number,
  opts: {
    dir: string;
    set: ValidatorSet;
    key: ReturnType<typeof blsKeyFromSeed> | null;
    source?: MemoryBlockSource;
    metrics?: ConsensusMetrics;
  },
) {
  const source = opts.source ?? new MemoryBlockSource(opts.set, index);
  const wal = opts.key ? (await ConsensusWal.open(join(opts.dir, `node${index}`, "cs.wal"))).wal : null;
  const signer = opts.key
    ? await FilePrivValidator.open(join(opts.dir, `node${index}`, "privval.json"), opts.key, CHAIN_ID)
    : null;
  const driver = new ConsensusDriver(
    {
      chainId: CHAIN_ID,
      engine: { timeouts: fastTimeouts, maxFutureMessages: 1000, maxRoundsAhead: 100, maxProposalsPerRound: 4 },
    },
    {
      blockSource: source,
      transport: net.transport(index),
      signer,
      wal,
      logger: createLogger({ level: "silent" }),
      metrics: opts.metrics,
    },
  );
  net.nodes.set(index, { driver, source });
  await driver.start();
  return { driver, source, wal };
}
