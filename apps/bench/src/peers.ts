/** Starts the nodes the RPC benchmark compares: zgnode dev, anvil and hardhat 3, each fresh on a free port. */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
export const REPO_ROOT = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const BENCH_ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));

export interface Peer {
  name: string;
  url: string;
  /** Max requests in flight for the send phase (hardhat's automine refuses nonce gaps, so 1 there). */
  sendConcurrency: number;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.on("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const a = srv.address();
      srv.close(() => (typeof a === "object" && a ? res(a.port) : rej(new Error("no port"))));
    });
  });
}

async function waitForRpc(
  url: string,
  child: ChildProcess,
  name: string,
  timeoutMs: number,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${output().slice(-2000)}`);
    try {
      const r = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}',
        signal: AbortSignal.timeout(1000),
      });
      if (r.ok && typeof ((await r.json()) as { result?: unknown }).result === "string") return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not answer within ${timeoutMs} ms:\n${output().slice(-2000)}`);
}

async function startProcess(
  name: string,
  cmd: string,
  args: string[],
  port: number,
  sendConcurrency: number,
  opts: { cwd?: string; cleanup?: () => Promise<void> } = {},
): Promise<Peer> {
  const child = spawn(cmd, args, { cwd: opts.cwd ?? REPO_ROOT, stdio: ["ignore", "pipe", "pipe"], env: process.env });
  let out = "";
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGINT");
      const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(t);
    }
    await opts.cleanup?.();
  };
  try {
    await waitForRpc(url, child, name, 90_000, () => out);
  } catch (err) {
    await stop();
    throw err;
  }
  return { name, url, sendConcurrency, stop };
}

export async function startZgnode(name: string, extraArgs: string[]): Promise<Peer> {
  const port = await freePort();
  const bin = join(REPO_ROOT, "apps/node/src/bin/zgnode.ts");
  const args = ["--disable-warning=ExperimentalWarning", bin, "dev", "--ephemeral", "--quiet", "--rpc.port", String(port)];
  args.push("--log.level", "warn", "--log.format", "json", ...extraArgs);
  return startProcess(name, process.execPath, args, port, 16);
}

/** The anvil binary ships inside the optional dependency @foundry-rs/anvil-linux-amd64 (its postinstall may not run). */
export function findAnvil(): string | undefined {
  try {
    const anvilDir = dirname(require.resolve("@foundry-rs/anvil/package.json"));
    const platform = `@foundry-rs/anvil-${process.platform}-${process.arch === "x64" ? "amd64" : process.arch}`;
    const req = createRequire(join(anvilDir, "package.json"));
    const bin = join(dirname(req.resolve(`${platform}/package.json`)), "bin", "anvil");
    return existsSync(bin) ? bin : undefined;
  } catch {
    return undefined;
  }
}

export async function startAnvil(): Promise<Peer> {
  const bin = findAnvil();
  if (!bin) throw new Error("anvil not installed (npm @foundry-rs/anvil)");
  const port = await freePort();
  return startProcess("anvil", bin, ["--silent", "--host", "127.0.0.1", "--port", String(port)], port, 16);
}

export function findHardhat(): string | undefined {
  try {
    const dir = dirname(require.resolve("hardhat/package.json"));
    const cli = join(dir, "dist/src/cli.js");
    return existsSync(cli) ? cli : undefined;
  } catch {
    return undefined;
  }
}

/** hardhat 3 needs a project: a minimal config in a temp dir under apps/bench (so `hardhat` resolves from it). */
export async function startHardhat(): Promise<Peer> {
  const cli = findHardhat();
  if (!cli) throw new Error("hardhat not installed (npm hardhat)");
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major < 22 || (major === 22 && minor < 13)) throw new Error(`hardhat 3 needs Node >= 22.13 (running ${process.version})`);
  const dir = await mkdtemp(join(BENCH_ROOT, ".hardhat-"));
  await writeFile(join(dir, "package.json"), '{"type":"module"}\n');
  await writeFile(join(dir, "hardhat.config.js"), "export default {};\n");
  const port = await freePort();
  return startProcess("hardhat 3", process.execPath, [cli, "node", "--hostname", "127.0.0.1", "--port", String(port)], port, 1, {
    cwd: dir,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  });
}
