// Profiles only the block-building phase (pool admission excluded). Writes /tmp/block.cpuprofile.
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { createTx } from "@ethereumjs/tx";
import { MemoryStore } from "@zgnode/db";
import { hexToBytes } from "@zgnode/utils";
import { Chain, createDevGenesis, DEV_ACCOUNTS, LocalSealer, TxPool } from "../src/index.ts";

const N = Number(process.argv[2] ?? 2000);
const chain = await Chain.open({ db: new MemoryStore(), genesis: createDevGenesis() });
const pool = new TxPool(chain);
const sealer = new LocalSealer(chain, pool, { mode: "manual", maxTxsPerBlock: 10_000 });
for (let round = 0; round < 3; round++) {
  for (let i = 0; i < N; i++) {
    const acct = DEV_ACCOUNTS[i % 10];
    const tx = createTx(
      {
        type: 2,
        chainId: 8888n,
        nonce: BigInt(round * (N / 10) + Math.floor(i / 10)),
        to: DEV_ACCOUNTS[(i + 1) % 10].address as `0x${string}`,
        value: 1n,
        gasLimit: 21000n,
        maxFeePerGas: 10n ** 10n,
        maxPriorityFeePerGas: 10n ** 9n,
      },
      { common: chain.common },
    ).sign(hexToBytes(acct.privateKey));
    await pool.addRaw(tx.serialize());
  }
  const session = new Session();
  if (round === 2) {
    session.connect();
    await session.post("Profiler.enable");
    await session.post("Profiler.start");
  }
  const t = performance.now();
  const { block } = await sealer.sealNow();
  console.log(`round ${round}: ${block.transactions.length} txs in ${(performance.now() - t).toFixed(0)} ms`);
  if (round === 2) {
    const { profile } = await session.post("Profiler.stop");
    writeFileSync("/tmp/block.cpuprofile", JSON.stringify(profile));
  }
}
