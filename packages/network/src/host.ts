import { join } from "node:path";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { type GossipSub, type GossipsubMessage, gossipsub, TopicValidatorResult } from "@libp2p/gossipsub";
import { createTopicScoreParams, type TopicScoreParams } from "@libp2p/gossipsub/score";
import { identify } from "@libp2p/identify";
import type { Connection, PeerId, PrivateKey, Stream } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import { ping } from "@libp2p/ping";
import { tcp } from "@libp2p/tcp";
import { multiaddr } from "@multiformats/multiaddr";
import { BoundedQueue, CodedError, concatBytes, createLogger, type Logger, withDefaults } from "@zgnode/utils";
import { LevelDatastore } from "datastore-level";
import { createLibp2p, type Libp2p } from "libp2p";
import { NetworkErrorCode } from "./errors.ts";
import type { NetworkMetrics } from "./metrics.ts";
import { defaultNetworkOptions, type NetworkOptions } from "./options.ts";
import { loadOrCreatePeerKey } from "./peerKey.ts";
import {
  type AnyGossipTopic,
  type AnyReqRespProtocol,
  type GossipTopic,
  type GossipVerdict,
  protocolId,
  type ReqRespProtocol,
  ResponseStatus,
} from "./protocols.ts";
import { readAll } from "./streamRead.ts";

/**
 * Gossipsub choice: `@libp2p/gossipsub` (17.x, in the js-libp2p monorepo). `@chainsafe/libp2p-gossipsub` 14 is
 * built against libp2p 2.x interfaces and does not load into a libp2p 3 node; `@libp2p/gossipsub` is its
 * maintained continuation (same code base and options: async validation, peer scoring, IDONTWANT) released in
 * lock-step with libp2p 3.
 */
type GossipSubWithValidation = GossipSub & {
  reportMessageValidationResult(msgId: string, propagationSource: string, acceptance: TopicValidatorResult): void;
  getScore(peerId: string): number;
  readonly score: { readonly params: { topics: Record<string, TopicScoreParams> } };
};

/**
 * Per-topic peer scoring: only invalid deliveries count (gossipsub P4, counter squared x weight, decaying 0.9 per
 * second), so a peer that relays messages our validators reject first loses gossip from us (-10) and after about
 * three rejected messages is graylisted (-80). Mesh-delivery quotas stay off: quiet validators are not faulty.
 */
const TOPIC_SCORE = createTopicScoreParams({
  topicWeight: 1,
  timeInMeshWeight: 0,
  firstMessageDeliveriesWeight: 0,
  meshMessageDeliveriesWeight: 0,
  meshFailurePenaltyWeight: 0,
  invalidMessageDeliveriesWeight: -10,
  invalidMessageDeliveriesDecay: 0.9,
});

type Services = { identify: unknown; ping: unknown; pubsub: GossipSub };

interface QueuedGossip {
  msgId: string;
  from: string;
  data: Uint8Array;
}

interface TopicState {
  topic: AnyGossipTopic;
  id: string;
  queue: BoundedQueue<QueuedGossip>;
  draining: boolean;
}

const VERDICT: Record<GossipVerdict, TopicValidatorResult> = {
  accept: TopicValidatorResult.Accept,
  ignore: TopicValidatorResult.Ignore,
  reject: TopicValidatorResult.Reject,
};

/**
 * The node's libp2p host: TCP + noise + yamux, identify, ping and gossipsub, with gossip topics and req/resp
 * protocols registered from typed tables. Inbound gossip goes through a bounded queue per topic and is validated
 * before gossipsub relays it; a full queue drops the oldest message (reported as "ignore", counted in metrics).
 */
export class NetworkHost {
  readonly opts: NetworkOptions;
  readonly libp2p: Libp2p<Services>;
  private readonly log: Logger;
  private readonly metrics: NetworkMetrics | undefined;
  private readonly datastore: LevelDatastore | undefined;
  private readonly topics = new Map<string, TopicState>();
  private readonly protocols = new Map<string, AnyReqRespProtocol>();
  private readonly inflight = new Map<string, number>();
  private redialTimer: NodeJS.Timeout | undefined;
  private started = false;

