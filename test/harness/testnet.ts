/**
 * A multi-validator BFT testnet of real `zgnode start` processes on 127.0.0.1: `zgnode init --testnet` writes the
 * homes with free p2p and RPC ports, then each node runs as a `ZgnodeProcess` over its home (kill, restart, logs).
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, REPO_ROOT, rpcCall, ZGNODE_BIN, ZgnodeProcess } from "./node.ts";

export interface TestnetNodeInfo {
  name: string;
  role: "validator" | "full";
  home: string;
  rpcUrl: string;
  p2pAddress: string;
  peerId: string;
  operator: string;
  blsPublicKey?: string;
}

export interface TestnetOptions {
  validators: number;
  fullNodes?: number;
  epochLength?: number;
  jailPeriod?: number;
  proposeTimeoutMs?: number;
  voteTimeoutMs?: number;
  commitTimeoutMs?: number;
  logLevel?: string;
}

export class Testnet {
  readonly dir: string;
  readonly info: TestnetNodeInfo[];
  readonly nodes: ZgnodeProcess[];

  private constructor(dir: string, info: TestnetNodeInfo[], nodes: ZgnodeProcess[]) {
    this.dir = dir;
    this.info = info;
    this.nodes = nodes;
  }

  /** Runs `zgnode init --testnet` with free ports; no node is started yet. */
  static async init(opts: TestnetOptions): Promise<Testnet> {
    const dir = await mkdtemp(join(tmpdir(), "zgnode-testnet-"));
    const n = opts.validators + (opts.fullNodes ?? 0);
    const p2p: number[] = [];
    const rpc: number[] = [];
    for (let i = 0; i < n; i++) {
      p2p.push(await freePort());
      rpc.push(await freePort());
    }
    const args = [
      "--disable-warning=ExperimentalWarning",
      ZGNODE_BIN,
      "init",
      "--testnet",
      String(opts.validators),
      "--full-nodes",
      String(opts.fullNodes ?? 0),
      "--out",
      join(dir, "net"),
      "--listen-host",
      "127.0.0.1",
      "--p2p-ports",
      p2p.join(","),
      "--rpc-ports",
      rpc.join(","),
      "--epoch-length",
      String(opts.epochLength ?? 100),
      "--jail-period",
      String(opts.jailPeriod ?? 1000),
      "--propose-timeout",
      String(opts.proposeTimeoutMs ?? 1000),
      "--vote-timeout",
      String(opts.voteTimeoutMs ?? 300),
      "--commit-timeout",
      String(opts.commitTimeoutMs ?? 200),
    ];
    const out = await new Promise<{ code: number | null; text: string }>((resolve) => {
      const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
      let text = "";
      child.stdout.on("data", (d) => (text += d));
      child.stderr.on("data", (d) => (text += d));
      child.on("exit", (code) => resolve({ code, text }));
    });
    if (out.code !== 0) throw new Error(`zgnode init failed (${out.code}):\n${out.text}`);
    const info = JSON.parse(await readFile(join(dir, "net", "nodes.json"), "utf8")) as TestnetNodeInfo[];
    const nodes = info.map(
      (node, i) =>
        new ZgnodeProcess({
          name: node.name,
          command: ["start"],
          datadir: node.home,
          logDir: join(dir, "logs"),
          rpcPort: rpc[i],
          args: ["--log.level", opts.logLevel ?? "info"],
          startTimeoutMs: 90_000,
        }),
    );
    return new Testnet(dir, info, nodes);
  }

  /** Starts the given nodes (default: every validator) in parallel. */
  async start(indices = this.info.map((n, i) => (n.role === "validator" ? i : -1)).filter((i) => i >= 0)): Promise<void> {
    await Promise.all(indices.map((i) => this.nodes[i].start()));
  }

  async head(i: number): Promise<number> {
    const r = await rpcCall<string>(this.nodes[i].url, "eth_blockNumber", [], 5000);
    return Number(r.result);
  }

  async blockHash(i: number, height: number): Promise<string | undefined> {
    const r = await rpcCall<{ hash: string } | null>(
      this.nodes[i].url,
      "eth_getBlockByNumber",
      [`0x${height.toString(16)}`, false],
      5000,
    );
    return r.result?.hash;
  }

  /** Polls until `cond` holds (errors count as not yet). */
  static async until(cond: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      try {
        if (await cond()) return;
      } catch {
        // node not answering yet
      }
      if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async cleanup(keepLogs = false): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop("SIGKILL", 0)));
    if (!keepLogs) await rm(this.dir, { recursive: true, force: true });
  }
}
