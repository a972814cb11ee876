/**
 * `pnpm bench:rpc`: mined tx/s and eth_call/s of `zgnode dev` against anvil and hardhat 3 in the same run.
 *
 * Per node (fresh instance): 2,000 pre-signed EIP-1559 1-wei transfers from dev account 0 are sent with 16
 * requests in flight (1 for hardhat, whose automine refuses nonce gaps); "mined" is the wall time from the
 * first send until the sender's `latest` nonce reaches start + 2,000. Before that timed run, 1,000 more transfers go
 * the same way as a warm-up (`--warmup-txs`), so that every node is measured in its steady state rather than while
 * its JIT compiles (zgnode's first thousand transfers run 30-50% slower than the next); their rate is printed as
 * "cold tx/s", nothing is hidden. Then eth_call against an 11-byte
 * contract returning slot 0, at 1 and 16 calls in flight. Same load client and pre-serialized bodies for every node.
 * The default client is node:http with keep-alive (~36 us of client CPU per request); `--client fetch` (undici)
 * costs ~216 us per request, so on a 2-core machine it takes a whole core and caps the fastest servers: the
 * table prints the client's CPU per call so that share is visible. Flags: --txs N, --warmup-txs N, --call-seconds S,
 * --only zgnode,anvil,hardhat, --client http|fetch, --url (an already running node).
 */
import http from "node:http";
import { parseArgs } from "node:util";
import { Wallet } from "ethers";
import { type Peer, startAnvil, startHardhat, startZgnode } from "./peers.ts";

const DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const SINK = "0x000000000000000000000000000000000000dEaD";
/** Runtime: PUSH1 0 SLOAD PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN (returns slot 0). */
const CALL_RUNTIME = "60005460005260206000f3";
/** Init code: PUSH11 runtime, PUSH1 0, MSTORE, PUSH1 11, PUSH1 21, RETURN. */
const CALL_INIT = `0x6a${CALL_RUNTIME}600052600b6015f3`;

interface Result {
  name: string;
  sendConcurrency: number;
  sendTxPerSec: number;
  minedSeconds: number;
  minedTxPerSec: number;
  blocks: number;
  callsC1: number;
  callsC16: number;
  /** Mined tx/s of the warm-up transfers (a fresh node, JIT cold); NaN without a warm-up. */
  coldTxPerSec: number;
  /** Load generator CPU (this process) per request in the c16 call phase, in microseconds. */
  clientUsPerCall: number;
  error?: string;
}

const debug = (msg: string) => {
  if (process.env.BENCH_DEBUG) console.error(`[bench] ${msg}`);
};

