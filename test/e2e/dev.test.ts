/**
 * Acceptance e2e for `zgnode dev`: a spawned node driven by real ethers v6 and viem clients over HTTP and
 * WebSocket, a contract compiled with solc at test time, and a restart on the same data directory.
 */
import {
  Contract,
  ContractFactory,
  type EventLog,
  id as ethersId,
  JsonRpcProvider,
  Network,
  Wallet,
  WebSocketProvider,
  zeroPadValue,
} from "ethers";
import {
  type Abi,
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  defineChain,
  type Hex,
  http,
  type PublicClient,
  webSocket,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { ZgnodeProcess } from "../harness/index.ts";
import { type CompiledContract, compileSolidity, STORE_SOURCE } from "./solidity.ts";

const CHAIN_ID = 8888;
const KEY0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const KEY1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const VALUE_SET = ethersId("ValueSet(address,uint256,string)");
const PING = ethersId("Ping(uint256,address)");

function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)),
  ]);
}

function revertOf(err: unknown): ContractFunctionRevertedError | undefined {
  if (!(err instanceof BaseError)) return undefined;
  return err.walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | undefined;
}

describe("zgnode dev with ethers v6 and viem", () => {
  const node = new ZgnodeProcess({ name: "dev-e2e", args: ["--seal", "instant"] });
  let store: CompiledContract;
  let provider: JsonRpcProvider;
  let wallet0: Wallet;
  let ethersStore: Contract;
  let addrA: string; // deployed with ethers
  let addrB: Hex; // deployed with viem
  const chain = defineChain({
    id: CHAIN_ID,
    name: "zgnode dev",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: ["http://127.0.0.1"] } },
  });
  const account1 = privateKeyToAccount(KEY1);
  let pub: PublicClient;
  let abi: Abi;

  beforeAll(async () => {
    store = compileSolidity(STORE_SOURCE, "Store");
    abi = store.abi as Abi;
    await node.start();
    // cacheTimeout -1: ethers caches identical requests (e.g. the pending nonce) for 250 ms by default, which is
    // longer than a block takes here, so back-to-back sends would reuse a stale nonce.
    provider = new JsonRpcProvider(node.url, Network.from(CHAIN_ID), {
      staticNetwork: true,
      pollingInterval: 50,
      cacheTimeout: -1,
    });
    wallet0 = new Wallet(KEY0, provider);
    pub = createPublicClient({ chain, transport: http(node.url), pollingInterval: 50 });
  });

  afterAll(async () => {
    provider?.destroy();
    await node.cleanup();
  });

  const dumpLogsOnFailure = () =>
    onTestFailed(async () => {
      console.error(await node.logTail(80));
    });

  it("reports the documented chain id and prefunded dev accounts", async () => {
    dumpLogsOnFailure();
    expect((await provider.getNetwork()).chainId).toBe(BigInt(CHAIN_ID));
    expect(await pub.getChainId()).toBe(CHAIN_ID);
    expect(await provider.getBalance(wallet0.address)).toBe(10_000n * 10n ** 18n);
    expect(await pub.getBalance({ address: account1.address })).toBe(10_000n * 10n ** 18n);
  });

  it("ethers: deploys, calls, and transacts with EIP-1559 and legacy transactions", async () => {
    dumpLogsOnFailure();
    const factory = new ContractFactory(store.abi as never, store.bytecode, wallet0);
    const deployed = await factory.deploy(42n);
    await deployed.waitForDeployment();
    addrA = await deployed.getAddress();
    ethersStore = new Contract(addrA, store.abi as never, wallet0);
    expect(await provider.getCode(addrA)).not.toBe("0x");
    expect(await ethersStore.value()).toBe(42n);

    const tx1559 = await ethersStore.set(7n, "eip1559");
    expect(tx1559.type).toBe(2);
    const rc1559 = await tx1559.wait();
    expect(rc1559?.status).toBe(1);
    expect(rc1559?.logs).toHaveLength(1);
    const ev = rc1559?.logs[0] as EventLog;
    expect(ev.eventName).toBe("ValueSet");
    expect(ev.args.toArray()).toEqual([wallet0.address, 7n, "eip1559"]);
    expect(await ethersStore.value()).toBe(7n);

    // A legacy price with headroom over the base fee (eth_gasPrice alone is at the edge while the dev base fee
    // falls; see the request in /work/prompts/requests-chain.md).
    const gasPrice = (await provider.getFeeData()).maxFeePerGas!;
    const legacy = await ethersStore.set(8n, "legacy", { type: 0, gasPrice });
    expect(legacy.type).toBe(0);
    const rcLegacy = await legacy.wait();
    expect(rcLegacy?.status).toBe(1);
    expect(rcLegacy?.gasPrice).toBe(gasPrice);
    expect(await ethersStore.value()).toBe(8n);
    expect(await ethersStore.lastBy(wallet0.address)).toBe(8n);
    const fetched = await provider.getTransaction(legacy.hash);
    expect(fetched?.type).toBe(0);
    expect(fetched?.blockNumber).toBe(rcLegacy?.blockNumber);
  });

  it("ethers: a revert reason and a custom error reach the client", async () => {
    dumpLogsOnFailure();
    await expect(ethersStore.mustBePositive(0n)).rejects.toMatchObject({
      code: "CALL_EXCEPTION",
      reason: "value must be positive",
    });
    expect(await ethersStore.mustBePositive(5n)).toBe(5n);

    let callErr: { code?: string; revert?: { name: string; args: unknown[] } } | undefined;
    try {
      await ethersStore.set.staticCall(2_000_000n, "too big");
    } catch (err) {
      callErr = err as typeof callErr;
    }
    expect(callErr?.code).toBe("CALL_EXCEPTION");
    expect(callErr?.revert?.name).toBe("TooLarge");
    expect([...(callErr?.revert?.args ?? [])]).toEqual([2_000_000n, 1_000_000n]);

    // Sending goes through eth_estimateGas first, whose revert data must decode the same way.
    // (ethers decodes with the ABI only for staticCall; for sends the client gets the raw revert data.)
    let sendErr: { code?: string; data?: string } | undefined;
    try {
      await ethersStore.set(3_000_000n, "too big");
    } catch (err) {
      sendErr = err as typeof sendErr;
    }
    expect(sendErr?.code).toBe("CALL_EXCEPTION");
    const decoded = ethersStore.interface.parseError(sendErr?.data ?? "0x");
    expect(decoded?.name).toBe("TooLarge");
    expect([...(decoded?.args ?? [])]).toEqual([3_000_000n, 1_000_000n]);
  });

  it("viem: deploys, reads, writes (EIP-1559 and legacy) and decodes reverts", async () => {
    dumpLogsOnFailure();
    const wallet = createWalletClient({ account: account1, chain, transport: http(node.url) });
    const deployHash = await wallet.deployContract({ abi, bytecode: store.bytecode, args: [5n] });
    const deployRc = await pub.waitForTransactionReceipt({ hash: deployHash, pollingInterval: 50 });
    expect(deployRc.status).toBe("success");
    addrB = deployRc.contractAddress!;
    expect(await pub.readContract({ address: addrB, abi, functionName: "value" })).toBe(5n);

    const h1559 = await wallet.writeContract({ address: addrB, abi, functionName: "set", args: [9n, "viem-1559"] });
    const rc1559 = await pub.waitForTransactionReceipt({ hash: h1559, pollingInterval: 50 });
    expect(rc1559.status).toBe("success");
    expect(rc1559.type).toBe("eip1559");

    // viem's own legacy pricing (eth_gasPrice x 1.2).
    const hLegacy = await wallet.writeContract({
      address: addrB,
      abi,
      functionName: "set",
      args: [10n, "viem-legacy"],
      type: "legacy",
    });
    const rcLegacy = await pub.waitForTransactionReceipt({ hash: hLegacy, pollingInterval: 50 });
    expect(rcLegacy.type).toBe("legacy");
    expect(await pub.readContract({ address: addrB, abi, functionName: "value" })).toBe(10n);

    const reason = await pub
      .simulateContract({ account: account1, address: addrB, abi, functionName: "mustBePositive", args: [0n] })
      .then(() => undefined, revertOf);
    expect(reason?.reason).toBe("value must be positive");

    const custom = await pub
      .simulateContract({ account: account1, address: addrB, abi, functionName: "set", args: [2_000_001n, "x"] })
      .then(() => undefined, revertOf);
    expect(custom?.data?.errorName).toBe("TooLarge");
    expect(custom?.data?.args).toEqual([2_000_001n, 1_000_000n]);
  });

  it("filters logs by address arrays, topic OR-lists and null wildcards", async () => {
    dumpLogsOnFailure();
    const wallet = createWalletClient({ account: account1, chain, transport: http(node.url) });
    const pingHash = await wallet.writeContract({ address: addrB, abi, functionName: "ping", args: [77n] });
    await pub.waitForTransactionReceipt({ hash: pingHash, pollingInterval: 50 });
    const pingA = await ethersStore.ping(78n);
    await pingA.wait();

    // So far: A has ValueSet(7), ValueSet(8), Ping(78); B has ValueSet(9), ValueSet(10), Ping(77).
    const both = await provider.send("eth_getLogs", [{ fromBlock: "0x0", toBlock: "latest", address: [addrA, addrB] }]);
    expect(both).toHaveLength(6);
    const onlyA = await provider.send("eth_getLogs", [{ fromBlock: "0x0", address: [addrA] }]);
    expect(onlyA).toHaveLength(3);

    const orList = await provider.send("eth_getLogs", [
      { fromBlock: "0x0", address: [addrA, addrB], topics: [[VALUE_SET, PING]] },
    ]);
    expect(orList).toHaveLength(6);
    const pings = await provider.send("eth_getLogs", [{ fromBlock: "0x0", address: [addrA, addrB], topics: [PING] }]);
    expect(pings.map((l: { topics: string[] }) => BigInt(l.topics[1])).sort()).toEqual([77n, 78n]);

    // [event, any setter, value in {7, 10}]
    const wildcard = await provider.send("eth_getLogs", [
      { fromBlock: "0x0", topics: [VALUE_SET, null, [zeroPadValue("0x07", 32), zeroPadValue("0x0a", 32)]] },
    ]);
    expect(wildcard.map((l: { address: string }) => l.address.toLowerCase()).sort()).toEqual(
      [addrA.toLowerCase(), addrB.toLowerCase()].sort(),
    );
    const bySetter = await provider.send("eth_getLogs", [
      { fromBlock: "0x0", topics: [null, zeroPadValue(account1.address, 32)] },
    ]);
    expect(bySetter).toHaveLength(2); // ValueSet(9), ValueSet(10) by account1; Ping has `from` at topic 2

    const viemLogs = await pub.getLogs({ address: [addrA as Hex, addrB], fromBlock: 0n });
    expect(viemLogs).toHaveLength(6);
    const viemEvents = await pub.getContractEvents({ address: addrB, abi, eventName: "ValueSet", fromBlock: 0n });
    expect(viemEvents.map((e) => (e.args as { value: bigint }).value)).toEqual([9n, 10n]);
  });

  it("ethers WebSocketProvider: newHeads and logs subscriptions", async () => {
    dumpLogsOnFailure();
    const wsp = new WebSocketProvider(node.wsUrl, Network.from(CHAIN_ID), { staticNetwork: true });
    try {
      const block = new Promise<number>((resolve) => wsp.once("block", (n: number) => resolve(n)));
      const wsStore = new Contract(addrA, store.abi as never, wsp);
      const ping = new Promise<bigint>((resolve) => {
        wsStore.once("Ping", (tag: bigint) => resolve(tag));
      });
      await new Promise((r) => setTimeout(r, 300)); // let eth_subscribe land
      await (await ethersStore.ping(4242n)).wait();
      expect(await within(20_000, "ethers Ping event", ping)).toBe(4242n);
      expect(await within(20_000, "ethers block", block)).toBeGreaterThan(0);
      await wsStore.removeAllListeners();
    } finally {
      // Unsubscribe first and let the eth_unsubscribe answers arrive: destroying with requests in flight makes
      // ethers reject them ("provider destroyed"), which surfaces as an unhandled rejection.
      // One more request on the same socket: the server answers in order, so once it returns the eth_unsubscribe
      // answers are in.
      await wsp.removeAllListeners();
      await wsp.send("eth_chainId", []).catch(() => {});
      await wsp.destroy();
    }
  });

  it("viem webSocket transport: watchBlocks and watchContractEvent over eth_subscribe", async () => {
    dumpLogsOnFailure();
    const wsClient = createPublicClient({ chain, transport: webSocket(node.wsUrl) });
    const blocks: bigint[] = [];
    const tags: bigint[] = [];
    let gotBlock!: () => void;
    let gotLog!: () => void;
    const blockSeen = new Promise<void>((r) => {
      gotBlock = r;
    });
    const logSeen = new Promise<void>((r) => {
      gotLog = r;
    });
    const unwatchBlocks = wsClient.watchBlocks({
      poll: false,
      onBlock: (b) => {
        blocks.push(b.number);
        gotBlock();
      },
    });
    const unwatchLogs = wsClient.watchContractEvent({
      address: addrB,
      abi,
      eventName: "Ping",
      poll: false,
      onLogs: (logs) => {
        for (const l of logs) tags.push((l as unknown as { args: { tag: bigint } }).args.tag);
        gotLog();
      },
    });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const wallet = createWalletClient({ account: account1, chain, transport: http(node.url) });
      await pub.waitForTransactionReceipt({
        hash: await wallet.writeContract({ address: addrB, abi, functionName: "ping", args: [99n] }),
        pollingInterval: 50,
      });
      await within(20_000, "viem block", blockSeen);
      await within(20_000, "viem Ping log", logSeen);
      expect(tags).toEqual([99n]);
      expect(blocks[0]).toBeGreaterThan(0n);
    } finally {
      unwatchBlocks();
      unwatchLogs();
      // Same socket, answered in order: after this the eth_unsubscribe answers are in and the socket can close.
      await wsClient.request({ method: "eth_blockNumber" }).catch(() => {});
      await (await wsClient.transport.getRpcClient()).close();
    }
  });

  it("raw eth_subscribe notifications carry the subscription id and the block/log objects", async () => {
    dumpLogsOnFailure();
    const ws = new WebSocket(node.wsUrl);
    const messages: {
      id?: number;
      result?: string;
      method?: string;
      params?: { subscription: string; result: Record<string, unknown> };
    }[] = [];
    ws.onmessage = (ev) => messages.push(JSON.parse(String(ev.data)));
    await new Promise<void>((r) => {
      ws.onopen = () => r();
    });
    ws.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_subscribe", params: ["newHeads"] }));
    ws.send(
      JSON.stringify({ jsonrpc: "2.0", id: 2, method: "eth_subscribe", params: ["logs", { address: addrA, topics: [PING] }] }),
    );
    const until = async (pred: () => boolean, what: string) => {
      for (let i = 0; i < 400 && !pred(); i++) await new Promise((r) => setTimeout(r, 50));
      if (!pred()) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(messages).slice(0, 500)}`);
    };
    await until(() => messages.filter((m) => m.id !== undefined).length === 2, "subscription ids");
    const headSub = messages.find((m) => m.id === 1)?.result;
    const logSub = messages.find((m) => m.id === 2)?.result;
    expect(headSub).toMatch(/^0x[0-9a-f]+$/);
    expect(logSub).toMatch(/^0x[0-9a-f]+$/);
    const rc = await (await ethersStore.ping(5n)).wait();
    await until(() => messages.some((m) => m.params?.subscription === logSub), "log notification");
    await until(() => messages.some((m) => m.params?.subscription === headSub), "head notification");
    const log = messages.find((m) => m.params?.subscription === logSub)!.params!.result;
    expect(log.transactionHash).toBe(rc?.hash);
    expect((log.topics as string[])[0]).toBe(PING);
    const head = messages.find((m) => m.params?.subscription === headSub)!.params!.result;
    expect(head.hash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(head.parentHash).toMatch(/^0x[0-9a-f]{64}$/);
    ws.close();
  });

  it("serves /health and Prometheus /metrics with head, txpool and RPC counts and latency", async () => {
    dumpLogsOnFailure();
    const head = await provider.getBlockNumber();
    expect(await (await fetch(`${node.url}/health`)).json()).toMatchObject({ status: "ok", chainId: CHAIN_ID, head });
    const text = await (await fetch(`${node.url}/metrics`)).text();
    expect(text).toContain(`zgnode_chain_head_number ${head}`);
    expect(text).toMatch(/^zgnode_txpool_pending \d+/m);
    expect(text).toMatch(/^zgnode_rpc_requests_total\{method="eth_sendRawTransaction",outcome="ok"\} [1-9]/m);
    expect(text).toMatch(/^zgnode_rpc_request_duration_seconds_count\{method="eth_call"\} [1-9]/m);
    expect(text).toMatch(/^zgnode_rpc_ws_connections \d+/m);
  });

  it("state and head survive a clean restart (SIGINT) and a crash (SIGKILL) on the same datadir", async () => {
    dumpLogsOnFailure();
    const before = await provider.getBlock("latest");
    const valueA = await ethersStore.value();
    const valueB = await pub.readContract({ address: addrB, abi, functionName: "value" });
    const balance0 = await provider.getBalance(wallet0.address);
    const nonce0 = await provider.getTransactionCount(wallet0.address);

    // A clean shutdown exits 0 and says so in the log.
    expect(await node.stop("SIGINT")).toBe(0);
    expect(await node.logText()).toMatch(/"msg":"stopped"/);
    await node.start();
    const after = await provider.getBlock(before!.number);
    expect(after?.hash).toBe(before?.hash);
    expect(await provider.getBlockNumber()).toBe(before?.number);
    expect(await ethersStore.value()).toBe(valueA);
    expect(await pub.readContract({ address: addrB, abi, functionName: "value" })).toBe(valueB);
    expect(await provider.getBalance(wallet0.address)).toBe(balance0);
    expect(await provider.getTransactionCount(wallet0.address)).toBe(nonce0);

    // The chain keeps going after the restart, then a crash loses no committed block.
    const rc = await (await ethersStore.set(123n, "after restart")).wait();
    expect(rc?.status).toBe(1);
    await node.kill();
    await node.start();
    expect(await provider.getBlockNumber()).toBe(rc?.blockNumber);
    expect((await provider.getTransactionReceipt(rc!.hash))?.status).toBe(1);
    expect(await ethersStore.value()).toBe(123n);
  });
});
