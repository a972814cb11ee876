import { keccak256 } from "@zgnode/crypto";
import {
  bytesCodec,
  type Codec,
  GossipBatcher,
  type GossipTopic,
  listCodec,
  type NetworkHost,
  type ReqRespProtocol,
} from "@zgnode/network";
import { bytesToHex, createLogger, type Hex, hexToBytes, isCodedError, type Logger, withDefaults } from "@zgnode/utils";
import type { SyncedBlock } from "../consensus/blockSync.ts";
import { ByteReader, ByteWriter } from "../consensus/codec.ts";
import type { ConsensusDriver, ConsensusTransport } from "../consensus/driver.ts";
import { ConsensusNetwork } from "../consensus/network.ts";
import type { DuplicateVoteEvidence, Proposal, Vote } from "../consensus/types.ts";
import type { PoolTx, TxPool } from "../txPool.ts";
import type { ChainBlockSource } from "./blockSource.ts";
import type { EvidencePool } from "./evidencePool.ts";
import { defaultNetworkTransportOptions, type NetworkTransportOptions } from "./options.ts";
import { decodeEvidence, encodeEvidence } from "./payload.ts";

/** Answer of the `status` protocol: where a peer's chain is. */
export interface PeerStatus {
  height: number;
  headHash: Hex;
}

const statusCodec: Codec<PeerStatus> = {
  encode: (s) => new ByteWriter().u64(s.height).bytes(hexToBytes(s.headHash)).finish(),
  decode: (b) => {
    const r = new ByteReader(b);
    const s = { height: r.u64(), headHash: bytesToHex(r.bytes(32)) };
    r.end();
    return s;
  },
};

const emptyCodec: Codec<null> = {
  encode: () => new Uint8Array(0),
  decode: () => null,
};

export interface NetworkTransportDeps {
  host: NetworkHost;
  blockSource: ChainBlockSource;
  pool: TxPool;
  evidence: EvidencePool;
  logger?: Logger;
}

/**
 * Everything the BFT node sends over libp2p. Proposals, votes and block sync (blocks_by_range with certificates)
 * go through the consensus package's `ConsensusNetwork`; this adds the transaction topic (locally submitted
 * transactions, batched), the evidence topic and the `status` protocol (height and head of a peer).
 */
export class NetworkTransport implements ConsensusTransport {
  readonly opts: NetworkTransportOptions;
  readonly host: NetworkHost;
  readonly consensus: ConsensusNetwork;
  readonly txTopic: GossipTopic<Uint8Array[]>;
  readonly evidenceTopic: GossipTopic<DuplicateVoteEvidence>;
  readonly statusProtocol: ReqRespProtocol<null, PeerStatus>;
  private readonly pool: TxPool;
  private readonly evidence: EvidencePool;
  private readonly blockSource: ChainBlockSource;
  private readonly log: Logger;
  private readonly batcher: GossipBatcher<Uint8Array>;
  /** Hashes of transactions being added from gossip (not re-published: gossipsub relays them already). */
  private readonly fromGossip = new Set<Hex>();
  private readonly onPoolTx: (ptx: PoolTx) => void;
  private closed = false;

  constructor(opts: Partial<NetworkTransportOptions>, deps: NetworkTransportDeps) {
    this.opts = withDefaults(defaultNetworkTransportOptions, opts);
    this.host = deps.host;
    this.pool = deps.pool;
    this.evidence = deps.evidence;
    this.blockSource = deps.blockSource;
    this.log = deps.logger ?? createLogger({ name: "bft-net" });
    this.consensus = new ConsensusNetwork(deps.host, deps.blockSource);
    this.txTopic = {
      name: "txs",
      version: 1,
      codec: listCodec(bytesCodec, this.opts.txBatchMax * 4),
      validate: (raws) => this.receiveTxs(raws),
      handle: () => {},
    };
    this.evidenceTopic = {
      name: "evidence",
      version: 1,
      codec: { encode: encodeEvidence, decode: decodeEvidence },
      validate: (ev) => this.receiveEvidence(ev),
      handle: () => {},
    };
    this.statusProtocol = {
      name: "status",
      version: 1,
      requestCodec: emptyCodec,
      responseCodec: statusCodec,
      handle: () => ({ height: this.blockSource.headHeight(), headHash: this.headHash() }),
    };
    this.batcher = new GossipBatcher((raws) => this.publishTxs(raws, 0), {
      maxItems: this.opts.txBatchMax,
      maxDelayMs: this.opts.txBatchDelayMs,
      onError: (err) => this.log.debug({ err: (err as Error).message }, "tx gossip failed"),
    });
    this.onPoolTx = (ptx) => {
      if (this.fromGossip.has(bytesToHex(ptx.hash))) return;
      this.batcher.add(ptx.tx.serialize());
    };
  }

