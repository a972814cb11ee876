import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LevelDb, MemoryStore } from "@zgnode/db";
import { bytesToHex, createMetricsRegistry, hexToBytes } from "@zgnode/utils";
import { describe, expect, it } from "vitest";
import { fastBuildAvailable } from "../src/buildExecution.ts";
import { Chain } from "../src/chain.ts";
import { ChainErrorCode } from "../src/errors.ts";
import { createDevGenesis, DEV_BALANCE } from "../src/genesis.ts";
import { createChainMetrics } from "../src/metrics.ts";
import { ALICE, BOB, CAROL, transfer } from "./helpers.ts";

describe("Chain (dev genesis)", () => {
  it("creates a Prague genesis with the dev accounts funded", async () => {
    const chain = await Chain.open({ db: new MemoryStore(), genesis: createDevGenesis() });
    expect(chain.chainId).toBe(8888n);
    expect(chain.head.header.number).toBe(0n);
    expect(chain.common.hardfork()).toBe("prague");
    expect(chain.head.header.gasLimit).toBe(60_000_000n);
    const view = await chain.stateAt();
    expect(await view.getBalance(hexToBytes(ALICE.address))).toBe(DEV_BALANCE);
    expect((await view.getCode(hexToBytes("0x0000F90827F1C53a10cb7A02335B175320002935"))).length).toBeGreaterThan(0);
  });

  it("builds a block of transfers with receipts, indexes and balances", async () => {
    const chain = await Chain.open({ db: new MemoryStore(), genesis: createDevGenesis() });
    const events: bigint[] = [];
    chain.on("block", (ev) => events.push(ev.block.header.number));
    const txs = Array.from({ length: 50 }, (_, i) => transfer(chain, { nonce: BigInt(i), value: 7n }));
    const { block, receipts, rejected } = await chain.buildBlock(txs);
    expect(rejected).toEqual([]);
    expect(block.header.number).toBe(1n);
    expect(block.transactions.length).toBe(50);
    expect(block.header.gasUsed).toBe(50n * 21000n);
    expect(receipts[49].cumulativeGasUsed).toBe(50n * 21000n);
    expect(receipts.every((r) => r.status === 1)).toBe(true);
    expect(bytesToHex(receipts[0].from).toLowerCase()).toBe(ALICE.address.toLowerCase());
    expect(events).toEqual([1n]);
    expect(bytesToHex(chain.head.hash())).toBe(bytesToHex(block.hash()));
    const byNumber = await chain.getBlockByNumber(1n);
    expect(byNumber && bytesToHex(byNumber.hash())).toBe(bytesToHex(block.hash()));
    const lookup = await chain.getTransaction(txs[10].hash());
    expect(lookup?.index).toBe(10);
    expect(lookup?.receipt.gasUsed).toBe(21000n);
    expect(lookup?.receipt.effectiveGasPrice).toBe(block.header.baseFeePerGas! + 1_000_000_000n);
    const view = await chain.stateAt();
    expect(await view.getBalance(hexToBytes(BOB.address))).toBe(DEV_BALANCE + 50n * 7n);
    expect(await view.getNonce(hexToBytes(ALICE.address))).toBe(50n);
    // The block re-validates through the import path on a second chain.
    const other = await Chain.open({ db: new MemoryStore(), genesis: createDevGenesis() });
    await other.importBlock(block);
    expect(bytesToHex(other.head.header.stateRoot)).toBe(bytesToHex(block.header.stateRoot));
  });

  it("leaves out transactions that cannot execute and reports why", async () => {
    const chain = await Chain.open({ db: new MemoryStore(), genesis: createDevGenesis() });
    const good = transfer(chain, { nonce: 0n });
    const gap = transfer(chain, { nonce: 5n });
    const { block, rejected } = await chain.buildBlock([good, gap]);
    expect(block.transactions.length).toBe(1);
    expect(rejected.length).toBe(1);
    expect(rejected[0].error).toMatch(/nonce/);
  });

  it("builds without committing (testing_buildBlockV1) and reports nonce faults in geth's words", async () => {
    const chain = await Chain.open({ db: new MemoryStore(), genesis: createDevGenesis() });
    await chain.buildBlock([transfer(chain, { nonce: 0n })]);
    const head = bytesToHex(chain.head.hash());
    const res = await chain.buildBlock([transfer(chain, { nonce: 1n })], {
      commit: false,
      strict: true,
      withdrawals: [{ index: 0n, validatorIndex: 1n, address: CAROL.address, amount: 5n }],
    });
    expect(res.block.header.number).toBe(2n);
    expect(res.block.transactions.length).toBe(1);
    expect(res.requests.map((r) => r.type)).toEqual([0, 1, 2]); // deposit, withdrawal, consolidation: all empty
    expect(bytesToHex(chain.head.hash())).toBe(head);
    expect(await chain.getBlockByNumber(2n)).toBeUndefined();
    // The head state is untouched: CAROL did not get the withdrawal, ALICE's nonce is still 1.
    const view = await chain.stateAt();
    expect(await view.getBalance(hexToBytes(CAROL.address))).toBe(DEV_BALANCE);
    expect(await view.getNonce(hexToBytes(ALICE.address))).toBe(1n);
    // On the genesis parent (not the head) as well.
    const onGenesis = await chain.buildBlock([transfer(chain, { nonce: 0n })], {
      commit: false,
      parentHash: chain.genesis.hash(),
    });
    expect(onGenesis.block.header.number).toBe(1n);
    await expect(chain.buildBlock([transfer(chain, { nonce: 999n })], { commit: false, strict: true })).rejects.toThrow(
      `nonce too high: address ${ALICE.address}, tx: 999 state: 1`,
    );
    // And the chain still builds normally afterwards.
    const next = await chain.buildBlock([transfer(chain, { nonce: 1n })]);
    expect(next.block.header.number).toBe(2n);
  });

  it("commits a kept execution on import of the same block, and drops it for any other build or import", async () => {
    const registry = createMetricsRegistry();
    const metrics = createChainMetrics(registry);
    const kept = async () => (await registry.getSingleMetric("zgnode_chain_blocks_kept_imported_total")?.get())?.values[0]?.value;
    const open = () => Chain.open({ db: new MemoryStore(), genesis: createDevGenesis(), metrics });
    const a = await open();
    const reference = await Chain.open({ db: new MemoryStore(), genesis: createDevGenesis() });
    const bob = hexToBytes(BOB.address);

    // Kept, then imported: committed without a second execution, same head, state and receipts as a plain import.
    const { block: b1 } = await a.buildBlock([transfer(a, { nonce: 0n, value: 5n })], { commit: false, keep: true });
    expect(a.head.header.number).toBe(0n);
    expect(await (await a.stateAt()).getBalance(bob)).toBe(DEV_BALANCE);
    await a.importBlock(b1);
    expect(await kept()).toBe(1);
    await reference.importBlock(b1);
    expect(bytesToHex(a.head.hash())).toBe(bytesToHex(reference.head.hash()));
    expect(await (await a.stateAt()).getBalance(bob)).toBe(DEV_BALANCE + 5n);
    const txHash = b1.transactions[0].hash();
    expect((await a.getReceipt(txHash))?.status).toBe((await reference.getReceipt(txHash))?.status);

    // Kept A, then another build B: A is dropped; importing A executes it in full from the head's state.
    const { block: a2 } = await a.buildBlock([transfer(a, { nonce: 1n, value: 6n })], { commit: false, keep: true });
    const other = [transfer(a, { nonce: 1n, value: 100n })];
    const b = await a.buildBlock(other, { commit: false, keep: true });
    // B was built on the head's state, not on A's kept one.
    expect(b.rejected).toEqual([]);
    const b0 = await reference.buildBlock(other, { commit: false, timestamp: b.block.header.timestamp });
    expect(bytesToHex(b.block.hash())).toBe(bytesToHex(b0.block.hash()));
    await a.importBlock(a2);
    expect(await kept()).toBe(1);
    await reference.importBlock(a2);
    expect(bytesToHex(a.head.header.stateRoot)).toBe(bytesToHex(reference.head.header.stateRoot));
    expect(await (await a.stateAt()).getBalance(bob)).toBe(DEV_BALANCE + 11n);

    // Kept A, then a different block C of the same height imported: C's state, not A's.
    await a.buildBlock([transfer(a, { nonce: 2n, value: 1000n })], { commit: false, keep: true });
    const { block: c } = await reference.buildBlock([transfer(reference, { nonce: 2n, value: 7n })]);
    await a.importBlock(c);
    expect(await kept()).toBe(1);
    expect(bytesToHex(a.head.header.stateRoot)).toBe(bytesToHex(c.header.stateRoot));
    expect(await (await a.stateAt()).getBalance(bob)).toBe(DEV_BALANCE + 18n);
    // And the chain builds on from there as if nothing had been kept.
    const { block: d } = await a.buildBlock([transfer(a, { nonce: 3n, value: 1n })]);
    await reference.importBlock(d);
    expect(bytesToHex(reference.head.hash())).toBe(bytesToHex(d.hash()));
  });

  it("rejects a block with a wrong state root and keeps the head", async () => {
    const a = await Chain.open({ db: new MemoryStore(), genesis: createDevGenesis() });
    const { block } = await a.buildBlock([transfer(a, { nonce: 0n })]);
    const { createBlock } = await import("@ethereumjs/block");
    const bad = createBlock(
      { header: { ...block.header.toJSON(), stateRoot: new Uint8Array(32).fill(1) }, transactions: block.transactions },
      { common: block.common },
    );
    const b = await Chain.open({ db: new MemoryStore(), genesis: createDevGenesis() });
    await expect(b.importBlock(bad)).rejects.toMatchObject({ code: ChainErrorCode.INVALID_BLOCK });
    expect(b.head.header.number).toBe(0n);
    await b.importBlock(block);
    expect(b.head.header.number).toBe(1n);
  });

  it("runs calls and estimates gas against a block", async () => {
    const chain = await Chain.open({ db: new MemoryStore(), genesis: createDevGenesis() });
    // Contract whose code returns 42: PUSH1 42 PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN
    const runtime = "602a60005260206000f3";
    // initcode: copy runtime into memory and return it
    const init = `69${runtime}600052600a6016f3`;
    const deploy = transfer(chain, { nonce: 0n, to: undefined, value: 0n, gasLimit: 100_000n, data: hexToBytes(`0x${init}`) });
    const { receipts } = await chain.buildBlock([deploy]);
    const addr = receipts[0].contractAddress;
    expect(addr).toBeDefined();
    const res = await chain.call({ to: addr });
    expect(res.success).toBe(true);
    expect(BigInt(bytesToHex(res.returnData))).toBe(42n);
    const gas = await chain.estimateGas({ from: hexToBytes(ALICE.address), to: hexToBytes(CAROL.address), value: 1n });
    expect(gas).toBe(21000n);
    const overridden = await chain.call(
      { to: addr },
      { overrides: { [bytesToHex(addr as Uint8Array)]: { code: hexToBytes("0x600760005260206000f3") } } },
    );
    expect(BigInt(bytesToHex(overridden.returnData))).toBe(7n);
  });
});