let rpcId = 0;
async function rpc<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: ++rpcId, method, params }),
  });
  const body = (await res.json()) as { result?: T; error?: { code: number; message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.code} ${body.error.message}`);
  return body.result as T;
}

/** How the load is sent: `http` (node:http, keep-alive, one socket per request in flight) or `fetch` (undici). */
type ClientKind = "http" | "fetch";
let clientKind: ClientKind = "http";
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function postRaw(url: string, body: string): Promise<void> {
  return clientKind === "fetch" ? postFetch(url, body) : postHttp(url, body);
}

async function postFetch(url: string, body: string): Promise<void> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
  const text = await res.text();
  if (text.includes('"error"')) throw new Error(`rpc error: ${text.slice(0, 300)}`);
}

function postHttp(url: string, body: string): Promise<void> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: u.hostname,
        port: u.port,
        path: "/",
        method: "POST",
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          text += c;
        });
        res.on("end", () => (text.includes('"error"') ? reject(new Error(`rpc error: ${text.slice(0, 300)}`)) : resolve()));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** Runs `total` jobs with `concurrency` in flight. */
async function pool(total: number, concurrency: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < total) await job(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
}

/** Runs jobs with `concurrency` in flight for `seconds`; returns completed jobs per second. */
async function throughput(seconds: number, concurrency: number, job: () => Promise<void>): Promise<number> {
  let done = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      await job();
      done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return done / ((performance.now() - t0) / 1000);
}

async function signTransfers(chainId: bigint, startNonce: number, n: number, maxFee: bigint): Promise<string[]> {
  const wallet = new Wallet(DEV_KEY);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      await wallet.signTransaction({
        type: 2,
        chainId,
        nonce: startNonce + i,
        to: SINK,
        value: 1n,
        gasLimit: 21_000n,
        maxFeePerGas: maxFee,
        maxPriorityFeePerGas: 1_000_000_000n,
      }),
    );
  }
  return out;
}

async function waitForNonce(url: string, address: string, target: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const n = Number(BigInt(await rpc<string>(url, "eth_getTransactionCount", [address, "latest"])));
    if (n >= target) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`nonce did not reach ${target} within ${timeoutMs} ms`);
}

async function deployCallTarget(url: string, chainId: bigint, nonce: number, maxFee: bigint): Promise<string> {
  const wallet = new Wallet(DEV_KEY);
  const raw = await wallet.signTransaction({
    type: 2,
    chainId,
    nonce,
    data: CALL_INIT,
    gasLimit: 100_000n,
    maxFeePerGas: maxFee,
    maxPriorityFeePerGas: 1_000_000_000n,
  });
  const hash = await rpc<string>(url, "eth_sendRawTransaction", [raw]);
  for (let i = 0; i < 500; i++) {
    const r = await rpc<{ contractAddress: string; status: string } | null>(url, "eth_getTransactionReceipt", [hash]);
    if (r) {
      if (r.status !== "0x1") throw new Error("call target deployment failed");
      return r.contractAddress;
    }
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new Error("call target deployment not mined");
}

/** Sends pre-signed transfers with the peer's concurrency; returns when sent and when all are mined (ms). */
async function sendAndMine(peer: Peer, from: string, startNonce: number, signed: string[]) {
  const bodies = signed.map((raw, i) =>
    JSON.stringify({ jsonrpc: "2.0", id: i, method: "eth_sendRawTransaction", params: [raw] }),
  );
  const t0 = performance.now();
  await pool(bodies.length, peer.sendConcurrency, (i) => postRaw(peer.url, bodies[i]));
  const tSent = performance.now();
  await waitForNonce(peer.url, from, startNonce + bodies.length, 120_000);
  return { sentMs: tSent - t0, minedMs: performance.now() - t0 };
}

async function measure(peer: Peer, txs: number, warmupTxs: number, callSeconds: number): Promise<Result> {
  const url = peer.url;
  const wallet = new Wallet(DEV_KEY);
  const chainId = BigInt(await rpc<string>(url, "eth_chainId"));
  const warmupNonce = Number(BigInt(await rpc<string>(url, "eth_getTransactionCount", [wallet.address, "latest"])));
  const gasPrice = BigInt(await rpc<string>(url, "eth_gasPrice"));
  // Room for the base fee to rise while thousands of transfers fill blocks.
  const maxFee = gasPrice * 4n + 2_000_000_000n;
  const signed = await signTransfers(chainId, warmupNonce, warmupTxs + txs, maxFee);
  let coldTxPerSec = Number.NaN;
  if (warmupTxs > 0) {
    const warm = await sendAndMine(peer, wallet.address, warmupNonce, signed.slice(0, warmupTxs));
    coldTxPerSec = warmupTxs / (warm.minedMs / 1000);
    debug(`${peer.name}: warm-up of ${warmupTxs} txs mined in ${Math.round(warm.minedMs)} ms`);
  }
  const startNonce = warmupNonce + warmupTxs;
  const head0 = Number(BigInt(await rpc<string>(url, "eth_blockNumber")));
  debug(`${peer.name}: ${txs} txs from nonce ${startNonce}, head ${head0}`);
  const timed = await sendAndMine(peer, wallet.address, startNonce, signed.slice(warmupTxs));
  const head1 = Number(BigInt(await rpc<string>(url, "eth_blockNumber")));
  debug(`${peer.name}: sent in ${Math.round(timed.sentMs)} ms, mined in ${Math.round(timed.minedMs)} ms`);
  const target = await deployCallTarget(url, chainId, startNonce + txs, maxFee);
  const callBody = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_call", params: [{ to: target, data: "0x" }, "latest"] });
  const call = () => postRaw(url, callBody);
  await throughput(0.5, 4, call); // warm-up
  const callsC1 = await throughput(callSeconds, 1, call);
  const cpu0 = process.cpuUsage();
  let calls = 0;
  const callsC16 = await throughput(callSeconds, 16, () => {
    calls++;
    return call();
  });
  const cpu = process.cpuUsage(cpu0);
  const clientUsPerCall = (cpu.user + cpu.system) / calls;
  const minedSeconds = timed.minedMs / 1000;
  return {
    name: peer.name,
    sendConcurrency: peer.sendConcurrency,
    sendTxPerSec: txs / (timed.sentMs / 1000),
    minedSeconds,
    minedTxPerSec: txs / minedSeconds,
    blocks: head1 - head0,
    callsC1,
    callsC16,
    coldTxPerSec,
    clientUsPerCall,
  };
}

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : "-";
}

function printTable(results: Result[]): void {
  const header = [
    "node",
    "send conc",
    "cold tx/s",
    "send tx/s",
    "all mined s",
    "mined tx/s",
    "blocks",
    "eth_call/s c1",
    "eth_call/s c16",
    "client us/call",
  ];
  const rows = results.map((r) =>
    r.error
      ? [r.name, "-", "-", "-", "-", "-", "-", "-", `error: ${r.error.slice(0, 60)}`, "-"]
      : [
          r.name,
          String(r.sendConcurrency),
          fmt(r.coldTxPerSec),
          fmt(r.sendTxPerSec),
          fmt(r.minedSeconds, 2),
          fmt(r.minedTxPerSec),
          String(r.blocks),
          fmt(r.callsC1),
          fmt(r.callsC16),
          fmt(r.clientUsPerCall),
        ],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const r of rows) console.log(line(r));
}

function printRatios(results: Result[]): void {
  const ok = results.filter((r) => !r.error);
  const zg = ok.filter((r) => r.name.startsWith("zgnode"));
  const anvil = ok.find((r) => r.name === "anvil");
  const hardhat = ok.find((r) => r.name.startsWith("hardhat"));
  console.log("\nRatios (goal: mined tx/s >= 2x hardhat and >= anvil; eth_call/s at 16 in flight >= anvil)");
  for (const z of zg) {
    if (hardhat) {
      const r = z.minedTxPerSec / hardhat.minedTxPerSec;
      console.log(`  ${z.name} mined tx/s / hardhat 3: ${r.toFixed(2)}x  ${r >= 2 ? "ok" : "MISSED (goal 2x)"}`);
    }
    if (anvil) {
      const r = z.minedTxPerSec / anvil.minedTxPerSec;
      console.log(`  ${z.name} mined tx/s / anvil:     ${r.toFixed(2)}x  ${r >= 1 ? "ok" : "MISSED (goal 1x)"}`);
      if (Number.isFinite(z.coldTxPerSec) && Number.isFinite(anvil.coldTxPerSec)) {
        const cold = z.coldTxPerSec / anvil.coldTxPerSec;
        console.log(`  ${z.name} cold tx/s / anvil:      ${cold.toFixed(2)}x  ${cold >= 1 ? "ok" : "MISSED (goal 1x)"}`);
      }
      const c = z.callsC16 / anvil.callsC16;
      console.log(`  ${z.name} eth_call/s c16 / anvil: ${c.toFixed(2)}x  ${c >= 1 ? "ok" : "MISSED (goal 1x)"}`);
    }
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      txs: { type: "string", default: "2000" },
      "warmup-txs": { type: "string", default: "1000" },
      "call-seconds": { type: "string", default: "3" },
      only: { type: "string", default: "zgnode,anvil,hardhat" },
      client: { type: "string", default: "http" },
      /** Measure an already running node instead (e.g. one started with --cpu-prof). */
      url: { type: "string" },
    },
  });
  if (values.client !== "http" && values.client !== "fetch") throw new Error("--client must be http or fetch");
  clientKind = values.client;
  const txs = Number(values.txs);
  const warmupTxs = Number(values["warmup-txs"]);
  if (!Number.isInteger(warmupTxs) || warmupTxs < 0) throw new Error("--warmup-txs must be an integer >= 0");
  const callSeconds = Number(values["call-seconds"]);
  const only = new Set(values.only.split(","));
  const targets: { name: string; start: () => Promise<Peer> }[] = [];
  const external = values.url;
  if (external) {
    targets.push({
      name: `external ${external}`,
      start: async () => ({ name: external, url: external, sendConcurrency: 16, stop: async () => {} }),
    });
  } else if (only.has("zgnode")) {
    targets.push({ name: "zgnode (--seal instant)", start: () => startZgnode("zgnode (--seal instant)", ["--seal", "instant"]) });
    targets.push({
      name: "zgnode (--seal interval 250ms)",
      start: () => startZgnode("zgnode (--seal interval 250ms)", ["--seal", "interval", "--block-time", "250"]),
    });
  }
  if (!external && only.has("anvil")) targets.push({ name: "anvil", start: startAnvil });
  if (!external && only.has("hardhat")) targets.push({ name: "hardhat 3", start: startHardhat });

  console.log(
    `bench:rpc  ${txs} pre-signed transfers after ${warmupTxs} warm-up ones, eth_call for ${callSeconds} s per concurrency, client ${clientKind}, Node ${process.version}`,
  );
  console.log("(node and load generator share this machine's cores; single runs, treat +-15% as noise)\n");
  const results: Result[] = [];
  for (const t of targets) {
    let peer: Peer | undefined;
    try {
      peer = await t.start();
      process.stdout.write(`  ${t.name}: running...`);
      const r = await measure(peer, txs, warmupTxs, callSeconds);
      results.push(r);
      console.log(` mined ${fmt(r.minedTxPerSec)} tx/s, eth_call c16 ${fmt(r.callsC16)}/s`);
    } catch (err) {
      const msg = (err as Error).message.split("\n")[0];
      console.log(`  ${t.name}: skipped (${msg})`);
      results.push({
        name: t.name,
        sendConcurrency: 0,
        sendTxPerSec: 0,
        minedSeconds: 0,
        minedTxPerSec: 0,
        blocks: 0,
        callsC1: 0,
        callsC16: 0,
        coldTxPerSec: 0,
        clientUsPerCall: 0,
        error: msg,
      });
    } finally {
      await peer?.stop();
    }
  }
  console.log("");
  printTable(results);
  printRatios(results);
}

await main();
