/**
 * Spawns real `zgnode` processes on loopback for multi-process tests (e2e, devnets): free ports, own data
 * dirs and log files, health waits, SIGINT/SIGKILL restarts, log tails on failure. General on purpose: any
 * subcommand, any extra args, n nodes (see `startNodes`).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const ZGNODE_BIN = join(REPO_ROOT, "apps/node/src/bin/zgnode.ts");

/** Asks the OS for a free TCP port on 127.0.0.1 (released before return; good enough on loopback). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolvePort(addr.port) : reject(new Error("no port"))));
    });
  });
}

export interface JsonRpcReply<T = unknown> {
  jsonrpc: string;
  id: number | string | null;
  result?: T;
  error?: { code: number; message: string; data?: unknown };
}

/** Posts one JSON-RPC call (or a raw body) and returns the parsed reply. */
export async function rpcCall<T = unknown>(
  url: string,
  method: string,
  params: unknown[] = [],
  timeoutMs = 10_000,
): Promise<JsonRpcReply<T>> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return (await res.json()) as JsonRpcReply<T>;
}

export interface ZgnodeProcessOptions {
  /** Used for the log file name and messages. */
  name?: string;
  /** The subcommand words, default ["dev"]. */
  command?: string[];
  /** Extra flags after the harness's own (--datadir, --rpc.port, --rpc.host, --log.format). */
  args?: string[];
  /** Data directory; a fresh temp dir when absent (removed by `cleanup`). */
  datadir?: string;
  /** Where the log file goes; a temp dir when absent. */
  logDir?: string;
  rpcPort?: number;
  env?: NodeJS.ProcessEnv;
  /** How long `start` waits for eth_blockNumber to answer. */
  startTimeoutMs?: number;
}

/** One `zgnode` child process that can be stopped, killed and restarted on the same data dir and port. */
export class ZgnodeProcess {
  readonly name: string;
  readonly opts: ZgnodeProcessOptions;
  datadir = "";
  logFile = "";
  rpcPort = 0;
  child: ChildProcess | undefined;
  private log: WriteStream | undefined;
  private exited: Promise<number | null> | undefined;
  private ownsDatadir = false;
  private ownsLogDir = false;
  private logDir = "";

  constructor(opts: ZgnodeProcessOptions = {}) {
    this.opts = opts;
    this.name = opts.name ?? "node";
  }

  get url(): string {
    return `http://127.0.0.1:${this.rpcPort}`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.rpcPort}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns the process (first start allocates dirs and port) and waits until it answers RPC. */
  async start(): Promise<this> {
    if (this.running) throw new Error(`${this.name} already running`);
    if (!this.datadir) {
      if (this.opts.datadir) this.datadir = this.opts.datadir;
      else {
        this.datadir = await mkdtemp(join(tmpdir(), `zgnode-${this.name}-`));
        this.ownsDatadir = true;
      }
      if (this.opts.logDir) this.logDir = this.opts.logDir;
      else {
        this.logDir = await mkdtemp(join(tmpdir(), `zgnode-logs-${this.name}-`));
        this.ownsLogDir = true;
      }
      await mkdir(this.logDir, { recursive: true });
      this.logFile = join(this.logDir, `${this.name}.log`);
      this.rpcPort = this.opts.rpcPort ?? (await freePort());
    }
    const args = [
      "--disable-warning=ExperimentalWarning",
      ZGNODE_BIN,
      ...(this.opts.command ?? ["dev"]),
      "--datadir",
      this.datadir,
      "--rpc.host",
      "127.0.0.1",
      "--rpc.port",
      String(this.rpcPort),
      "--log.format",
      "json",
      ...(this.opts.args ?? []),
    ];
    this.log = createWriteStream(this.logFile, { flags: "a" });
    this.log.write(`\n=== ${new Date().toISOString()} start ${this.name}: node ${args.slice(1).join(" ")}\n`);
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, ...this.opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    const log = this.log;
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    this.exited = new Promise((r) => child.once("exit", (code, signal) => r(code ?? (signal ? -1 : null))));
    await this.waitHealthy(this.opts.startTimeoutMs ?? 60_000);
    return this;
  }

  /** Polls eth_blockNumber until it answers; fails early with the log tail if the process dies. */
  async waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let died = false;
    this.exited?.then(() => {
      died = true;
    });
    while (Date.now() < deadline) {
      if (died) throw new Error(`${this.name} exited during start (code ${this.child?.exitCode})\n${await this.logTail()}`);
      try {
        const r = await rpcCall(this.url, "eth_blockNumber", [], 2000);
        if (typeof r.result === "string") return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${this.name} did not answer eth_blockNumber within ${timeoutMs} ms\n${await this.logTail()}`);
  }

  /** Sends a signal and waits for exit; escalates to SIGKILL after `graceMs`. Returns the exit code. */
  async stop(signal: NodeJS.Signals = "SIGINT", graceMs = 15_000): Promise<number | null> {
    const child = this.child;
    if (!child || !this.running) {
      await this.closeLog();
      return child?.exitCode ?? null;
    }
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    await this.closeLog();
    return code ?? null;
  }

  private async closeLog(): Promise<void> {
    const log = this.log;
    this.log = undefined;
    if (log && !log.writableEnded) await new Promise<void>((r) => log.end(() => r()));
  }

  /** SIGKILL: no shutdown hooks run (crash simulation). */
  kill(): Promise<number | null> {
    return this.stop("SIGKILL", 0);
  }

  async restart(signal: NodeJS.Signals = "SIGINT"): Promise<this> {
    await this.stop(signal);
    return this.start();
  }

  rpc<T = unknown>(method: string, params: unknown[] = []): Promise<JsonRpcReply<T>> {
    return rpcCall<T>(this.url, method, params);
  }

  async logText(): Promise<string> {
    try {
      return await readFile(this.logFile, "utf8");
    } catch {
      return "";
    }
  }

  async logTail(lines = 60): Promise<string> {
    const text = await this.logText();
    return `--- last ${lines} log lines of ${this.name} (${this.logFile}) ---\n${text.split("\n").slice(-lines).join("\n")}`;
  }

  /** Stops the process and removes the dirs the harness created (logs are kept if `keepLogs`). */
  async cleanup(keepLogs = false): Promise<void> {
    await this.stop("SIGKILL", 0);
    if (this.ownsDatadir) await rm(this.datadir, { recursive: true, force: true });
    if (this.ownsLogDir && !keepLogs) await rm(this.logDir, { recursive: true, force: true });
  }
}

/** Starts `n` nodes in parallel; `optsFor(i)` gives each its extra args (peers, keys, ports). */
export async function startNodes(n: number, optsFor: (i: number) => ZgnodeProcessOptions = () => ({})): Promise<ZgnodeProcess[]> {
  const nodes = Array.from({ length: n }, (_, i) => new ZgnodeProcess({ name: `node${i}`, ...optsFor(i) }));
  await Promise.all(nodes.map((node) => node.start()));
  return nodes;
}

/** Log tails of every node, for a failed test's report. */
export async function collectLogs(nodes: ZgnodeProcess[], lines = 80): Promise<string> {
  return (await Promise.all(nodes.map((n) => n.logTail(lines)))).join("\n");
}