describe("Chain fast build path", () => {
  it("builds the same block as runBlock in generate mode (transfers, a deployment, logs, withdrawals)", async () => {
    expect(await fastBuildAvailable()).toBe(true);
    const make = (fastBuild: boolean) =>
      Chain.open({ db: new MemoryStore(), genesis: createDevGenesis(), options: { fastBuild } });
    const [fast, slow] = [await make(true), await make(false)];
    const runtime = "60aa60005260206000a000"; // emits one log
    const blocks = [];
    for (const chain of [fast, slow]) {
      const txs = [
        transfer(chain, {
          nonce: 0n,
          to: undefined,
          value: 0n,
          gasLimit: 100_000n,
          data: hexToBytes(`0x6a${runtime}600052600b6015f3`),
        }),
        ...Array.from({ length: 40 }, (_, i) => transfer(chain, { from: BOB, nonce: BigInt(i), value: BigInt(i) })),
      ];
      const a = await chain.buildBlock(txs, { timestamp: 100n });
      const emitter = bytesToHex(a.receipts[0].contractAddress as Uint8Array);
      const b = await chain.buildBlock(
        [1n, 2n].map((n) => transfer(chain, { nonce: n, to: emitter, value: 0n, gasLimit: 50_000n })),
        { timestamp: 101n, withdrawals: [{ index: 0n, validatorIndex: 0n, address: CAROL.address, amount: 7n }] },
      );
      blocks.push([a.block, b.block]);
    }
    for (let i = 0; i < 2; i++) {
      expect(bytesToHex(blocks[0][i].hash()), `block ${i + 1}`).toBe(bytesToHex(blocks[1][i].hash()));
    }
    expect(blocks[0][1].header.logsBloom.some((x) => x !== 0)).toBe(true);
  });
});

