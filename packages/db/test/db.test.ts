import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Bucket, jsonCodec, LevelDb, MemoryStore, prefixEnd } from "../src/index.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("db", () => {
  it("persists batches in LevelDB across reopen and refuses a second opener", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zgdb-"));
    dirs.push(dir);
    const db = await LevelDb.open({ path: dir });
    const b = new Bucket<number, { n: number }>(db, new Uint8Array([1]), (k) => new Uint8Array([k]), jsonCodec());
    await db.batch([b.putOp(1, { n: 1 }), b.putOp(2, { n: 2 })]);
    await expect(LevelDb.open({ path: dir })).rejects.toMatchObject({ code: "DB_LOCKED" });
    await db.close();
    const db2 = await LevelDb.open({ path: dir });
    const b2 = new Bucket<number, { n: number }>(db2, new Uint8Array([1]), (k) => new Uint8Array([k]), jsonCodec());
    expect(await b2.get(2)).toEqual({ n: 2 });
    const all = [];
    for await (const [, v] of b2.values()) all.push(v.n);
    expect(all).toEqual([1, 2]);
    await db2.close();
  });

  it("memory store iterates ranges in order", async () => {
    const m = new MemoryStore();
    await m.put(new Uint8Array([2]), new Uint8Array([2]));
    await m.put(new Uint8Array([1, 5]), new Uint8Array([1]));
    const keys = [];
    for await (const [k] of m.entries({ gte: new Uint8Array([1]), lt: prefixEnd(new Uint8Array([1])) })) keys.push([...k]);
    expect(keys).toEqual([[1, 5]]);
  });
});