  /**
   * Publishes a batch of local transactions. With no subscribed peer yet (the node just started, the mesh is still
   * forming) gossipsub drops the message, so the batch is retried a few times, a second apart.
   */
  private async publishTxs(raws: Uint8Array[], attempt: number): Promise<void> {
    if (this.closed) return;
    const recipients = await this.host.publish(this.txTopic, raws).catch(() => 0);
    if (recipients === 0 && attempt < 10) {
      const t = setTimeout(() => void this.publishTxs(raws, attempt + 1), 1000);
      t.unref();
    }
  }

  private headHash(): Hex {
    return this.blockSource.headHash();
  }

  /** Registers topics and protocols (before `host.start()`) and starts publishing local transactions. */
  async register(): Promise<void> {
    await this.consensus.register();
    this.host.registerTopic(this.txTopic);
    this.host.registerTopic(this.evidenceTopic);
    await this.host.registerProtocol(this.statusProtocol);
    this.pool.on("tx", this.onPoolTx);
  }

  bind(driver: ConsensusDriver): void {
    this.consensus.bind(driver);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.pool.off("tx", this.onPoolTx);
    await this.batcher.close();
  }

  broadcastProposal(proposal: Proposal): Promise<void> {
    return Promise.resolve(this.consensus.transport.broadcastProposal(proposal));
  }

  broadcastVote(vote: Vote): Promise<void> {
    return Promise.resolve(this.consensus.transport.broadcastVote(vote));
  }

  fetchBlocks(startHeight: number, count: number): Promise<SyncedBlock[]> {
    return this.consensus.transport.fetchBlocks(startHeight, count);
  }

  /** Gossips evidence this node found (its engine saw two conflicting votes). */
  async publishEvidence(ev: DuplicateVoteEvidence): Promise<void> {
    try {
      await this.host.publish(this.evidenceTopic, ev);
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, "evidence gossip failed");
    }
  }

  /** Asks every connected peer for its status. */
  async peerStatuses(): Promise<{ peer: string; status: PeerStatus }[]> {
    const out: { peer: string; status: PeerStatus }[] = [];
    await Promise.all(
      this.host.connectedPeers.map(async (peer) => {
        try {
          out.push({ peer, status: await this.host.request(peer, this.statusProtocol, null) });
        } catch {
          // unreachable or not a zgnode peer
        }
      }),
    );
    return out;
  }

  private async receiveTxs(raws: Uint8Array[]): Promise<"accept" | "ignore" | "reject"> {
    let admitted = 0;
    for (const raw of raws) {
      const hash = bytesToHex(keccak256(raw));
      this.fromGossip.add(hash);
      try {
        await this.pool.addRaw(raw);
        admitted++;
      } catch (err) {
        if (!isCodedError(err)) this.log.debug({ err: (err as Error).message }, "gossiped tx failed");
      } finally {
        this.fromGossip.delete(hash);
      }
    }
    return admitted > 0 ? "accept" : "ignore";
  }

  private async receiveEvidence(ev: DuplicateVoteEvidence): Promise<"accept" | "ignore" | "reject"> {
    try {
      return (await this.evidence.add(ev, this.blockSource.headHeight() + 1)) ? "accept" : "ignore";
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, "invalid evidence from gossip");
      return "reject";
    }
  }
}
