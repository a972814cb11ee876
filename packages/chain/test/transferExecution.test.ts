import { Block, createBlockHeader } from "@ethereumjs/block";
import { createTx, getCalldataFloorGas, type TypedTransaction } from "@ethereumjs/tx";
import { Address, bigIntMax, bytesToHex, createAddressFromPrivateKey, hexToBytes, KECCAK256_RLP } from "@ethereumjs/util";
import { encodeReceipt, type RunTxResult, runTx, type VM } from "@ethereumjs/vm";
import { MemoryStore } from "@zgnode/db";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeReceiptFast, executeForBuild } from "../src/buildExecution.ts";
import { Chain } from "../src/chain.ts";
import { DEV_ACCOUNTS } from "../src/devAccounts.ts";
import { createDevGenesis, DEV_BALANCE } from "../src/genesis.ts";
import { TransferExecutor } from "../src/transferExecution.ts";

// Accounts of the test genesis, chosen for the cases a plain transfer must get right or must leave to runTx.
const key = (i: number) => hexToBytes(DEV_ACCOUNTS[i].privateKey as `0x${string}`);
const addr = (i: number) => DEV_ACCOUNTS[i].address.toLowerCase();
const UNFUNDED_KEY = hexToBytes(`0x${"42".repeat(32)}`);
const UNFUNDED = createAddressFromPrivateKey(UNFUNDED_KEY).toString();
const CONTRACT = "0x000000000000000000000000000000000000c0de";
const EMPTY = "0x000000000000000000000000000000000000e0e0"; // exists, EIP-161 empty
const EMPTY_WITH_STORAGE = "0x000000000000000000000000000000000000e5e5"; // empty, but with a storage slot
const NONCE_ONLY = "0x000000000000000000000000000000000000a0a0"; // balance 0, nonce 1: not empty
const FRESH = "0x00000000000000000000000000000000000f4e54";
const ZERO = "0x0000000000000000000000000000000000000000";

function genesis(hardfork: string) {
  const spec = createDevGenesis({ hardfork });
  const alloc = spec.alloc as Record<string, unknown>;
  alloc[addr(3)] = [`0x${DEV_BALANCE.toString(16)}`, "0x00", [], "0x0"]; // a sender with code (EIP-3607)
  alloc[addr(4)] = [`0x${DEV_BALANCE.toString(16)}`, `0xef0100${CONTRACT.slice(2)}`, [], "0x0"]; // delegated EOA
  alloc[CONTRACT] = ["0x0", "0x00", [], "0x1"];
  alloc[EMPTY] = ["0x0", "0x", [], "0x0"];
  alloc[EMPTY_WITH_STORAGE] = ["0x0", "0x", [[`0x${"00".repeat(31)}01`, "0x05"]], "0x0"];
  alloc[NONCE_ONLY] = ["0x0", "0x", [], "0x1"];
  return spec;
}

const SENDERS = [key(0), key(1), key(3), key(4), UNFUNDED_KEY];
// "self" and "coinbase" are resolved per transaction; the rest are fixed addresses.
const RECIPIENTS = [
  addr(0),
  addr(1),
  addr(2),
  addr(4),
  FRESH,
  EMPTY,
  EMPTY_WITH_STORAGE,
  NONCE_ONLY,
  CONTRACT,
  ZERO,
  "0x0000000000000000000000000000000000000001", // ecrecover
  "0x000000000000000000000000000000000000000a", // point evaluation
  "0x0000000000000000000000000000000000000011", // BLS12 map fp2 (Prague)
  "0x0000000000000000000000000000000000000100", // P256VERIFY from Osaka, a plain address before
  "0x000F3df6D732807Ef1319fB7B8bB8522d0Beac02", // EIP-4788 beacon roots contract
  "self",
  "coinbase",
];
const COINBASES = [ZERO, FRESH, addr(0), addr(1), EMPTY, EMPTY_WITH_STORAGE, NONCE_ONLY, CONTRACT];
/** Accounts whose full encoding is compared after every transaction. */
const WATCHED = [...new Set([...RECIPIENTS.filter((r) => r.startsWith("0x")), UNFUNDED, addr(3), ...COINBASES])];