  private constructor(
    opts: NetworkOptions,
    libp2p: Libp2p<Services>,
    datastore: LevelDatastore | undefined,
    deps: { logger: Logger; metrics?: NetworkMetrics },
  ) {
    this.opts = opts;
    this.libp2p = libp2p;
    this.datastore = datastore;
    this.log = deps.logger;
    this.metrics = deps.metrics;
  }

  static async create(
    options: Partial<NetworkOptions>,
    deps: { logger?: Logger; metrics?: NetworkMetrics; privateKey?: PrivateKey } = {},
  ): Promise<NetworkHost> {
    const opts = withDefaults(defaultNetworkOptions, options);
    const logger = deps.logger ?? createLogger({ name: "network" });
    const privateKey = deps.privateKey ?? (opts.dataDir ? await loadOrCreatePeerKey(join(opts.dataDir, "peer-key")) : undefined);
    let datastore: LevelDatastore | undefined;
    if (opts.dataDir) {
      // libp2p keeps its peer store (addresses, protocols, tags of known peers) in this datastore.
      datastore = new LevelDatastore(join(opts.dataDir, "peerstore"));
      await datastore.open();
    }
    const libp2p = await createLibp2p({
      ...(privateKey ? { privateKey } : {}),
      ...(datastore ? { datastore } : {}),
      start: false,
      addresses: { listen: opts.listenAddresses },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: {
        identify: identify(),
        ping: ping(),
        pubsub: gossipsub({
          asyncValidation: true,
          allowPublishToZeroTopicPeers: true,
          ignoreDuplicatePublishError: true,
          emitSelf: false,
          maxInboundDataLength: opts.maxGossipBytes,
        }),
      },
    });
    return new NetworkHost(opts, libp2p as unknown as Libp2p<Services>, datastore, { ...deps, logger });
  }

  get peerId(): PeerId {
    return this.libp2p.peerId;
  }

  get multiaddrs(): string[] {
    return this.libp2p.getMultiaddrs().map((m) => m.toString());
  }

  get connectedPeers(): string[] {
    return this.libp2p.getPeers().map((p) => p.toString());
  }

  private get pubsub(): GossipSubWithValidation {
    return this.libp2p.services.pubsub as GossipSubWithValidation;
  }

  async start(): Promise<void> {
    if (this.started) return;
    await this.libp2p.start();
    this.started = true;
    this.pubsub.addEventListener("gossipsub:message", (ev) => this.onGossip(ev.detail));
    for (const id of this.topics.keys()) this.pubsub.subscribe(id);
    const updatePeers = () => this.metrics?.peers.set(this.libp2p.getPeers().length);
    this.libp2p.addEventListener("peer:connect", updatePeers);
    this.libp2p.addEventListener("peer:disconnect", updatePeers);
    await this.dialBootnodes();
    this.redialTimer = setInterval(() => void this.dialBootnodes(), this.opts.bootnodeRedialMs);
    this.redialTimer.unref();
    this.log.info({ peerId: this.peerId.toString(), addrs: this.multiaddrs }, "network started");
  }

  async stop(): Promise<void> {
    if (this.redialTimer) clearInterval(this.redialTimer);
    if (this.started) await this.libp2p.stop();
    this.started = false;
    await this.datastore?.close();
  }

  /** Dials every bootnode we are not connected to; failures are logged and retried later. */
  async dialBootnodes(): Promise<void> {
    const connected = new Set(this.connectedPeers);
    await Promise.all(
      this.opts.bootnodes.map(async (addr) => {
        try {
          const ma = multiaddr(addr);
          const peer = ma.getComponents().find((c) => c.name === "p2p")?.value;
          if (peer && (connected.has(peer) || peer === this.peerId.toString())) return;
          await this.libp2p.dial(ma);
        } catch (err) {
          this.log.debug({ addr, err: (err as Error).message }, "bootnode dial failed");
        }
      }),
    );
  }

