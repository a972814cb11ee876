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
import { LevelDb } from "@zgnode/db";
import { hexToBytes } from "@zgnode/utils";
import { Chain, createDevGenesis, DEV_ACCOUNTS, LocalSealer, TxPool } from "../src/index.ts";

const N = Number(process.argv[2] ?? 2000);

type Variant = { nativeSecp256k1: boolean; nativeKeccak: boolean };

async function run(label: string, v: Variant): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "zgnode-bench-"));
  const db = await LevelDb.open({ path: dir });
  const genesis = createDevGenesis();
  // The node plugs both natives in by default; drop them to measure what each one buys.
  if (!v.nativeKeccak) delete genesis.common.customCrypto.keccak256;
  if (!v.nativeSecp256k1) delete genesis.common.customCrypto.ecrecover;
  const chain = await Chain.open({ db, genesis });
  const pool = new TxPool(chain);
  const sealer = new LocalSealer(chain, pool, { mode: "manual", maxTxsPerBlock: 10_000 });
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

console.log(`execution micro-benchmark: ${N} transfers, 10 senders, one block, LevelDB`);
console.log("(best of 2 per variant; the machine is shared: compare ratios, not absolute figures)");
await run("warm-up", { nativeSecp256k1: true, nativeKeccak: true });
const variants: [string, Variant][] = [
  ["js crypto", { nativeSecp256k1: false, nativeKeccak: false }],
  ["native secp", { nativeSecp256k1: true, nativeKeccak: false }],
  ["native secp+kec", { nativeSecp256k1: true, nativeKeccak: true }],
];
const best = new Map<string, number>();
for (let round = 0; round < 2; round++) {
  for (const [label, v] of variants) best.set(label, Math.max(best.get(label) ?? 0, await run(label, v)));
}
const base = best.get("js crypto") as number;
for (const [label] of variants)
  console.log(
    `${label.padEnd(16)} best admit+block ${(best.get(label) as number).toFixed(0)} tx/s = ${((best.get(label) as number) / base).toFixed(2)}x js crypto`,
  );
