/**
 * In-process micro-benchmark of the execution path: N pre-signed transfers (10 senders) go through
 * TxPool.addRaw (decode + signature recovery + checks) and one LocalSealer block (execution, tries, one LevelDB
 * batch). Prints tx/s per stage, for the default crypto and with native keccak plugged into `customCrypto`.
 * Run: node packages/chain/bench/execution.bench.ts [N]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTx } from "@ethereumjs/tx";
import { nativeKeccakBatch } from "@zgnode/crypto";
import { LevelDb } from "@zgnode/db";
import { hexToBytes } from "@zgnode/utils";
import { Chain, createDevGenesis, DEV_ACCOUNTS, LocalSealer, TxPool } from "../src/index.ts";

const N = Number(process.argv[2] ?? 2000);

async function run(label: string, keccak?: (m: Uint8Array) => Uint8Array): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "zgnode-bench-"));
  const db = await LevelDb.open({ path: dir });
  const genesis = createDevGenesis();
  if (keccak) genesis.common.customCrypto.keccak256 = keccak;
  const chain = await Chain.open({ db, genesis });
  const pool = new TxPool(chain);
  const sealer = new LocalSealer(chain, pool, { mode: "manual", maxTxsPerBlock: 10_000 });
  const per = Math.ceil(N / DEV_ACCOUNTS.length);
  const raws: Uint8Array[] = [];
  for (let i = 0; i < N; i++) {
    const acct = DEV_ACCOUNTS[i % DEV_ACCOUNTS.length];
    const tx = createTx(
      {
        type: 2,
        chainId: chain.chainId,
        nonce: BigInt(Math.floor(i / DEV_ACCOUNTS.length)),
        to: DEV_ACCOUNTS[(i + 1) % DEV_ACCOUNTS.length].address as `0x${string}`,
        value: 1n,
        gasLimit: 21000n,
        maxFeePerGas: 10n ** 10n,
        maxPriorityFeePerGas: 10n ** 9n,
      },
      { common: chain.common },
    ).sign(hexToBytes(acct.privateKey));
    raws.push(tx.serialize());
  }
  void per;
  const t0 = performance.now();
  for (const raw of raws) await pool.addRaw(raw);
  const t1 = performance.now();
  const { block } = await sealer.sealNow();
  const t2 = performance.now();
  if (block.transactions.length !== N) throw new Error(`sealed ${block.transactions.length} of ${N}`);
  const admit = (N / (t1 - t0)) * 1000;
  const build = (N / (t2 - t1)) * 1000;
  const total = (N / (t2 - t0)) * 1000;
  console.log(
    `${label.padEnd(16)} admit ${admit.toFixed(0).padStart(6)} tx/s | block ${build.toFixed(0).padStart(6)} tx/s | ` +
      `admit+block ${total.toFixed(0).padStart(6)} tx/s (${(t2 - t0).toFixed(0)} ms for ${N})`,
  );
  await chain.close();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  return total;
}

const native = nativeKeccakBatch();
const nativeKeccak = native ? (m: Uint8Array) => (m.length === 0 ? EMPTY_KECCAK : native.hashBatch(m, m.length)) : undefined;
const EMPTY_KECCAK = hexToBytes("0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");

console.log(`execution micro-benchmark: ${N} transfers, 10 senders, one block, LevelDB (machine under load: compare ratios)`);
await run("warm-up");
const base = await run("noble keccak");
if (nativeKeccak) {
  const nat = await run("native keccak", nativeKeccak);
  console.log(`native keccak / noble: ${(nat / base).toFixed(2)}x`);
} else {
  console.log("native keccak addon not built: skipped");
}