  async dial(addr: string): Promise<void> {
    await this.libp2p.dial(multiaddr(addr));
  }

  topicId(topic: { name: string; version: number }): string {
    return protocolId(this.opts.chainId, topic);
  }

  /** Subscribes to a topic; its messages are validated, then handled, one at a time in arrival order. */
  registerTopic<T>(topic: GossipTopic<T>): void {
    const id = this.topicId(topic);
    if (this.topics.has(id)) throw new CodedError(NetworkErrorCode.DUPLICATE_REGISTRATION, `topic ${id} already registered`);
    const state: TopicState = {
      topic,
      id,
      draining: false,
      queue: new BoundedQueue<QueuedGossip>(this.opts.gossipQueueCapacity, (dropped) => {
        this.metrics?.gossipQueueDropped.inc({ topic: topic.name });
        this.report(dropped, "ignore");
      }),
    };
    this.topics.set(id, state);
    this.pubsub.score.params.topics[id] = TOPIC_SCORE;
    if (this.started) this.pubsub.subscribe(id);
  }

  async publish<T>(topic: GossipTopic<T>, message: T): Promise<number> {
    const id = this.topicId(topic);
    if (!this.topics.has(id)) throw new CodedError(NetworkErrorCode.UNKNOWN_TOPIC, `topic ${id} is not registered`);
    if (!this.started) throw new CodedError(NetworkErrorCode.NOT_STARTED, "network host is not started");
    const data = topic.codec.encode(message);
    if (data.length > this.opts.maxGossipBytes)
      throw new CodedError(NetworkErrorCode.MESSAGE_TOO_LARGE, `gossip message of ${data.length} bytes on ${id}`);
    const res = await this.pubsub.publish(id, data);
    this.metrics?.gossipPublished.inc({ topic: topic.name });
    return res.recipients.length;
  }

  /** Gossipsub's score of a connected peer (negative after it relayed messages our validators rejected). */
  peerScore(peer: string): number {
    return this.pubsub.getScore(peer);
  }

  /** Peers subscribed to a topic (known through gossipsub). */
  topicPeers(topic: { name: string; version: number }): string[] {
    return this.pubsub.getSubscribers(this.topicId(topic)).map((p) => p.toString());
  }

  private onGossip(ev: GossipsubMessage): void {
    const state = this.topics.get(ev.msg.topic);
    const item = { msgId: ev.msgId, from: ev.propagationSource.toString(), data: ev.msg.data };
    if (!state) {
      this.report(item, "ignore");
      return;
    }
    state.queue.push(item);
    this.metrics?.gossipQueueLength.set({ topic: state.topic.name }, state.queue.size);
    if (!state.draining) void this.drain(state);
  }

  private async drain(state: TopicState): Promise<void> {
    state.draining = true;
    try {
      for (let item = state.queue.shift(); item; item = state.queue.shift()) {
        this.metrics?.gossipQueueLength.set({ topic: state.topic.name }, state.queue.size);
        let verdict: GossipVerdict;
        let message: unknown;
        try {
          message = state.topic.codec.decode(item.data);
          verdict = await state.topic.validate(message, item.from);
        } catch (err) {
          this.log.debug({ topic: state.id, from: item.from, err: (err as Error).message }, "gossip rejected");
          verdict = "reject";
        }
        this.report(item, verdict);
        this.metrics?.gossipReceived.inc({ topic: state.topic.name, result: verdict });
        if (verdict !== "accept") continue;
        try {
          await state.topic.handle(message, item.from);
        } catch (err) {
          this.log.warn({ topic: state.id, err: (err as Error).message }, "gossip handler failed");
        }
      }
    } finally {
      state.draining = false;
    }
  }

  private report(item: QueuedGossip, verdict: GossipVerdict): void {
    try {
      this.pubsub.reportMessageValidationResult(item.msgId, item.from, VERDICT[verdict]);
    } catch {
      // The message may already have left gossipsub's validation cache; nothing to report then.
    }
  }

