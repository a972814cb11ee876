/**
 * `pnpm bench:consensus`: a 4-validator zgnode BFT network on loopback (real processes, libp2p, staking genesis)
 * beside a single-node `zgnode dev` of the same run.
 *
 * Per target: block interval (mean = window / blocks, and p99 of the gaps between new heads seen by polling node 0
 * every 10 ms) while
 * idle and under load; commit latency (p50/p99 from eth_sendRawTransaction returning until the tx's block is seen)
 * for sparse probe transfers while idle and for every transfer under load; sustained tx/s (transfers included /
 * time from the first send until the last inclusion). Load: pre-signed 1-wei transfers from dev accounts 5..9,
 * 16 requests in flight, spread round-robin over the validators' RPC endpoints: first saturated (sustained tx/s),
 * then paced at half the saturated rate (commit latency below saturation, where queueing does not dominate).
 * Flags: --load-seconds S (default 20), --idle-seconds S (15), --probes N (10), --rate R (tx/s offered, 0 = max).
 * Anchors printed beside: CometBFT default timeouts (propose 3 s, prevote 1 s, precommit 1 s, commit 1 s: about
 * 1-2 s blocks) and 0G's published ~500 ms block time.
 */
import { parseArgs } from "node:util";
import { Transaction, Wallet } from "ethers";
import { Testnet } from "../../../test/harness/testnet.ts";
import { startZgnode } from "./peers.ts";

const SENDER_KEYS = [
  "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
  "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
  "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
  "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
  "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
];
const SINK = "0x000000000000000000000000000000000000dEaD";

const { values } = parseArgs({
  options: {
    "load-seconds": { type: "string", default: "20" },
    "idle-seconds": { type: "string", default: "15" },
    probes: { type: "string", default: "10" },
    rate: { type: "string", default: "0" },
  },
});
const LOAD_S = Number(values["load-seconds"]);
const IDLE_S = Number(values["idle-seconds"]);
const PROBES = Number(values.probes);
const RATE = Number(values.rate);

let rpcId = 0;
async function rpc<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: ++rpcId, method, params }),
  });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** Watches node 0: arrival time of each new head and the inclusion time of each tx hash. */
class HeadWatcher {
  readonly url: string;
  readonly heads = new Map<number, number>();
  readonly included = new Map<string, number>();
  private last = 0;
  private running = true;
  private loop: Promise<void>;