/** fc.constantFrom with weights: mostly valid transfers, with every kind of fault still frequent. */
const weighted = <T>(...cases: [number, T][]) => fc.oneof(...cases.map(([weight, v]) => ({ weight, arbitrary: fc.constant(v) })));
const txSpec = fc.record({
  sender: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(0, 1) }, { weight: 1, arbitrary: fc.constantFrom(2, 3, 4) }),
  recipient: fc.nat({ max: RECIPIENTS.length - 1 }),
  type: fc.constantFrom(0, 1, 2),
  value: fc.oneof(fc.constant(0n), fc.constant(1n), fc.bigInt({ min: 0n, max: 10n ** 21n }), fc.constant(-1n)),
  nonce: weighted<bigint>([10, 0n], [1, -1n], [1, 1n]),
  fee: weighted([1, "below"], [2, "exact"], [4, "above"]),
  tip: fc.constantFrom(0n, 1n, 1_000_000_000n, 10n ** 30n),
  data: fc.oneof(
    { weight: 3, arbitrary: fc.constant(new Uint8Array()) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 80 }) },
  ),
  accessList: fc.boolean(),
  gas: weighted([4, "exact"], [1, "short"], [2, "extra"]),
});
type TxSpec = typeof txSpec extends fc.Arbitrary<infer T> ? T : never;
const blockSpec = fc.record({
  baseFee: fc.oneof(fc.constant(0n), fc.constant(7n), fc.constant(1_000_000_000n), fc.bigInt({ min: 1n, max: 10n ** 10n })),
  coinbase: fc.constantFrom(...COINBASES),
});

interface Setup {
  chain: Chain;
  vm: VM;
}

async function setup(hardfork: string): Promise<Setup> {
  const chain = await Chain.open({ db: new MemoryStore(), genesis: genesis(hardfork) });
  return { chain, vm: (chain as unknown as { vm: VM }).vm };
}

function makeBlock(s: Setup, baseFee: bigint, coinbase: string, txs: TypedTransaction[] = []): Block {
  const parent = s.chain.head;
  const common = s.chain.common;
  const header = createBlockHeader(
    {
      parentHash: parent.hash(),
      number: parent.header.number + 1n,
      timestamp: parent.header.timestamp + 12n,
      gasLimit: parent.header.gasLimit,
      coinbase: coinbase as `0x${string}`,
      baseFeePerGas: baseFee,
      difficulty: 0n,
      parentBeaconBlockRoot: new Uint8Array(32),
      withdrawalsRoot: KECCAK256_RLP,
      excessBlobGas: 0n,
      blobGasUsed: 0n,
    },
    { common, skipConsensusFormatValidation: true },
  );
  return new Block(header, txs, [], [], { common });
}

/** Builds a signed transaction from a spec against the current state (its nonce, balance and gas are relative). */
async function buildTx(s: Setup, spec: TxSpec, baseFee: bigint, coinbase: string): Promise<TypedTransaction> {
  const senderKey = SENDERS[spec.sender];
  const sender = createAddressFromPrivateKey(senderKey);
  const account = await s.vm.stateManager.getAccount(sender);
  const nonce = (account?.nonce ?? 0n) + spec.nonce;
  const r = RECIPIENTS[spec.recipient];
  const to = r === "self" ? sender.toString() : r === "coinbase" ? coinbase : r;
  const price =
    spec.fee === "below" ? (baseFee > 0n ? baseFee - 1n : 0n) : spec.fee === "exact" ? baseFee : baseFee + 3_000_000_000n;
  const value = spec.value < 0n ? (account?.balance ?? 0n) : spec.value;
  const accessList = spec.accessList
    ? [{ address: CONTRACT as `0x${string}`, storageKeys: [`0x${"00".repeat(31)}07`] as `0x${string}`[] }]
    : [];
  const make = (gasLimit: bigint) =>
    createTx(
      {
        type: spec.type,
        chainId: s.chain.chainId,
        nonce: nonce < 0n ? 0n : nonce,
        to: to as `0x${string}`,
        value,
        gasLimit,
        data: spec.data,
        ...(spec.type === 0 ? { gasPrice: price } : {}),
        ...(spec.type === 1 ? { gasPrice: price, accessList } : {}),
        ...(spec.type === 2
          ? { maxFeePerGas: price, maxPriorityFeePerGas: spec.tip > price ? price : spec.tip, accessList }
          : {}),
      },
      { common: s.chain.common },
    );
  const draft = make(1_000_000n);
  const exact = bigIntMax(draft.getIntrinsicGas(), getCalldataFloorGas(draft, sender));
  const gasLimit = spec.gas === "exact" ? exact : spec.gas === "short" ? exact - 1n : exact + 5_000n;
  return make(gasLimit).sign(senderKey);
}

