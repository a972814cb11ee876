/**
 * `--seal manual` and `--seal interval` on a spawned `zgnode dev`: manual seals only on request (`evm_mine` /
 * `dev_sealBlock`, admin methods served to loopback), interval seals on the clock, empty blocks included.
 */
import { Wallet } from "ethers";
import { afterAll, describe, expect, it, onTestFailed } from "vitest";
import { ZgnodeProcess } from "../harness/index.ts";

const KEY0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

async function signedTransfer(nonce: number): Promise<string> {
  return new Wallet(KEY0).signTransaction({
    type: 2,
    chainId: 8888n,
    nonce,
    to: "0x000000000000000000000000000000000000dEaD",
    value: 1n,
    gasLimit: 21_000n,
    maxFeePerGas: 10n ** 10n,
    maxPriorityFeePerGas: 10n ** 9n,
  });
}

describe("zgnode dev sealing modes", () => {
  const nodes: ZgnodeProcess[] = [];
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.cleanup()));
  });

  it("--seal manual: transactions wait in the pool until evm_mine / dev_sealBlock", async () => {
    const node = new ZgnodeProcess({ name: "manual", args: ["--seal", "manual", "--quiet"] });
    nodes.push(node);
    onTestFailed(async () => console.error(await node.logTail(40)));
    await node.start();
    const h1 = (await node.rpc<string>("eth_sendRawTransaction", [await signedTransfer(0)])).result!;
    const h2 = (await node.rpc<string>("eth_sendRawTransaction", [await signedTransfer(1)])).result!;
    await new Promise((r) => setTimeout(r, 500));
    expect((await node.rpc("eth_blockNumber")).result).toBe("0x0");
    expect((await node.rpc("txpool_status")).result).toEqual({ pending: "0x2", queued: "0x0" });
    expect((await node.rpc("eth_getTransactionReceipt", [h1])).result).toBe(null);

    expect((await node.rpc("evm_mine")).result).toBe("0x0");
    expect((await node.rpc("eth_blockNumber")).result).toBe("0x1");
    const block = (await node.rpc<{ transactions: string[] }>("eth_getBlockByNumber", ["0x1", false])).result!;
    expect(block.transactions).toEqual([h1, h2]);

    const sealed = (await node.rpc<{ number: string; transactions: number }>("dev_sealBlock")).result!;
    expect(sealed).toMatchObject({ number: "0x2", transactions: 0 });
    expect((await node.rpc("eth_blockNumber")).result).toBe("0x2");
  });

  it("--seal interval: blocks come on the clock, empty or not", async () => {
    const node = new ZgnodeProcess({ name: "interval", args: ["--seal", "interval", "--block-time", "300", "--quiet"] });
    nodes.push(node);
    onTestFailed(async () => console.error(await node.logTail(40)));
    await node.start();
    const n0 = Number((await node.rpc<string>("eth_blockNumber")).result);
    const hash = (await node.rpc<string>("eth_sendRawTransaction", [await signedTransfer(0)])).result!;
    await new Promise((r) => setTimeout(r, 2000));
    const n1 = Number((await node.rpc<string>("eth_blockNumber")).result);
    // ~6 blocks in 2 s at 300 ms; allow for a loaded machine but require the clock to drive several.
    expect(n1 - n0).toBeGreaterThanOrEqual(3);
    const rc = (await node.rpc<{ status: string; blockNumber: string }>("eth_getTransactionReceipt", [hash])).result;
    expect(rc?.status).toBe("0x1");
  });
});