describe("Chain receipts and logs", () => {
  it("numbers logs across the block and answers single receipts consistently", async () => {
    const chain = await Chain.open({ db: new MemoryStore(), genesis: createDevGenesis() });
    // Runtime: MSTORE 0xaa at 0, LOG0 over 32 bytes, STOP.
    const runtime = "60aa60005260206000a000";
    const deploy = transfer(chain, {
      nonce: 0n,
      to: undefined,
      value: 0n,
      gasLimit: 100_000n,
      data: hexToBytes(`0x6a${runtime}600052600b6015f3`),
    });
    const { receipts: r0 } = await chain.buildBlock([deploy]);
    const emitter = bytesToHex(r0[0].contractAddress as Uint8Array);
    const calls = [1n, 2n, 3n].map((n) => transfer(chain, { nonce: n, to: emitter, value: 0n, gasLimit: 50_000n }));
    const { block, receipts } = await chain.buildBlock(calls);
    expect(receipts.map((r) => r.logs.map((l) => l.logIndex))).toEqual([[0], [1], [2]]);
    expect(bytesToHex(receipts[2].logs[0].address)).toBe(emitter);
    expect(BigInt(bytesToHex(receipts[1].logs[0].data))).toBe(0xaan);
    const one = await chain.getReceipt(calls[1].hash());
    expect(one?.logs[0].logIndex).toBe(1);
    expect(one?.cumulativeGasUsed).toBe(receipts[1].cumulativeGasUsed);
    expect(bytesToHex(one?.blockHash as Uint8Array)).toBe(bytesToHex(block.hash()));
    // The block bloom covers the emitter's address.
    expect(block.header.logsBloom.some((b) => b !== 0)).toBe(true);
  });
});