/** What a transaction's execution produced, in comparable form (all fields the chain and receipts read). */
function outcome(res: RunTxResult, tx: TypedTransaction) {
  return {
    keys: Object.keys(res).sort(),
    execKeys: Object.keys(res.execResult).sort(),
    receiptKeys: Object.keys(res.receipt),
    totalGasSpent: res.totalGasSpent,
    blockGasSpent: res.blockGasSpent,
    amountSpent: res.amountSpent,
    minerValue: res.minerValue,
    gasRefund: res.gasRefund,
    execGasRefund: res.execResult.gasRefund,
    executionGasUsed: res.execResult.executionGasUsed,
    exceptionError: res.execResult.exceptionError?.error,
    returnValue: bytesToHex(res.execResult.returnValue),
    logs: res.execResult.logs,
    createdAddress: res.createdAddress?.toString(),
    bloom: bytesToHex(res.bloom.bitvector),
    receipt: bytesToHex(encodeReceipt(res.receipt, tx.type)),
  };
}

/**
 * Runs transactions one by one the way executeForBuild does (one outer checkpoint, receipt gas carried along), with
 * or without the transfer fast path, continuing after a failing transaction. Returns every outcome or error, the
 * final state root and, unless `batched` (the fast path's overlay is then written back only before runTx and at the
 * end, as in executeForBuild), the watched accounts after each transaction.
 */
async function runSequence(s: Setup, block: Block, txs: TypedTransaction[], mode: "slow" | "fast" | "batched") {
  const vm = s.vm;
  vm.common.setHardforkBy({ blockNumber: block.header.number, timestamp: block.header.timestamp });
  await vm.stateManager.setStateRoot(s.chain.head.header.stateRoot, true);
  await vm.evm.journal.checkpoint();
  const transfers = mode === "slow" ? undefined : TransferExecutor.create(vm, block);
  if (mode !== "slow") expect(transfers).toBeDefined();
  const steps: unknown[] = [];
  const snapshots: unknown[] = [];
  let used = 0n;
  let fastCount = 0;
  for (const tx of txs) {
    try {
      let res = await transfers?.execute(tx, used, true);
      if (res) fastCount++;
      else {
        await transfers?.flush();
        res = await runTx(vm, { tx, block, skipHardForkValidation: true, blockGasUsed: used });
      }
      used += res.totalGasSpent;
      steps.push(outcome(res, tx));
    } catch (err) {
      steps.push(`error: ${(err as Error).message}`);
    }
    if (mode === "batched") continue;
    await transfers?.flush();
    const accounts: Record<string, string | undefined> = {};
    for (const a of WATCHED) {
      const acc = await vm.stateManager.getAccount(new Address(hexToBytes(a as `0x${string}`)));
      accounts[a] = acc && bytesToHex(acc.serialize());
    }
    snapshots.push(accounts);
  }
  await transfers?.flush();
  await vm.evm.journal.commit();
  const stateRoot = bytesToHex(await vm.stateManager.getStateRoot());
  await vm.stateManager.setStateRoot(s.chain.head.header.stateRoot, true);
  return { steps, snapshots, stateRoot, fastCount };
}

