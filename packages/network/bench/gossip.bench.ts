/**
 * Gossip throughput between two libp2p nodes on 127.0.0.1: 200-byte messages published one at a time (awaiting
 * each publish) against the same messages sent in batches through `GossipBatcher` + `listCodec`.
 * Run: node packages/network/bench/gossip.bench.ts [messages]
 */
import { createLogger, sleep } from "@zgnode/utils";
import { bytesCodec, GossipBatcher, type GossipTopic, listCodec, NetworkHost } from "../src/index.ts";

const total = Number(process.argv[2] ?? 5000);
const logger = createLogger({ level: "silent" });
const payload = () => new Uint8Array(200).map(() => Math.floor(Math.random() * 256));

async function pair() {
  const a = await NetworkHost.create({ listenAddresses: ["/ip4/127.0.0.1/tcp/0"] }, { logger });
  const b = await NetworkHost.create({ listenAddresses: ["/ip4/127.0.0.1/tcp/0"] }, { logger });
  return { a, b };
}

async function waitFor(cond: () => boolean, ms = 120_000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await sleep(5);
  }
}

async function single(): Promise<number> {
  const { a, b } = await pair();
  let got = 0;
  const topic: GossipTopic<Uint8Array> = {
    name: "one",
    version: 1,
    codec: bytesCodec,
    validate: () => "accept",
    handle: () => void got++,
  };
  a.registerTopic(topic);
  b.registerTopic(topic);
  await a.start();
  await b.start();
  await a.dial(b.multiaddrs[0]);
  await waitFor(() => a.topicPeers(topic).length === 1);
  const t0 = performance.now();
  for (let i = 0; i < total; i++) await a.publish(topic, payload());
  await waitFor(() => got >= total);
  const rate = total / ((performance.now() - t0) / 1000);
  await a.stop();
  await b.stop();
  return rate;
}

async function batched(maxItems: number): Promise<number> {
  const { a, b } = await pair();
  let got = 0;
  const topic: GossipTopic<Uint8Array[]> = {
    name: "batch",
    version: 1,
    codec: listCodec(bytesCodec),
    validate: () => "accept",
    handle: (list) => {
      got += list.length;
    },
  };
  a.registerTopic(topic);
  b.registerTopic(topic);
  await a.start();
  await b.start();
  await a.dial(b.multiaddrs[0]);
  await waitFor(() => a.topicPeers(topic).length === 1);
  const batcher = new GossipBatcher<Uint8Array>((items) => a.publish(topic, items), { maxItems, maxDelayMs: 5 });
  const t0 = performance.now();
  for (let i = 0; i < total; i++) batcher.add(payload());
  await batcher.close();
  await waitFor(() => got >= total);
  const rate = total / ((performance.now() - t0) / 1000);
  await a.stop();
  await b.stop();
  return rate;
}

const one = await single();
const b64 = await batched(64);
const b256 = await batched(256);
console.log(`gossip, 2 nodes on loopback, ${total} x 200-byte messages (figures taken under whatever load the machine has)`);
console.log(`  one publish per message (awaited): ${one.toFixed(0)} msg/s`);
console.log(`  batches of 64:                     ${b64.toFixed(0)} msg/s  (${(b64 / one).toFixed(1)}x)`);
console.log(`  batches of 256:                    ${b256.toFixed(0)} msg/s  (${(b256 / one).toFixed(1)}x)`);
process.exit(0);
