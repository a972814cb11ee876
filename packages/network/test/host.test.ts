import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { peerIdFromString } from "@libp2p/peer-id";
import { bytesToUtf8, createLogger, createMetricsRegistry, deferred, sleep, utf8ToBytes } from "@zgnode/utils";
import { afterEach, describe, expect, it } from "vitest";
import {
  type Codec,
  createNetworkMetrics,
  GossipBatcher,
  type GossipTopic,
  type GossipVerdict,
  listCodec,
  NetworkHost,
  type ReqRespProtocol,
} from "../src/index.ts";

const logger = createLogger({ name: "test", level: "silent" });
const text: Codec<string> = { encode: utf8ToBytes, decode: bytesToUtf8 };
const hosts: NetworkHost[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function startHost(opts: { dataDir?: string; bootnodes?: string[]; gossipQueueCapacity?: number } = {}) {
  const registry = createMetricsRegistry();
  const host = await NetworkHost.create(
    { chainId: 8888, listenAddresses: ["/ip4/127.0.0.1/tcp/0"], bootnodeRedialMs: 200, ...opts },
    { logger, metrics: createNetworkMetrics(registry) },
  );
  hosts.push(host);
  return { host, registry };
}

async function until(cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await sleep(25);
  }
}

function chatTopic(received: string[], rejectPrefix = "bad"): GossipTopic<string> {
  return {
    name: "chat",
    version: 1,
    codec: text,
    validate: (m) => (m.startsWith(rejectPrefix) ? "reject" : "accept"),
    handle: (m) => {
      received.push(m);
    },
  };
}