async function differential(hardfork: string, numRuns: number) {
  const s = await setup(hardfork);
  let fastTotal = 0;
  let txTotal = 0;
  await fc.assert(
    fc.asyncProperty(blockSpec, fc.array(txSpec, { minLength: 1, maxLength: 8 }), async (b, specs) => {
      const block = makeBlock(s, b.baseFee, b.coinbase);
      // Transactions are signed against the state they will meet, so nonces and balances are mostly right.
      const txs: TypedTransaction[] = [];
      s.vm.common.setHardforkBy({ blockNumber: block.header.number, timestamp: block.header.timestamp });
      await s.vm.stateManager.setStateRoot(s.chain.head.header.stateRoot, true);
      await s.vm.evm.journal.checkpoint();
      for (const spec of specs) {
        const tx = await buildTx(s, spec, b.baseFee, b.coinbase);
        txs.push(tx);
        try {
          await runTx(s.vm, { tx, block, skipHardForkValidation: true });
        } catch {
          // a failing transaction changes nothing; the next one is signed against the same state
        }
      }
      await s.vm.evm.journal.revert();
      const slow = await runSequence(s, block, txs, "slow");
      const fast = await runSequence(s, block, txs, "fast");
      const batched = await runSequence(s, block, txs, "batched");
      expect(fast.steps).toEqual(slow.steps);
      expect(fast.snapshots).toEqual(slow.snapshots);
      expect(fast.stateRoot).toBe(slow.stateRoot);
      expect(batched.steps).toEqual(slow.steps);
      expect(batched.stateRoot).toBe(slow.stateRoot);
      fastTotal += fast.fastCount;
      txTotal += txs.length;
    }),
    { numRuns },
  );
  return { fastTotal, txTotal };
}

