import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { Chain, createCommonForFork, decodeBlockRlp, type GenesisSpec } from "@zgnode/chain";
import { MemoryStore } from "@zgnode/db";
import { bytesToHex, hexToBytes } from "@zgnode/utils";

/** One ethereum/tests BlockchainTests case (the fields this runner reads). */
export interface BlockchainTestCase {
  network: string;
  sealEngine?: string;
  pre: Record<string, TestAccount>;
  genesisBlockHeader: Record<string, string>;
  genesisRLP?: string;
  blocks: { rlp: string; expectException?: string; blockHeader?: { hash: string } }[];
  lastblockhash: string;
  postState?: Record<string, TestAccount>;
  postStateHash?: string;
}

interface TestAccount {
  balance: string;
  nonce: string;
  code: string;
  storage: Record<string, string>;
}

export interface CaseResult {
  file: string;
  name: string;
  ok: boolean;
  error?: string;
}

/** ethereum/tests fork names -> @ethereumjs hardfork names. */
const FORKS: Record<string, string> = {
  frontier: "chainstart",
  homestead: "homestead",
  eip150: "tangerineWhistle",
  eip158: "spuriousDragon",
  byzantium: "byzantium",
  constantinople: "constantinople",
  constantinoplefix: "petersburg",
  istanbul: "istanbul",
  berlin: "berlin",
  london: "london",
  merge: "paris",
  paris: "paris",
  shanghai: "shanghai",
  cancun: "cancun",
  prague: "prague",
};

export function listCaseFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listCaseFiles(p));
    else if (name.endsWith(".json")) out.push(p);
  }
  return out;
}

function genesisFromCase(c: BlockchainTestCase): GenesisSpec {
  const fork = FORKS[c.network.toLowerCase()];
  if (!fork) throw new Error(`unsupported network ${c.network}`);
  const common = createCommonForFork(fork, 1n);
  const alloc: GenesisSpec["alloc"] = {};
  for (const [addr, a] of Object.entries(c.pre)) {
    alloc[addr as `0x${string}`] = [
      a.balance as `0x${string}`,
      a.code as `0x${string}`,
      Object.entries(a.storage).map(([k, v]) => [`0x${k.slice(2).padStart(64, "0")}`, v as `0x${string}`]),
      a.nonce as `0x${string}`,
    ];
  }
  const g = c.genesisBlockHeader;
  const header: GenesisSpec["header"] = {
    parentHash: g.parentHash as `0x${string}`,
    uncleHash: g.uncleHash as `0x${string}`,
    coinbase: g.coinbase as `0x${string}`,
    transactionsTrie: g.transactionsTrie as `0x${string}`,
    receiptTrie: g.receiptTrie as `0x${string}`,
    logsBloom: g.bloom as `0x${string}`,
    difficulty: BigInt(g.difficulty),
    number: BigInt(g.number),
    gasLimit: BigInt(g.gasLimit),
    gasUsed: BigInt(g.gasUsed),
    timestamp: BigInt(g.timestamp),
    extraData: g.extraData as `0x${string}`,
    mixHash: g.mixHash as `0x${string}`,
    nonce: g.nonce as `0x${string}`,
  };
  if (g.baseFeePerGas !== undefined) header.baseFeePerGas = BigInt(g.baseFeePerGas);
  if (g.withdrawalsRoot !== undefined) header.withdrawalsRoot = g.withdrawalsRoot as `0x${string}`;
  if (g.blobGasUsed !== undefined) header.blobGasUsed = BigInt(g.blobGasUsed);
  if (g.excessBlobGas !== undefined) header.excessBlobGas = BigInt(g.excessBlobGas);
  if (g.parentBeaconBlockRoot !== undefined) header.parentBeaconBlockRoot = g.parentBeaconBlockRoot as `0x${string}`;
  if (g.requestsHash !== undefined) header.requestsHash = g.requestsHash as `0x${string}`;
  return { common, alloc, header };
}

const norm = (hex: string): bigint => BigInt(hex === "0x" ? "0x0" : hex);

/**
 * Runs one case through the node's own import path (`Chain.importBlock`, the code every non-local block takes):
 * genesis hash, every block's validity as expected, final head = lastblockhash, then the post-state accounts.
 */
export async function runCase(c: BlockchainTestCase): Promise<void> {
  // CHAIN_FAST_BUILD=0 runs the cases through @ethereumjs runBlock instead of the one-pass execution path.
  const fastBuild = process.env.CHAIN_FAST_BUILD !== "0";
  const chain = await Chain.open({ db: new MemoryStore(), genesis: genesisFromCase(c), options: { fastBuild } });
  const genesisHash = bytesToHex(chain.genesis.hash());
  if (genesisHash !== c.genesisBlockHeader.hash) {
    throw new Error(`genesis hash ${genesisHash} != ${c.genesisBlockHeader.hash}`);
  }
  for (const [i, b] of c.blocks.entries()) {
    let error: string | undefined;
    try {
      const block = decodeBlockRlp(chain, hexToBytes(b.rlp));
      await chain.importBlock(block);
    } catch (err) {
      error = (err as Error).message;
    }
    if (b.expectException && error === undefined) {
      throw new Error(`block ${i} was accepted, expected exception ${b.expectException}`);
    }
    if (!b.expectException && error !== undefined) throw new Error(`block ${i} rejected: ${error}`);
  }
  const head = bytesToHex(chain.head.hash());
  if (head !== c.lastblockhash) throw new Error(`head ${head} != lastblockhash ${c.lastblockhash}`);
  if (c.postStateHash !== undefined) {
    const root = bytesToHex(chain.head.header.stateRoot);
    if (root !== c.postStateHash) throw new Error(`state root ${root} != postStateHash ${c.postStateHash}`);
  }
  if (c.postState) {
    const view = await chain.stateAt();
    for (const [addr, want] of Object.entries(c.postState)) {
      const a = hexToBytes(addr);
      const acct = await view.getAccount(a);
      const bal = acct?.balance ?? 0n;
      const nonce = acct?.nonce ?? 0n;
      if (bal !== norm(want.balance)) throw new Error(`${addr} balance ${bal} != ${norm(want.balance)}`);
      if (nonce !== norm(want.nonce)) throw new Error(`${addr} nonce ${nonce} != ${norm(want.nonce)}`);
      const code = bytesToHex(await view.getCode(a));
      if (code !== want.code.toLowerCase()) throw new Error(`${addr} code differs`);
      for (const [slot, value] of Object.entries(want.storage)) {
        const got = BigInt(bytesToHex(await view.getStorage(a, hexToBytes(padHex(slot)))));
        if (got !== norm(value)) throw new Error(`${addr} storage ${slot} = ${got}, want ${norm(value)}`);
      }
    }
  }
  await chain.close();
}

function padHex(h: string): string {
  const body = h.slice(2);
  return `0x${body.length % 2 ? `0${body}` : body}`;
}

/** Runs every case of every file under `dir`, grouped by the first folder level below it. */
export async function runFolder(root: string, dir: string): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const file of listCaseFiles(dir)) {
    const cases = JSON.parse(readFileSync(file, "utf8")) as Record<string, BlockchainTestCase>;
    for (const [name, c] of Object.entries(cases)) {
      try {
        await runCase(c);
        results.push({ file: relative(root, file), name, ok: true });
      } catch (err) {
        results.push({ file: relative(root, file), name, ok: false, error: (err as Error).message.slice(0, 300) });
      }
    }
  }
  return results;
}