  constructor(url: string, start: number) {
    this.url = url;
    this.last = start;
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const h = Number(await rpc<string>(this.url, "eth_blockNumber"));
        const now = performance.now();
        for (let n = this.last + 1; n <= h; n++) {
          this.heads.set(n, now);
          const b = await rpc<{ transactions: string[] }>(this.url, "eth_getBlockByNumber", [`0x${n.toString(16)}`, false]);
          for (const tx of b.transactions) this.included.set(tx, now);
        }
        this.last = Math.max(this.last, h);
      } catch {
        // transient
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Mean block interval over [from, to]: elapsed time / blocks that arrived in it (polling hides sub-10 ms gaps). */
  meanInterval(from: number, to: number): number {
    const n = [...this.heads.values()].filter((t) => t >= from && t <= to).length;
    return n > 0 ? (to - from) / n : Number.NaN;
  }

  intervals(from: number, to: number): number[] {
    const out: number[] = [];
    for (const [n, t] of this.heads) {
      const prev = this.heads.get(n - 1);
      if (prev !== undefined && t >= from && t <= to) out.push(t - prev);
    }
    return out;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

interface Figures {
  name: string;
  idleIntervalMean: number;
  idleIntervalP99: number;
  idleLatencyP50: number;
  idleLatencyP99: number;
  loadIntervalMean: number;
  loadIntervalP99: number;
  loadLatencyP50: number;
  loadLatencyP99: number;
  txPerSec: number;
  included: number;
  sent: number;
  pacedRate: number;
  pacedLatencyP50: number;
  pacedLatencyP99: number;
  pacedIntervalMean: number;
}

interface LoadResult {
  signed: number;
  sent: number;
  included: number;
  txPerSec: number;
  latencyP50: number;
  latencyP99: number;
  intervalMean: number;
  intervalP99: number;
}

/** Sends pre-signed transfers (16 in flight; paced at `rate` tx/s when > 0) for `seconds`, waits for inclusion. */
async function loadPhase(
  watcher: HeadWatcher,
  urls: string[],
  sign: (i: number) => Promise<string>,
  firstIndex: number,
  rate: number,
  seconds: number,
): Promise<LoadResult> {
  const maxTxs = rate > 0 ? Math.ceil(rate * seconds) : 400 * seconds;
  const raws: string[] = [];
  for (let i = 0; i < maxTxs; i++) raws.push(await sign(firstIndex + i));
  const sentAt = new Map<string, number>();
  const start = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < raws.length && performance.now() - start < seconds * 1000) {
      const i = next++;
      if (rate > 0) {
        const due = start + (i * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      try {
        const hash = await rpc<string>(urls[i % urls.length], "eth_sendRawTransaction", [raws[i]]);
        sentAt.set(hash, performance.now());
      } catch {
        // a full pool or a busy node: not counted as sent
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  const deadline = performance.now() + 90_000;
  const done = () => [...sentAt.keys()].every((h) => watcher.included.has(h));
  while (!done() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const lat: number[] = [];
  let last = start;
  for (const [h, t] of sentAt) {
    const inc = watcher.included.get(h);
    if (inc === undefined) continue;
    lat.push(inc - t);
    last = Math.max(last, inc);
  }
  return {
    signed: raws.length,
    sent: sentAt.size,
    included: lat.length,
    txPerSec: lat.length / ((last - start) / 1000),
    latencyP50: pct(lat, 50),
    latencyP99: pct(lat, 99),
    intervalMean: watcher.meanInterval(start, last),
    intervalP99: pct(watcher.intervals(start, last), 99),
  };
}

async function measure(name: string, urls: string[]): Promise<Figures> {
  const chainId = BigInt(await rpc<string>(urls[0], "eth_chainId"));
  const watcher = new HeadWatcher(urls[0], Number(await rpc<string>(urls[0], "eth_blockNumber")));
  const wallets = SENDER_KEYS.map((k) => new Wallet(k));
  const nonces = await Promise.all(
    wallets.map(async (w) => Number(await rpc<string>(urls[0], "eth_getTransactionCount", [w.address, "pending"]))),
  );
  const sign = async (i: number) => {
    const w = i % wallets.length;
    const tx = Transaction.from({
      type: 2,
      chainId,
      nonce: nonces[w]++,
      to: SINK,
      value: 1n,
      gasLimit: 21_000n,
      maxFeePerGas: 50_000_000_000n,
      maxPriorityFeePerGas: 1_000_000_000n,
    });
    return wallets[w].signTransaction(tx);
  };

  // Idle: block gaps plus sparse probes.
  const idleStart = performance.now();
  const idleLat: number[] = [];
  for (let p = 0; p < PROBES; p++) {
    const raw = await sign(p);
    const hash = await rpc<string>(urls[p % urls.length], "eth_sendRawTransaction", [raw]);
    const t0 = performance.now();
    const deadline = t0 + 30_000;
    while (!watcher.included.has(hash) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    if (watcher.included.has(hash)) idleLat.push((watcher.included.get(hash) as number) - t0);
    await new Promise((r) => setTimeout(r, Math.max(0, (IDLE_S * 1000) / PROBES - (performance.now() - t0))));
  }
  const idleEnd = performance.now();

  // Saturated load (for tx/s), then a paced load at half that rate (for commit latency below saturation).
  const saturated = await loadPhase(watcher, urls, sign, PROBES, RATE, LOAD_S);
  const pacedRate = Math.max(2, Math.floor(saturated.txPerSec / 2));
  // Pre-signed but unsent transfers left nonce gaps: continue from the chain's nonces.
  for (let w = 0; w < wallets.length; w++)
    nonces[w] = Number(await rpc<string>(urls[0], "eth_getTransactionCount", [wallets[w].address, "latest"]));
  const paced = await loadPhase(watcher, urls, sign, PROBES + saturated.signed, pacedRate, LOAD_S);
  await watcher.stop();
  const idleGaps = watcher.intervals(idleStart, idleEnd);
  return {
    name,
    idleIntervalMean: watcher.meanInterval(idleStart, idleEnd),
    idleIntervalP99: pct(idleGaps, 99),
    idleLatencyP50: pct(idleLat, 50),
    idleLatencyP99: pct(idleLat, 99),
    loadIntervalMean: saturated.intervalMean,
    loadIntervalP99: saturated.intervalP99,
    loadLatencyP50: saturated.latencyP50,
    loadLatencyP99: saturated.latencyP99,
    txPerSec: saturated.txPerSec,
    included: saturated.included,
    sent: saturated.sent,
    pacedRate,
    pacedLatencyP50: paced.latencyP50,
    pacedLatencyP99: paced.latencyP99,
    pacedIntervalMean: paced.intervalMean,
  };
}

function print(rows: Figures[]): void {
  const ms = (x: number) => (Number.isFinite(x) ? `${Math.round(x)}` : "-");
  const head = [
    "target",
    "idle block mean/p99 ms",
    "idle commit p50/p99 ms",
    "saturated block mean/p99 ms",
    "saturated commit p50/p99 ms",
    "tx/s",
    "incl/sent",
    "paced tx/s",
    "paced block mean ms",
    "paced commit p50/p99 ms",
  ];
  const lines = rows.map((r) => [
    r.name,
    `${ms(r.idleIntervalMean)}/${ms(r.idleIntervalP99)}`,
    `${ms(r.idleLatencyP50)}/${ms(r.idleLatencyP99)}`,
    `${ms(r.loadIntervalMean)}/${ms(r.loadIntervalP99)}`,
    `${ms(r.loadLatencyP50)}/${ms(r.loadLatencyP99)}`,
    r.txPerSec.toFixed(1),
    `${r.included}/${r.sent}`,
    String(r.pacedRate),
    ms(r.pacedIntervalMean),
    `${ms(r.pacedLatencyP50)}/${ms(r.pacedLatencyP99)}`,
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(w[i])).join("  ");
  console.log(fmt(head));
  for (const l of lines) console.log(fmt(l));
  const bft = rows.find((r) => r.name.startsWith("bft"));
  const dev = rows.find((r) => r.name.startsWith("dev"));
  if (bft && dev) {
    console.log(
      `\nratio bft/dev: idle commit p50 x${(bft.idleLatencyP50 / dev.idleLatencyP50).toFixed(1)}, paced commit p50 x${(bft.pacedLatencyP50 / dev.pacedLatencyP50).toFixed(1)}, saturated tx/s x${(bft.txPerSec / dev.txPerSec).toFixed(2)}`,
    );
  }
  console.log(
    "anchors: CometBFT defaults propose 3 s, prevote 1 s, precommit 1 s, commit 1 s (~1-2 s blocks); 0G publishes ~500 ms blocks",
  );
  console.log(
    `machine: ${process.platform}/${process.arch}, node ${process.versions.node}; figures taken on loopback, all processes on one host`,
  );
}

async function main(): Promise<void> {
  const rows: Figures[] = [];
  console.error(`[bench] 4-validator BFT network (zgnode init/start), load ${LOAD_S} s, idle ${IDLE_S} s`);
  const net = await Testnet.init({ validators: 4, logLevel: "warn" });
  try {
    await net.start();
    await Testnet.until(async () => (await net.head(0)) >= 2, 60_000, "first blocks");
    rows.push(
      await measure(
        "bft 4 validators",
        net.nodes.map((n) => n.url),
      ),
    );
  } finally {
    await net.cleanup();
  }
  console.error("[bench] single-node zgnode dev (instant seal)");
  const dev = await startZgnode("dev", ["--seal", "instant"]);
  try {
    rows.push(await measure("dev instant", [dev.url]));
  } finally {
    await dev.stop();
  }
  console.error("[bench] single-node zgnode dev (interval seal 500 ms)");
  const dev500 = await startZgnode("dev500", ["--seal", "interval", "--block-time", "500"]);
  try {
    rows.push(await measure("dev interval 500ms", [dev500.url]));
  } finally {
    await dev500.stop();
  }
  print(rows);
}

await main();
