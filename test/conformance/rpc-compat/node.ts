import { readFileSync } from "node:fs";
import path from "node:path";
import { createBlockFromRLP } from "@ethereumjs/block";
import { RLP } from "@ethereumjs/rlp";
import { Chain, chainView, createEthRpcTable, parseGethGenesis, producerView, TxPool, txPoolView } from "@zgnode/chain";
import { MemoryStore } from "@zgnode/db";
import { createRpcServer } from "@zgnode/rpc";

/** A node serving the rpc-compat chain: geth genesis + chain.rlp imported through `Chain.importBlock`. */
export interface CompatNode {
  url: string;
  head: bigint;
  close(): Promise<void>;
}

/** Splits a file of concatenated RLP blocks (geth `export` format) into the raw block encodings. */
export function splitRlpBlocks(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let rest = data;
  while (rest.length > 0) {
    const { remainder } = RLP.decode(rest, true);
    const used = rest.length - remainder.length;
    out.push(rest.subarray(0, used));
    rest = remainder;
  }
  return out;
}

export async function startInProcessNode(testsDir: string): Promise<CompatNode> {
  const genesis = parseGethGenesis(JSON.parse(readFileSync(path.join(testsDir, "genesis.json"), "utf8")));
  const chain = await Chain.open({ db: new MemoryStore(), genesis });
  for (const raw of splitRlpBlocks(readFileSync(path.join(testsDir, "chain.rlp")))) {
    const block = createBlockFromRLP(raw, { common: chain.common, setHardfork: true });
    await chain.importBlock(block);
  }
  const pool = new TxPool(chain);
  const table = createEthRpcTable({
    chain: chainView(chain),
    pool: txPoolView(pool),
    producer: producerView(chain, { poolTxs: () => pool.selectForBlock(5_000) }),
    clientVersion: "zgnode/rpc-compat",
  });
  const server = createRpcServer({ tables: [table], host: "127.0.0.1", port: 0 });
  const addr = await server.listen();
  return {
    url: addr.httpUrl,
    head: chain.head.header.number,
    async close() {
      await server.close();
      pool.close();
      await chain.close();
    },
  };
}

/** A free loopback TCP port (bound then released). */
export async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The real binary: `zgnode dev --genesis genesis.json --import chain.rlp --seal manual --ephemeral`. The RPC
 * server starts after the import, so the first answer to eth_blockNumber is the imported head.
 */
export async function startSpawnedNode(repoRoot: string, testsDir: string, logFile: string): Promise<CompatNode> {
  const { spawn } = await import("node:child_process");
  const { createWriteStream } = await import("node:fs");
  const port = await freePort();
  const bin = path.join(repoRoot, "apps/node/src/bin/zgnode.ts");
  const args = [
    "--disable-warning=ExperimentalWarning",
    bin,
    "dev",
    "--genesis",
    path.join(testsDir, "genesis.json"),
    "--import",
    path.join(testsDir, "chain.rlp"),
    "--seal",
    "manual",
    "--ephemeral",
    "--rpc.port",
    String(port),
    "--log.format",
    "json",
    "--quiet",
  ];
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  const log = createWriteStream(logFile);
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  let exited: number | null | undefined;
  child.once("exit", (code) => {
    exited = code;
  });
  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + 120_000;
  let head: bigint | undefined;
  while (Date.now() < deadline && exited === undefined) {
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}',
      });
      head = BigInt(((await res.json()) as { result: string }).result);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  if (head === undefined) {
    child.kill("SIGKILL");
    throw new Error(`zgnode did not serve RPC (exit ${exited}); see ${logFile}`);
  }
  return {
    url,
    head,
    async close() {
      if (exited !== undefined) return;
      const done = new Promise((r) => child.once("exit", r));
      child.kill("SIGINT");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await done;
      clearTimeout(timer);
      log.end();
    },
  };
}