describe("NetworkHost", () => {
  it("versions topic and protocol ids by chain id", async () => {
    const { host } = await startHost();
    expect(host.topicId({ name: "blocks_by_range", version: 1 })).toBe("/zgnode/8888/blocks_by_range/1");
  });

  it("delivers gossip over a line of three nodes and never relays a message its validator rejects", async () => {
    const got = [[], [], []] as string[][];
    const a = (await startHost()).host;
    const b = (await startHost()).host;
    const c = (await startHost()).host;
    for (const [i, h] of [a, b, c].entries()) h.registerTopic(chatTopic(got[i]));
    await Promise.all([a.start(), b.start(), c.start()]);
    // a - b - c: c only hears a through b's relay.
    await a.dial(b.multiaddrs[0]);
    await c.dial(b.multiaddrs[0]);
    const chat = chatTopic([]);
    await until(() => a.topicPeers(chat).length === 1 && c.topicPeers(chat).length === 1 && b.topicPeers(chat).length === 2);
    await sleep(1200); // one gossipsub heartbeat so b's mesh includes c
    await a.publish(chat, "bad message");
    await a.publish(chat, "hello");
    await until(() => got[2].includes("hello"));
    expect(got[1]).toEqual(["hello"]); // b validated and rejected the bad one, accepted the good one
    await sleep(300);
    expect(got[2]).toEqual(["hello"]); // the rejected message never reached c
    // b penalised a for relaying a message its validator rejected.
    await until(() => b.peerScore(a.peerId.toString()) < 0);
    expect(b.peerScore(c.peerId.toString())).toBeGreaterThanOrEqual(0);
  });

  it("answers req/resp requests, reporting handler failures and bad requests as coded errors", async () => {
    const a = (await startHost()).host;
    const b = (await startHost()).host;
    const echo: ReqRespProtocol<string, string> = {
      name: "echo",
      version: 1,
      requestCodec: {
        encode: utf8ToBytes,
        decode: (bytes) => {
          const s = bytesToUtf8(bytes);
          if (s === "malformed") throw new Error("cannot decode");
          return s;
        },
      },
      responseCodec: text,
      handle: (req, from) => {
        if (req === "boom") throw new Error("handler exploded");
        return `${req} from ${from.slice(-6)}`;
      },
    };
    await b.registerProtocol(echo);
    await Promise.all([a.start(), b.start()]);
    await a.dial(b.multiaddrs[0]);
    const peer = b.peerId.toString();
    expect(await a.request(peer, echo, "ping")).toBe(`ping from ${a.peerId.toString().slice(-6)}`);
    await expect(a.request(peer, echo, "boom")).rejects.toMatchObject({ code: "NETWORK_REQUEST_FAILED", data: { status: 2 } });
    await expect(a.request(peer, echo, "malformed")).rejects.toMatchObject({ data: { status: 1 } });
    // A protocol the peer does not serve fails cleanly.
    await expect(a.request(peer, { ...echo, name: "nope" }, "x")).rejects.toMatchObject({ code: "NETWORK_REQUEST_FAILED" });
  });

  it("times out a request the peer never answers", async () => {
    const a = await NetworkHost.create({ listenAddresses: ["/ip4/127.0.0.1/tcp/0"], requestTimeoutMs: 300 }, { logger });
    hosts.push(a);
    const b = (await startHost()).host;
    const never: ReqRespProtocol<string, string> = {
      name: "never",
      version: 1,
      requestCodec: text,
      responseCodec: text,
      handle: () => new Promise<string>(() => {}),
    };
    await b.registerProtocol(never);
    await Promise.all([a.start(), b.start()]);
    await a.dial(b.multiaddrs[0]);
    const t0 = Date.now();
    await expect(a.request(b.peerId.toString(), never, "hello")).rejects.toMatchObject({ code: "NETWORK_REQUEST_TIMEOUT" });
    // The server gives up on its stuck handler too (its own deadline) and answers with an error status.
    const slowServer = await NetworkHost.create({ listenAddresses: ["/ip4/127.0.0.1/tcp/0"], requestTimeoutMs: 200 }, { logger });
    hosts.push(slowServer);
    await slowServer.registerProtocol(never);
    await slowServer.start();
    await b.dial(slowServer.multiaddrs[0]);
    await expect(b.request(slowServer.peerId.toString(), never, "x")).rejects.toMatchObject({ data: { status: 2 } });
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it("keeps its peer id and peer store across a restart and reconnects to bootnodes", async () => {
    const dir = await mkdtemp(join(tmpdir(), "zgnode-net-"));
    dirs.push(dir);
    const b = (await startHost()).host;
    await b.start();
    const first = (await startHost({ dataDir: dir, bootnodes: [`${b.multiaddrs[0]}`] })).host;
    await first.start();
    await until(() => first.connectedPeers.includes(b.peerId.toString()));
    const id = first.peerId.toString();
    await first.stop();
    hosts.splice(hosts.indexOf(first), 1);

    const second = (await startHost({ dataDir: dir })).host;
    expect(second.peerId.toString()).toBe(id);
    // The peer store remembered b's address from the first run.
    const known = await second.libp2p.peerStore.get(peerIdFromString(b.peerId.toString()));
    expect(known.addresses.length).toBeGreaterThan(0);
  });

  it("bounds the inbound validation queue and counts what it drops", async () => {
    const a = (await startHost()).host;
    const { host: b, registry } = await startHost({ gossipQueueCapacity: 2 });
    const gate = deferred<void>();
    const handled: string[] = [];
    const slow: GossipTopic<string> = {
      name: "slow",
      version: 1,
      codec: text,
      validate: async (): Promise<GossipVerdict> => {
        await gate.promise;
        return "accept";
      },
      handle: (m) => {
        handled.push(m);
      },
    };
    a.registerTopic({ ...slow, validate: () => "accept" });
    b.registerTopic(slow);
    await Promise.all([a.start(), b.start()]);
    await a.dial(b.multiaddrs[0]);
    await until(() => a.topicPeers(slow).length === 1);
    for (let i = 0; i < 10; i++) await a.publish(slow, `m${i}`);
    const dropped = async () =>
      (await registry.getSingleMetric("zgnode_network_gossip_queue_dropped_total")?.get())?.values[0]?.value ?? 0;
    await until(async () => (await dropped()) >= 7);
    gate.resolve();
    await until(() => handled.length === 3);
    // The first message was being validated; of the rest only the two newest fit the queue.
    expect(handled).toEqual(["m0", "m8", "m9"]);
  });

  it("batches many small items into few gossip messages", async () => {
    const a = (await startHost()).host;
    const b = (await startHost()).host;
    const got: string[] = [];
    let messages = 0;
    const txs: GossipTopic<string[]> = {
      name: "txs",
      version: 1,
      codec: listCodec(text),
      validate: (list) => (list.length > 0 ? "accept" : "reject"),
      handle: (list) => {
        messages++;
        got.push(...list);
      },
    };
    a.registerTopic(txs);
    b.registerTopic(txs);
    await Promise.all([a.start(), b.start()]);
    await a.dial(b.multiaddrs[0]);
    await until(() => a.topicPeers(txs).length === 1);
    const batcher = new GossipBatcher<string>((items) => a.publish(txs, items), { maxItems: 100, maxDelayMs: 10 });
    for (let i = 0; i < 1000; i++) batcher.add(`tx${i}`);
    await batcher.close();
    await until(() => got.length === 1000);
    expect(got[999]).toBe("tx999");
    expect(messages).toBeLessThanOrEqual(11);
  });
});
