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
