/**
 * Micro-benchmark of the eth table's hot read paths on a dev chain, in-process (no HTTP):
 *   node packages/chain/test/rpc/bench-calls.ts
 * Prints ms/op and op/s; figures depend on machine load (not a test, nothing is asserted).
 */
import { createdAddress, initCode, LOGGER_RUNTIME, signedTx, startTestNode } from "./helpers.ts";

const node = await startTestNode();
const deploy = signedTx(node, 0, { data: initCode(LOGGER_RUNTIME), legacy: true });
await node.call("eth_sendRawTransaction", `0x${Buffer.from(deploy.serialize()).toString("hex")}`);
await node.sealer.sealNow();
const contract = createdAddress(node.addresses[0]!, 0n);
for (const [name, fn] of [
  ["eth_call", () => node.call("eth_call", { to: contract, data: "0x" }, "latest")],
  ["eth_getBalance", () => node.call("eth_getBalance", contract, "latest")],
  ["eth_blockNumber", () => node.call("eth_blockNumber")],
  ["eth_estimateGas", () => node.call("eth_estimateGas", { to: contract })],
] as const) {
  for (let i = 0; i < 50; i++) await fn();
  const n = 500;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  const ms = performance.now() - t0;
  console.log(name, (ms / n).toFixed(3), "ms/op", Math.round((n / ms) * 1000), "op/s");
}
node.pool.close();
await node.chain.close();
