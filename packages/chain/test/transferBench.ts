/**
 * In-process benchmark of block execution for the proposer (`executeForBuild`): one block of N EIP-1559 value
 * transfers from one dev account to one fresh address (the shape of `pnpm bench:rpc`), executed repeatedly on the
 * same parent state. Not a test; run with
 *   node_modules/.bin/node --disable-warning=ExperimentalWarning packages/chain/test/transferBench.ts [N] [rounds]
 * FAST_TRANSFERS=0 forces `runTx` for every transaction.
 */

import type { VM } from "@ethereumjs/vm";
import { MemoryStore } from "@zgnode/db";
import { executeForBuild } from "../src/buildExecution.ts";
import { Chain } from "../src/chain.ts";
import { createDevGenesis } from "../src/genesis.ts";
import { transfer } from "./helpers.ts";

const n = Number(process.argv[2] ?? 2000);
const rounds = Number(process.argv[3] ?? 15);
const fastTransfers = process.env.FAST_TRANSFERS !== "0";
const chain = await Chain.open({ db: new MemoryStore(), genesis: createDevGenesis() });
const sink = "0x000000000000000000000000000000000000dEaD";
const txs = Array.from({ length: n }, (_, i) => transfer(chain, { nonce: BigInt(i), value: 1n, to: sink }));
const { block } = await chain.buildBlock(txs, { commit: false });
const vm = (chain as unknown as { vm: VM }).vm;
const root = chain.head.header.stateRoot;
const times: number[] = [];
for (let r = 0; r < rounds; r++) {
  const t0 = performance.now();
  const exec = await executeForBuild(vm, block, root, { fastTransfers });
  times.push(performance.now() - t0);
  if (!exec || Buffer.compare(exec.stateRoot, block.header.stateRoot) !== 0) throw new Error("state root mismatch");
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
console.log(
  `executeForBuild ${n} transfers (fastTransfers=${fastTransfers}): median ${median.toFixed(1)} ms, best ${times[0].toFixed(1)} ms, ${Math.round((n / median) * 1000)} tx/s`,
);
