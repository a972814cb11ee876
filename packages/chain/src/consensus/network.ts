import type { GossipTopic, NetworkHost } from "@zgnode/network";
import { blocksByRangeProtocol, MAX_BLOCKS_PER_SYNC_REQUEST, type SyncedBlock } from "./blockSync.ts";
import { decodeProposal, decodeVote, encodeProposal, encodeVote } from "./codec.ts";
import type { ConsensusBlockSource, ConsensusDriver, ConsensusTransport } from "./driver.ts";
import type { Proposal, Vote } from "./types.ts";

/**
 * Binds consensus to the libp2p host: proposal and vote gossip topics whose validators verify signatures (so
 * nothing unverified is relayed) and hand accepted messages to the driver, the blocks_by_range req/resp protocol
 * served from the chain, and a transport the driver publishes and syncs through.
 */
export class ConsensusNetwork {
  readonly host: NetworkHost;
  readonly transport: ConsensusTransport;
  readonly proposalTopic: GossipTopic<Proposal>;
  readonly voteTopic: GossipTopic<Vote>;
  private driver: ConsensusDriver | undefined;
  private nextPeer = 0;
  private readonly blockSource: ConsensusBlockSource;

  constructor(host: NetworkHost, blockSource: ConsensusBlockSource) {
    this.host = host;
    this.blockSource = blockSource;
    this.proposalTopic = {
      name: "consensus_proposal",
      version: 1,
      codec: { encode: encodeProposal, decode: decodeProposal },
      validate: (p) => this.driver?.receiveProposal(p) ?? "ignore",
      handle: () => {},
    };
    this.voteTopic = {
      name: "consensus_vote",
      version: 1,
      codec: { encode: encodeVote, decode: decodeVote },
      validate: (v) => this.driver?.receiveVote(v) ?? "ignore",
      handle: () => {},
    };
    const sync = blocksByRangeProtocol((req) =>
      this.blockSource.committedBlocks(req.startHeight, Math.min(req.count, MAX_BLOCKS_PER_SYNC_REQUEST)),
    );
    this.syncProtocol = sync;
    this.transport = {
      broadcastProposal: async (p) => {
        await this.host.publish(this.proposalTopic, p);
      },
      broadcastVote: async (v) => {
        await this.host.publish(this.voteTopic, v);
      },
      fetchBlocks: (startHeight, count) => this.fetchBlocks(startHeight, count),
    };
  }

  readonly syncProtocol: ReturnType<typeof blocksByRangeProtocol>;

  /** Registers the topics and the sync protocol; call before `host.start()`. */
  async register(): Promise<void> {
    this.host.registerTopic(this.proposalTopic);
    this.host.registerTopic(this.voteTopic);
    await this.host.registerProtocol(this.syncProtocol);
  }

  bind(driver: ConsensusDriver): void {
    this.driver = driver;
  }

  /**
   * Asks connected peers in turn until one has blocks from `startHeight`. Each call starts at the next peer, so a peer
   * that keeps serving bad or no blocks cannot pin the node behind.
   */
  private async fetchBlocks(startHeight: number, count: number): Promise<SyncedBlock[]> {
    const peers = this.host.connectedPeers;
    const first = this.nextPeer++ % Math.max(1, peers.length);
    for (const peer of [...peers.slice(first), ...peers.slice(0, first)]) {
      try {
        const blocks = await this.host.request(peer, this.syncProtocol, { startHeight, count });
        if (blocks.length > 0) return blocks;
      } catch {
        // Try the next peer.
      }
    }
    return [];
  }
}
