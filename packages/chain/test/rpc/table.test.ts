import { createTxFromRLP } from "@ethereumjs/tx";
import { RpcError } from "@zgnode/utils";
import { verifyMessage, verifyTypedData } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createdAddress,
  initCode,
  LOGGER_RUNTIME,
  resetNonces,
  signedTx,
  startTestNode,
  type TestNode,
  TOPIC_A,
  wsCtx,
} from "./helpers.ts";

type Obj = Record<string, unknown>;

async function rpcError(p: Promise<unknown>): Promise<RpcError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof RpcError) return err;
    throw err;
  }
  throw new Error("expected an RpcError");
}

describe("eth table over a dev chain", () => {
  let node: TestNode;
  let contract: string;
  let deployHash: string;
  let logTxHash: string;

  beforeAll(async () => {
    resetNonces();
    node = await startTestNode();
    const deploy = signedTx(node, 0, { data: initCode(LOGGER_RUNTIME), legacy: true });
    deployHash = (await node.call("eth_sendRawTransaction", `0x${Buffer.from(deploy.serialize()).toString("hex")}`)) as string;
    contract = createdAddress(node.addresses[0]!, 0n);
    const emit = signedTx(node, 1, { to: contract });
    logTxHash = (await node.call("eth_sendRawTransaction", `0x${Buffer.from(emit.serialize()).toString("hex")}`)) as string;
    await node.sealer.sealNow();
  });

  afterAll(async () => {
    node.pool.close();
    await node.chain.close();
  });

  it("answers chain identity and head", async () => {
    expect(await node.call("eth_chainId")).toBe("0x22b8");
    expect(await node.call("net_version")).toBe("8888");
    expect(await node.call("eth_blockNumber")).toBe("0x1");
    expect(await node.call("web3_sha3", "0x")).toBe("0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    const latest = (await node.call("eth_getBlockByNumber", "latest", false)) as Obj;
    for (const tag of ["safe", "finalized", "pending"]) {
      expect(((await node.call("eth_getBlockByNumber", tag, false)) as Obj).hash).toBe(latest.hash);
    }
    expect(latest.totalDifficulty).toBeUndefined();
    expect(latest.transactions).toEqual([deployHash, logTxHash]);
    expect(await node.call("eth_getBlockByNumber", "0x99", false)).toBeNull();
  });

  it("prices gas at no less than the head's base fee while the base fee falls", async () => {
    // Block 1 used far less than half the gas limit, so the next base fee is lower than the head's.
    const head = (await node.call("eth_getBlockByNumber", "latest", false)) as Obj;
    const headBaseFee = BigInt(head.baseFeePerGas as string);
    const nextBaseFee = BigInt((await node.call("eth_baseFee")) as string);
    expect(nextBaseFee).toBeLessThan(headBaseFee);
    const tip = BigInt((await node.call("eth_maxPriorityFeePerGas")) as string);
    expect(BigInt((await node.call("eth_gasPrice")) as string)).toBe(headBaseFee + tip);
  });

  it("serves receipts with contract address, logs and block timestamps", async () => {
    const deployReceipt = (await node.call("eth_getTransactionReceipt", deployHash)) as Obj;
    expect(deployReceipt.contractAddress).toBe(contract);
    expect(deployReceipt.status).toBe("0x1");
    expect(deployReceipt.type).toBe("0x0");
    const receipt = (await node.call("eth_getTransactionReceipt", logTxHash)) as Obj;
    const block = (await node.call("eth_getBlockByNumber", "0x1", true)) as Obj;
    expect(receipt.type).toBe("0x2");
    expect(receipt.contractAddress).toBeNull();
    const logs = receipt.logs as Obj[];
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({
      address: contract,
      topics: [TOPIC_A, `0x${"00".repeat(12)}${node.addresses[1]!.toString().slice(2)}`],
      blockTimestamp: block.timestamp,
      logIndex: "0x0",
      transactionIndex: "0x1",
      removed: false,
    });
    const txs = block.transactions as Obj[];
    expect(txs[1]).toMatchObject({ hash: logTxHash, blockTimestamp: block.timestamp, type: "0x2", yParity: txs[1]!.v });
    expect(txs[0]!.chainId).toBe("0x22b8");
    const all = (await node.call("eth_getBlockReceipts", "latest")) as Obj[];
    expect(all.map((r) => r.transactionHash)).toEqual([deployHash, logTxHash]);
    // The gas of both receipts adds up to the block's.
    expect(BigInt(all[1]!.cumulativeGasUsed as string)).toBe(BigInt(block.gasUsed as string));
  });

  it("filters logs by address lists, topic OR-lists and null wildcards", async () => {
    const other = `0x${"11".repeat(20)}`;
    const sender = `0x${"00".repeat(12)}${node.addresses[1]!.toString().slice(2)}`;
    const q = (f: Obj) => node.call("eth_getLogs", { fromBlock: "0x0", toBlock: "latest", ...f }) as Promise<Obj[]>;
    expect(await q({ address: [other, contract] })).toHaveLength(1);
    expect(await q({ address: other })).toHaveLength(0);
    expect(await q({ topics: [null, [`0x${"22".repeat(32)}`, sender]] })).toHaveLength(1);
    expect(await q({ topics: [[`0x${"22".repeat(32)}`]] })).toHaveLength(0);
    expect(await q({ topics: [TOPIC_A, null, null] })).toHaveLength(0);
    const block = (await node.call("eth_getBlockByNumber", "0x1", false)) as Obj;
    expect(await node.call("eth_getLogs", { blockHash: block.hash })).toHaveLength(1);
    expect((await rpcError(node.call("eth_getLogs", { fromBlock: "0x1", toBlock: "0x0" }))).code).toBe(-32602);
    expect((await rpcError(node.call("eth_getLogs", { fromBlock: "0x0", toBlock: "0x5" }))).code).toBe(-32602);
    expect((await rpcError(node.call("eth_getLogs", { blockHash: block.hash, fromBlock: "0x0" }))).code).toBe(-32602);
  });

  it("returns revert data with code 3 for custom errors and decodes Error(string)", async () => {
    const custom = "0xdeadbeef0000000000000000000000000000000000000000000000000000000000000007";
    const err = await rpcError(node.call("eth_call", { to: contract, data: custom }));
    expect(err.code).toBe(3);
    expect(err.data).toBe(custom);
    expect(err.message).toBe("execution reverted");
    // Error("nope")
    const reason = `0x08c379a0${"20".padStart(64, "0")}${"4".padStart(64, "0")}${Buffer.from("nope").toString("hex").padEnd(64, "0")}`;
    const err2 = await rpcError(node.call("eth_call", { to: contract, input: reason }, "latest"));
    expect(err2.message).toBe("execution reverted: nope");
    expect((await rpcError(node.call("eth_estimateGas", { to: contract, data: custom }))).code).toBe(3);
  });

  it("calls from an address with code, like geth (no EIP-3607 check for calls)", async () => {
    // The contract itself as sender: with empty calldata it logs and stops.
    await expect(node.call("eth_call", { from: contract, to: contract }, "latest")).resolves.toBe("0x");
    expect(BigInt((await node.call("eth_estimateGas", { from: contract, to: contract })) as string)).toBeGreaterThan(21_000n);
    // The sender's code is intact afterwards.
    expect(await node.call("eth_getCode", contract, "latest")).toBe(LOGGER_RUNTIME);
  });

  it("estimates the smallest gas that succeeds", async () => {
    expect(
      await node.call("eth_estimateGas", {
        from: node.addresses[2]!.toString(),
        to: node.addresses[3]!.toString(),
        value: "0x1",
      }),
    ).toBe("0x5208");
    const gas = BigInt((await node.call("eth_estimateGas", { from: node.addresses[2]!.toString(), to: contract })) as string);
    expect(gas).toBeGreaterThan(21_000n);
    await expect(node.call("eth_call", { to: contract, gas: `0x${gas.toString(16)}` })).resolves.toBe("0x");
    const tooLow = await rpcError(node.call("eth_call", { to: contract, gas: `0x${(gas - 1000n).toString(16)}` }));
    expect(tooLow.code).toBe(-32000);
  });

  it("applies state overrides in eth_call", async () => {
    const who = `0x${"42".repeat(20)}`;
    // Code override: CALLER BALANCE PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN (returns the caller's balance).
    const out = await node.call("eth_call", { from: who, to: contract }, "latest", {
      [contract]: { code: "0x333160005260206000f3" },
      [who]: { balance: "0x1234" },
    });
    expect(out).toBe(`0x${"1234".padStart(64, "0")}`);
    // Overrides live only for that call: the cached VM of the block is back to the real state.
    expect(await node.call("eth_getBalance", who, "latest")).toBe("0x0");
    expect(await node.call("eth_getCode", contract, "latest")).toBe(LOGGER_RUNTIME);
    await expect(node.call("eth_call", { from: who, to: contract }, "latest")).resolves.toBe("0x");
  });

  it("reads state at a block and rejects malformed params with -32602", async () => {
    expect(await node.call("eth_getCode", contract)).toBe(LOGGER_RUNTIME);
    expect(await node.call("eth_getCode", contract, "0x0")).toBe("0x");
    expect(await node.call("eth_getTransactionCount", node.addresses[0]!.toString(), "latest")).toBe("0x1");
    expect((await rpcError(node.call("eth_getBalance", "0x12", "latest"))).code).toBe(-32602);
    expect((await rpcError(node.call("eth_getBlockByNumber", "12", false))).code).toBe(-32602);
    expect((await rpcError(node.call("eth_getBalance", contract, "0x99"))).code).toBe(-32000);
    const proof = (await node.call("eth_getProof", contract, ["0x0"], "latest")) as Obj;
    expect((proof.accountProof as string[]).length).toBeGreaterThan(0);
    expect((proof.storageProof as Obj[])[0]).toMatchObject({ key: "0x0", value: "0x0" });
  });

  it("keeps filters until they expire and delivers block, log and pending-tx changes", async () => {
    const logFilter = (await node.call("eth_newFilter", { address: contract, fromBlock: "0x0" })) as string;
    const blockFilter = (await node.call("eth_newBlockFilter")) as string;
    const txFilter = (await node.call("eth_newPendingTransactionFilter")) as string;
    const tx = signedTx(node, 1, { to: contract });
    const hash = await node.call("eth_sendRawTransaction", `0x${Buffer.from(tx.serialize()).toString("hex")}`);
    expect(await node.call("eth_getFilterChanges", txFilter)).toEqual([hash]);
    const status = (await node.call("txpool_status")) as Obj;
    expect(status).toEqual({ pending: "0x1", queued: "0x0" });
    const content = (await node.call("txpool_content")) as { pending: Record<string, Record<string, Obj>> };
    expect(content.pending[node.addresses[1]!.toString()]?.["1"]?.hash).toBe(hash);
    const block = await node.sealer.sealNow();
    expect(await node.call("eth_getFilterChanges", blockFilter)).toEqual([
      `0x${Buffer.from(block.block.hash()).toString("hex")}`,
    ]);
    const logs = (await node.call("eth_getFilterChanges", logFilter)) as Obj[];
    expect(logs.map((l) => l.transactionHash)).toEqual([hash]);
    expect(await node.call("eth_getFilterChanges", logFilter)).toEqual([]);
    expect(((await node.call("eth_getFilterLogs", logFilter)) as Obj[]).length).toBe(2);
    // Not polled for more than 5 minutes: gone.
    node.clock.now += 5 * 60_000 + 1;
    expect((await rpcError(node.call("eth_getFilterChanges", blockFilter))).message).toBe("filter not found");
    expect(await node.call("eth_uninstallFilter", logFilter)).toBe(false);
  });

  it("pushes newHeads, logs and newPendingTransactions over a connection", async () => {
    const ws = wsCtx();
    const sub = node.table.eth_subscribe!;
    const heads = (await sub.handler(["newHeads"], ws.ctx)) as string;
    const logs = (await sub.handler(["logs", { address: [contract], topics: [TOPIC_A] }], ws.ctx)) as string;
    const pending = (await sub.handler(["newPendingTransactions"], ws.ctx)) as string;
    expect(new Set([heads, logs, pending]).size).toBe(3);
    const tx = signedTx(node, 1, { to: contract });
    await node.call("eth_sendRawTransaction", `0x${Buffer.from(tx.serialize()).toString("hex")}`);
    await node.sealer.sealNow();
    const bySub = (id: string) =>
      ws.notes.filter((n) => (n.params as Obj).subscription === id).map((n) => (n.params as Obj).result);
    expect(ws.notes.every((n) => n.method === "eth_subscription")).toBe(true);
    expect(bySub(pending)).toEqual([`0x${Buffer.from(tx.hash()).toString("hex")}`]);
    expect((bySub(heads)[0] as Obj).number).toBe(await node.call("eth_blockNumber"));
    expect((bySub(logs)[0] as Obj).removed).toBe(false);
    expect(await node.table.eth_unsubscribe!.handler([heads], ws.ctx)).toBe(true);
    expect(await node.table.eth_unsubscribe!.handler([heads], ws.ctx)).toBe(false);
    ws.close();
    const before = ws.notes.length;
    await node.sealer.sealNow();
    expect(ws.notes.length).toBe(before);
  });

  it("signs with node-managed dev keys", async () => {
    const [a0] = (await node.call("eth_accounts")) as string[];
    const sig = (await node.call("personal_sign", "0x68656c6c6f", a0)) as string;
    expect(verifyMessage("hello", sig).toLowerCase()).toBe(a0);
    const typed = {
      types: {
        EIP712Domain: [
          { name: "name", type: "string" },
          { name: "chainId", type: "uint256" },
        ],
        Mail: [
          { name: "to", type: "address" },
          { name: "contents", type: "string" },
          { name: "tags", type: "bytes32[]" },
        ],
      },
      primaryType: "Mail",
      domain: { name: "zg", chainId: 8888 },
      message: { to: contract, contents: "hi", tags: [TOPIC_A] },
    };
    const tsig = (await node.call("eth_signTypedData_v4", a0, JSON.stringify(typed))) as string;
    const { EIP712Domain: _d, ...types } = typed.types;
    expect(verifyTypedData(typed.domain, types, typed.message, tsig).toLowerCase()).toBe(a0);
    const hash = (await node.call("eth_sendTransaction", {
      from: a0,
      to: node.addresses[5]!.toString(),
      value: "0x10",
    })) as string;
    await node.sealer.sealNow();
    const receipt = (await node.call("eth_getTransactionReceipt", hash)) as Obj;
    expect(receipt.status).toBe("0x1");
    expect(receipt.gasUsed).toBe("0x5208");
  });

  it("traces transactions with the struct logger and the callTracer", async () => {
    const struct = (await node.call("debug_traceTransaction", logTxHash)) as { structLogs: Obj[]; failed: boolean; gas: number };
    expect(struct.failed).toBe(false);
    expect(struct.structLogs.map((l) => l.op)).toContain("LOG2");
    expect(struct.structLogs[0]).toMatchObject({ pc: 0, op: "CALLDATASIZE", depth: 1 });
    const receipt = (await node.call("eth_getTransactionReceipt", logTxHash)) as Obj;
    expect(BigInt(struct.gas)).toBe(BigInt(receipt.gasUsed as string));
    const calls = (await node.call("debug_traceTransaction", logTxHash, { tracer: "callTracer" })) as Obj;
    expect(calls).toMatchObject({ type: "CALL", to: contract, gasUsed: receipt.gasUsed });
    const raw = (await node.call("debug_getRawTransaction", logTxHash)) as string;
    expect(
      `0x${Buffer.from(createTxFromRLP(Buffer.from(raw.slice(2), "hex"), { common: node.chain.common }).hash()).toString("hex")}`,
    ).toBe(logTxHash);
    expect((await rpcError(node.call("debug_traceBlockByNumber", "0x0"))).message).toBe("genesis is not traceable");
  });

  it("simulates blocks of calls with overrides without touching the chain", async () => {
    const rich = `0x${"c0".repeat(20)}`;
    const to = `0x${"c1".repeat(20)}`;
    const headBefore = await node.call("eth_blockNumber");
    const blocks = (await node.call(
      "eth_simulateV1",
      {
        blockStateCalls: [
          { stateOverrides: { [rich]: { balance: "0x3e8" } }, calls: [{ from: rich, to, value: "0x3e8" }] },
          {
            calls: [
              { from: node.addresses[1]!.toString(), to: contract, data: "0xdeadbeef" },
              { from: to, to: rich, value: "0x1" },
            ],
          },
        ],
        traceTransfers: true,
      },
      "latest",
    )) as Obj[];
    expect(blocks).toHaveLength(2);
    expect(BigInt(blocks[0]!.number as string)).toBe(BigInt(headBefore as string) + 1n);
    expect(blocks[1]!.parentHash).toBe(blocks[0]!.hash);
    const [first, second] = blocks.map((b) => b.calls as Obj[]);
    expect(first![0]).toMatchObject({ status: "0x1", gasUsed: "0x5208" });
    expect((first![0]!.logs as Obj[])[0]).toMatchObject({ address: `0x${"ee".repeat(20)}`, blockHash: blocks[0]!.hash });
    // The custom-error revert of the test contract, with its data.
    expect(second![0]).toMatchObject({ status: "0x0", returnData: "0x", error: { code: 3, data: "0xdeadbeef" } });
    expect(second![1]).toMatchObject({ status: "0x1" });
    // Nothing reached the chain.
    expect(await node.call("eth_blockNumber")).toBe(headBefore);
    expect(await node.call("eth_getBalance", to, "latest")).toBe("0x0");
  });

  it("answers fee history with blockCount + 1 base fees", async () => {
    const h = (await node.call("eth_feeHistory", "0x2", "latest", [25, 75])) as Obj;
    expect((h.baseFeePerGas as string[]).length).toBe(3);
    expect((h.gasUsedRatio as number[]).length).toBe(2);
    expect((h.reward as string[][]).every((r) => r.length === 2)).toBe(true);
    expect((await rpcError(node.call("eth_feeHistory", "0x2", "latest", [75, 25]))).code).toBe(-32602);
  });
});