describe("plain transfers without runTx", () => {
  it("match runTx on random transfer sequences (Prague)", async () => {
    const { fastTotal, txTotal } = await differential("prague", 150);
    // The property must exercise the fast path, not only the fallbacks.
    expect(fastTotal).toBeGreaterThan(txTotal / 4);
  }, 120_000);

  it("match runTx on random transfer sequences (Osaka: P256VERIFY is a precompile)", async () => {
    const { fastTotal } = await differential("osaka", 30);
    expect(fastTotal).toBeGreaterThan(0);
  }, 120_000);

  it("leave recipients with code, precompiles and blob-less special types to runTx", async () => {
    const s = await setup("osaka");
    const block = makeBlock(s, 7n, ZERO);
    s.vm.common.setHardforkBy({ blockNumber: block.header.number, timestamp: block.header.timestamp });
    const transfers = TransferExecutor.create(s.vm, block);
    expect(transfers).toBeDefined();
    const spec: TxSpec = {
      sender: 0,
      recipient: 0,
      type: 2,
      value: 1n,
      nonce: 0n,
      fee: "above",
      tip: 1n,
      data: new Uint8Array(),
      accessList: false,
      gas: "exact",
    };
    const plain = await buildTx(s, spec, 7n, ZERO);
    expect(await transfers!.execute(plain, 0n, true)).toBeDefined();
    const fresh = TransferExecutor.create(s.vm, block)!;
    for (const recipient of [
      CONTRACT,
      addr(4),
      "0x0000000000000000000000000000000000000100",
      "0x0000000000000000000000000000000000000001",
    ]) {
      const tx = await buildTx(s, { ...spec, recipient: RECIPIENTS.indexOf(recipient) }, 7n, ZERO);
      expect(await fresh.execute(tx, 0n, true)).toBeUndefined();
    }
    // A listener on the VM's transaction events disables the fast path (tracers see every transaction).
    const listener = () => {};
    s.vm.events.on("afterTx", listener);
    expect(TransferExecutor.create(s.vm, block)).toBeUndefined();
    s.vm.events.off("afterTx", listener);
  });

  it("gives executeForBuild the same block with and without the fast path", async () => {
    const s = await setup("prague");
    await fc.assert(
      fc.asyncProperty(blockSpec, fc.array(txSpec, { minLength: 1, maxLength: 10 }), async (b, specs) => {
        // Keep only transactions that execute, signed in sequence (executeForBuild throws on the first bad one).
        const probe = makeBlock(s, b.baseFee, b.coinbase);
        s.vm.common.setHardforkBy({ blockNumber: probe.header.number, timestamp: probe.header.timestamp });
        await s.vm.stateManager.setStateRoot(s.chain.head.header.stateRoot, true);
        await s.vm.evm.journal.checkpoint();
        const txs: TypedTransaction[] = [];
        for (const spec of specs) {
          const tx = await buildTx(s, spec, b.baseFee, b.coinbase);
          try {
            await runTx(s.vm, { tx, block: probe, skipHardForkValidation: true });
            txs.push(tx);
          } catch {}
        }
        await s.vm.evm.journal.revert();
        await s.vm.stateManager.setStateRoot(s.chain.head.header.stateRoot, true);
        const block = makeBlock(s, b.baseFee, b.coinbase, txs);
        const root = s.chain.head.header.stateRoot;
        const fast = await executeForBuild(s.vm, block, root, { fastTransfers: true });
        const slow = await executeForBuild(s.vm, block, root, { fastTransfers: false });
        // As an import would run it (hardfork checks on), and as runBlock-compatible validation would see it.
        const checked = await executeForBuild(s.vm, block, root, { fastTransfers: true, skipHardForkValidation: false });
        expect(fast).toBeDefined();
        const view = (e: typeof fast) => ({
          stateRoot: bytesToHex(e!.stateRoot),
          receiptsRoot: bytesToHex(e!.receiptsRoot),
          transactionsRoot: bytesToHex(e!.transactionsRoot),
          logsBloom: bytesToHex(e!.logsBloom),
          gasUsed: e!.gasUsed,
          requestsHash: e!.requestsHash && bytesToHex(e!.requestsHash),
          receipts: e!.receipts.map((r, i) => bytesToHex(encodeReceipt(r, txs[i].type))),
          results: e!.results.map((r, i) => outcome(r, txs[i])),
        });
        expect(view(fast)).toEqual(view(slow));
        expect(view(checked)).toEqual(view(slow));
        await s.vm.stateManager.setStateRoot(root, true);
      }),
      { numRuns: 40 },
    );
  }, 120_000);

  it("encodes receipts as encodeReceipt does", () => {
    const log = fc.tuple(
      fc.uint8Array({ minLength: 20, maxLength: 20 }),
      fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 2 }),
      fc.uint8Array({ maxLength: 40 }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(0, 1, 2, 3, 4),
        fc.constantFrom(0, 1),
        fc.oneof(
          fc.bigInt({ min: 0n, max: 1n << 64n }),
          fc.constantFrom(0n, 0x7fn, 0x80n, 0xffn, 0x100n, 21_000n, (1n << 256n) - 1n),
        ),
        fc.oneof(fc.constant(new Uint8Array(256)), fc.uint8Array({ minLength: 256, maxLength: 256 })),
        fc.array(log, { maxLength: 2 }),
        (type, status, gas, bitvector, logs) => {
          const receipt = { status: status as 0 | 1, cumulativeBlockGasUsed: gas, bitvector, logs };
          expect(bytesToHex(encodeReceiptFast(receipt, type))).toBe(bytesToHex(encodeReceipt(receipt, type)));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("builds blocks that another chain imports through the general path", async () => {
    const a = await setup("prague");
    const b = await setup("prague");
    const sink = "0x000000000000000000000000000000000000dead";
    const nonces = [0n, 0n, 0n];
    for (let round = 0; round < 3; round++) {
      const txs: TypedTransaction[] = [];
      for (let i = 0; i < 40; i++) {
        const sender = i % 3;
        const nonce = nonces[sender]++;
        txs.push(
          createTx(
            {
              type: 2,
              chainId: a.chain.chainId,
              nonce,
              to: (i % 4 === 0 ? `0x${(0x1000 + round * 40 + i).toString(16).padStart(40, "0")}` : sink) as `0x${string}`,
              value: BigInt(i % 5),
              gasLimit: 21_000n,
              maxFeePerGas: 10_000_000_000n,
              maxPriorityFeePerGas: BigInt(i % 2),
            },
            { common: a.chain.common },
          ).sign(key(sender)),
        );
      }
      const probe = makeBlock(a, a.chain.nextBaseFee(), ZERO);
      a.vm.common.setHardforkBy({ blockNumber: probe.header.number, timestamp: probe.header.timestamp });
      expect(TransferExecutor.create(a.vm, probe)).toBeDefined();
      const { block, rejected } = await a.chain.buildBlock(txs);
      expect(rejected).toEqual([]);
      expect(block.transactions.length).toBe(40);
      await b.chain.importBlock(block);
      expect(bytesToHex(b.chain.head.hash())).toBe(bytesToHex(block.hash()));
      expect(bytesToHex(b.chain.head.header.stateRoot)).toBe(bytesToHex(block.header.stateRoot));
    }
  }, 60_000);
});