  /** Serves a req/resp protocol. */
  registerProtocol<Req, Res>(protocol: ReqRespProtocol<Req, Res>): Promise<void> {
    const id = this.topicId(protocol);
    if (this.protocols.has(id))
      throw new CodedError(NetworkErrorCode.DUPLICATE_REGISTRATION, `protocol ${id} already registered`);
    this.protocols.set(id, protocol);
    return this.libp2p.handle(id, (stream, connection) => this.serve(protocol, id, stream, connection));
  }

  private async serve(protocol: AnyReqRespProtocol, id: string, stream: Stream, connection: Connection): Promise<void> {
    const from = connection.remotePeer.toString();
    const busy = this.inflight.get(id) ?? 0;
    let status: ResponseStatus = ResponseStatus.OK;
    let body: Uint8Array = new Uint8Array(0);
    this.inflight.set(id, busy + 1);
    try {
      if (busy >= this.opts.maxConcurrentRequests) {
        status = ResponseStatus.RESOURCE_UNAVAILABLE;
      } else {
        let request: unknown;
        try {
          const raw = await readAll(stream, this.opts.maxRequestBytes, AbortSignal.timeout(this.opts.requestTimeoutMs));
          request = protocol.requestCodec.decode(raw);
        } catch (err) {
          status = ResponseStatus.INVALID_REQUEST;
          body = new TextEncoder().encode((err as Error).message);
        }
        if (status === ResponseStatus.OK) {
          try {
            body = protocol.responseCodec.encode(await withDeadline(protocol.handle(request, from), this.opts.requestTimeoutMs));
          } catch (err) {
            status = ResponseStatus.SERVER_ERROR;
            body = new TextEncoder().encode((err as Error).message);
          }
        }
      }
      this.metrics?.requests.inc({ protocol: protocol.name, direction: "inbound", result: String(status) });
      stream.send(concatBytes(Uint8Array.of(status), body));
      await stream.close();
    } catch (err) {
      stream.abort(err as Error);
    } finally {
      this.inflight.set(id, (this.inflight.get(id) ?? 1) - 1);
    }
  }

  /** Sends one request and returns the decoded response; failures are coded errors (REQUEST_FAILED / TIMEOUT). */
  async request<Req, Res>(peer: string, protocol: ReqRespProtocol<Req, Res>, request: Req): Promise<Res> {
    const id = this.topicId(protocol);
    const signal = AbortSignal.timeout(this.opts.requestTimeoutMs);
    let raw: Uint8Array;
    try {
      const stream = await this.libp2p.dialProtocol(peerIdFromString(peer), id, { signal });
      stream.send(protocol.requestCodec.encode(request));
      await stream.close({ signal });
      raw = await readAll(stream, this.opts.maxResponseBytes + 1, signal);
    } catch (err) {
      this.metrics?.requests.inc({ protocol: protocol.name, direction: "outbound", result: "error" });
      if (signal.aborted) throw new CodedError(NetworkErrorCode.REQUEST_TIMEOUT, `${id} to ${peer} timed out`);
      throw new CodedError(NetworkErrorCode.REQUEST_FAILED, `${id} to ${peer}: ${(err as Error).message}`, undefined, {
        cause: err,
      });
    }
    const status = raw[0];
    this.metrics?.requests.inc({ protocol: protocol.name, direction: "outbound", result: String(status) });
    if (status !== ResponseStatus.OK) {
      const why = new TextDecoder().decode(raw.subarray(1));
      throw new CodedError(NetworkErrorCode.REQUEST_FAILED, `${id} to ${peer} failed with status ${status}: ${why}`, {
        status,
      });
    }
    return protocol.responseCodec.decode(raw.subarray(1));
  }
}

/** Bounds a handler's time, so a stuck handler cannot pin a request slot forever. */
function withDeadline<T>(value: T | Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CodedError(NetworkErrorCode.REQUEST_TIMEOUT, `handler took over ${ms} ms`)), ms);
  });
  return Promise.race([Promise.resolve(value), deadline]).finally(() => clearTimeout(timer));
}
