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