describe("Chain persistence", () => {
  it("continues at the same head and state root after a restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zgnode-chain-"));
    try {
      let db = await LevelDb.open({ path: dir });
      let chain = await Chain.open({ db, genesis: createDevGenesis() });
      for (let b = 0; b < 3; b++) {
        await chain.buildBlock(
          Array.from({ length: 5 }, (_, i) => transfer(chain, { nonce: BigInt(b * 5 + i), to: CAROL.address, value: 3n })),
        );
      }
      const headHash = bytesToHex(chain.head.hash());
      const root = bytesToHex(chain.head.header.stateRoot);
      const txHash = chain.head.transactions[2].hash();
      await chain.close();
      await db.close();

      db = await LevelDb.open({ path: dir });
      chain = await Chain.open({ db, genesis: createDevGenesis() });
      expect(bytesToHex(chain.head.hash())).toBe(headHash);
      expect(bytesToHex(chain.head.header.stateRoot)).toBe(root);
      expect(chain.head.header.number).toBe(3n);
      const view = await chain.stateAt();
      expect(await view.getBalance(hexToBytes(CAROL.address))).toBe(DEV_BALANCE + 15n * 3n);
      expect(await view.getNonce(hexToBytes(ALICE.address))).toBe(15n);
      expect((await chain.getTransaction(txHash))?.block.header.number).toBe(3n);
      // And keeps building on it.
      const { block } = await chain.buildBlock([transfer(chain, { nonce: 15n })]);
      expect(block.header.number).toBe(4n);
      await chain.close();
      await db.close();
      // A different genesis is refused.
      db = await LevelDb.open({ path: dir });
      await expect(Chain.open({ db, genesis: createDevGenesis({ chainId: 9999n }) })).rejects.toMatchObject({
        code: ChainErrorCode.GENESIS_MISMATCH,
      });
      await db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("Chain block-start hook", () => {
  it("runs before the transactions of built and imported blocks, identically", async () => {
    const { Address } = await import("@ethereumjs/util");
    const target = new Address(hexToBytes(CAROL.address));
    const hook = async ({ vm, header }: { vm: import("@ethereumjs/vm").VM; header: { number: bigint } }) => {
      // A system-style state change: credit CAROL with the block number.
      const acct = await vm.stateManager.getAccount(target);
      if (!acct) throw new Error("missing account");
      acct.balance += header.number;
      await vm.stateManager.putAccount(target, acct);
    };
    const a = await Chain.open({ db: new MemoryStore(), genesis: createDevGenesis() });
    a.setBlockStartHook(hook);
    const { block: b1 } = await a.buildBlock([transfer(a, { nonce: 0n })]);
    const { block: b2 } = await a.buildBlock([]);
    expect(await (await a.stateAt()).getBalance(hexToBytes(CAROL.address))).toBe(DEV_BALANCE + 3n);
    // Not committing leaves no trace; the next real block still sees the hook once.
    await a.buildBlock([], { commit: false });
    expect(await (await a.stateAt()).getBalance(hexToBytes(CAROL.address))).toBe(DEV_BALANCE + 3n);

    const b = await Chain.open({ db: new MemoryStore(), genesis: createDevGenesis() });
    await expect(b.importBlock(b1)).rejects.toMatchObject({ code: ChainErrorCode.INVALID_BLOCK }); // no hook: other root
    b.setBlockStartHook(hook);
    await b.importBlock(b1);
    await b.importBlock(b2);
    expect(bytesToHex(b.head.header.stateRoot)).toBe(bytesToHex(b2.header.stateRoot));
  });
});
