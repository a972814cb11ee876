import { MemoryStore } from "@zgnode/db";
import { bytesToHex, hexToBytes } from "@zgnode/utils";
import { describe, expect, it } from "vitest";
import { Chain } from "../src/chain.ts";
import { createDevGenesis } from "../src/genesis.ts";
import { OverlayNodeDb, StateNodeDb } from "../src/stateDb.ts";
import { CAROL } from "./helpers.ts";

describe("state node stores", () => {
  it("StateNodeDb buffers writes until taken, keeps them readable while in flight, restores them on failure", async () => {
    const store = new MemoryStore();
    const db = new StateNodeDb(store);
    await db.put("aa", hexToBytes("0x01"));
    expect(await store.get(hexToBytes("0x73aa"))).toBeUndefined();
    const ops = db.takeWrites();
    expect(ops.length).toBe(1);
    expect(await db.get("aa")).toEqual(hexToBytes("0x01"));
    db.writesDone(false);
    expect(db.pendingCount).toBe(1);
    await store.batch(db.takeWrites());
    db.writesDone(true);
    expect(await store.get(hexToBytes("0x73aa"))).toEqual(hexToBytes("0x01"));
    expect(await db.get("aa")).toEqual(hexToBytes("0x01"));
  });

  it("StateNodeDb serves repeated reads from its node cache and keeps it within its byte bound", async () => {
    const store = new MemoryStore();
    let reads = 0;
    const counting = Object.assign(Object.create(store), {
      get: (k: Uint8Array) => {
        reads++;
        return store.get(k);
      },
    }) as MemoryStore;
    for (let i = 0; i < 8; i++)
      await store.put(hexToBytes(`0x73${i.toString(16).padStart(2, "0")}`), new Uint8Array(100).fill(i));
    const db = new StateNodeDb(counting, 450); // room for four 102-byte entries
    expect(await db.get("00")).toEqual(new Uint8Array(100).fill(0));
    expect(await db.get("00")).toEqual(new Uint8Array(100).fill(0));
    expect(reads).toBe(1);
    for (let i = 1; i < 8; i++) await db.get(i.toString(16).padStart(2, "0"));
    expect(db.cacheStats.bytes).toBeLessThanOrEqual(450);
    expect(db.cacheStats.entries).toBe(4);
    reads = 0;
    await db.get("00"); // evicted: read again
    expect(reads).toBe(1);
    // Written nodes enter the cache once their batch landed.
    await db.put("ff", hexToBytes("0x09"));
    await store.batch(db.takeWrites());
    db.writesDone(true);
    reads = 0;
    expect(await db.get("ff")).toEqual(hexToBytes("0x09"));
    expect(reads).toBe(0);
    // The empty trie root is never stored: its lookup is answered without a read.
    expect(await db.get("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421")).toBeUndefined();
    expect(reads).toBe(0);
  });

  it("views write into a private overlay: flushing a view never reaches the chain's store", async () => {
    const base = new StateNodeDb(new MemoryStore());
    const overlay = new OverlayNodeDb(base);
    await overlay.put("bb", hexToBytes("0x02"));
    expect(await overlay.get("bb")).toEqual(hexToBytes("0x02"));
    expect(await base.get("bb")).toBeUndefined();
    expect(base.pendingCount).toBe(0);

    const chain = await Chain.open({ db: new MemoryStore(), genesis: createDevGenesis() });
    const view = await chain.stateAt();
    const sm = view.stateManager;
    const { Address } = await import("@ethereumjs/util");
    const addr = new Address(hexToBytes(CAROL.address));
    const acct = await sm.getAccount(addr);
    acct!.balance = 1n;
    await sm.putAccount(addr, acct!);
    const scratchRoot = await sm.getStateRoot();
    expect(bytesToHex(scratchRoot)).not.toBe(bytesToHex(chain.head.header.stateRoot));
    // A fresh view of the head still sees the real balance.
    const { block } = await chain.buildBlock([]);
    const fresh = await chain.stateAt(block);
    expect(await fresh.getBalance(hexToBytes(CAROL.address))).toBeGreaterThan(1n);
  });
});
