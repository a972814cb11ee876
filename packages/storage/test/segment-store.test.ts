import { spawn } from "node:child_process";
import { mkdtemp, open, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createMetricsRegistry } from "@zgnode/utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStorageMetrics, RECORD_HEADER_SIZE, SegmentStore, StorageErrorCode } from "../src/index.ts";
import { CRASH_FILE_ID, segmentContent } from "./fixtures/segment-content.ts";

let root: string;
let n = 0;
const freshDir = () => join(root, `s${n++}`);
const id = (b: number) => new Uint8Array(32).fill(b);
const code = (c: string) => expect.objectContaining({ code: c });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "zg-store-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function activeDataFile(dir: string): Promise<string> {
  const files = (await readdir(join(dir, "data"))).sort();
  return join(dir, "data", files[files.length - 1]);
}

describe("segment store", () => {
  it("stores, reads back, is idempotent, refuses conflicts and bad input", async () => {
    const dir = freshDir();
    const store = await SegmentStore.open({ dir, fsync: "never" });
    await Promise.all([0, 1, 2].map((i) => store.put(id(1), i, segmentContent(i))));
    expect(await store.get(id(1), 1)).toEqual(segmentContent(1));
    expect(await store.get(id(1), 3)).toBeUndefined();
    expect(await store.get(id(2), 0)).toBeUndefined();
    await store.put(id(1), 1, segmentContent(1)); // same bytes: no-op
    await expect(store.put(id(1), 1, segmentContent(2))).rejects.toMatchObject({ code: StorageErrorCode.STORE_CONFLICT });
    // Conflicting duplicates inside one commit group: first wins, second refused.
    const [a, b] = await Promise.allSettled([store.put(id(1), 9, segmentContent(9)), store.put(id(1), 9, segmentContent(8))]);
    expect(a.status).toBe("fulfilled");
    expect(b).toMatchObject({ status: "rejected", reason: code(StorageErrorCode.STORE_CONFLICT) });
    await expect(store.put(id(1), 4, new Uint8Array(100))).rejects.toMatchObject({ code: StorageErrorCode.SEGMENT_SIZE });
    await expect(store.put(id(1), 4, new Uint8Array(262144 + 256))).rejects.toMatchObject({
      code: StorageErrorCode.SEGMENT_SIZE,
    });
    await expect(store.put(new Uint8Array(31), 4, new Uint8Array(256))).rejects.toMatchObject({
      code: StorageErrorCode.INVALID_ARGUMENT,
    });
    await expect(store.put(id(1), -1, new Uint8Array(256))).rejects.toMatchObject({ code: StorageErrorCode.SEGMENT_INDEX });
    expect(await store.segmentIndexes(id(1))).toEqual([0, 1, 2, 9]);
    await store.close();
    await expect(store.get(id(1), 0)).rejects.toMatchObject({ code: StorageErrorCode.STORE_CLOSED });
  });

  it("reads chunk ranges across segments and accounts space", async () => {
    const dir = freshDir();
    const registry = createMetricsRegistry();
    const store = await SegmentStore.open({ dir, fsync: "always", maxDataFileBytes: 600 * 1024 }, createStorageMetrics(registry));
    const full = (i: number) => new Uint8Array(262144).fill(i + 1);
    for (let i = 0; i < 3; i++) await store.put(id(5), i, full(i));
    await store.put(id(5), 3, new Uint8Array(512).fill(4)); // short last segment
    await store.put(id(6), 0, segmentContent(3));
    const range = await store.readChunks(id(5), 1000, 2050);
    expect(range.length).toBe(1050 * 256);
    expect(range[0]).toBe(1);
    expect(range[24 * 256]).toBe(2);
    expect(range[1048 * 256]).toBe(3);
    expect(await store.readChunks(id(5), 3072, 3074)).toEqual(new Uint8Array(512).fill(4));
    await expect(store.readChunks(id(5), 3072, 3075)).rejects.toMatchObject({ code: StorageErrorCode.STORE_RANGE });
    await expect(store.readChunks(id(5), 4096, 4097)).rejects.toMatchObject({ code: StorageErrorCode.STORE_NOT_FOUND });
    await expect(store.readChunks(id(5), 5, 5)).rejects.toMatchObject({ code: StorageErrorCode.STORE_RANGE });
    expect(await store.fileUsage(id(5))).toEqual({ segments: 4, bytes: 3 * 262144 + 512 });
    const stats = store.stats();
    expect(stats.liveSegments).toBe(5);
    expect(stats.liveBytes).toBe(3 * 262144 + 512 + segmentContent(3).length);
    expect(stats.dataFiles).toBeGreaterThan(1); // rotated at 600 KiB
    expect(stats.garbageBytes).toBe(0);
    expect(await store.deleteFile(id(5))).toBe(4);
    expect(await store.get(id(5), 0)).toBeUndefined();
    expect(store.stats().liveSegments).toBe(1);
    expect(store.stats().garbageBytes).toBe(3 * 262144 + 512 + 4 * RECORD_HEADER_SIZE);
    expect(await registry.getSingleMetricAsString("zgnode_storage_segments_written_total")).toContain(" 5");
    await store.close();
    // Counters and data survive a reopen, across data files.
    const again = await SegmentStore.open({ dir, fsync: "always", maxDataFileBytes: 600 * 1024 });
    expect(again.stats()).toMatchObject({
      liveSegments: 1,
      garbageBytes: stats.liveBytes - segmentContent(3).length + 4 * RECORD_HEADER_SIZE,
    });
    expect(await again.get(id(6), 0)).toEqual(segmentContent(3));
    expect(again.recovery.recoveredRecords).toBe(0);
    await again.close();
  });

  it("refuses bytes damaged on disk instead of serving them", async () => {
    const dir = freshDir();
    const store = await SegmentStore.open({ dir, fsync: "always" });
    await store.put(id(3), 0, segmentContent(0));
    await store.put(id(3), 1, segmentContent(1));
    const f = await open(await activeDataFile(dir), "r+");
    await f.write(new Uint8Array([0xee]), 0, 1, RECORD_HEADER_SIZE + 10); // inside segment 0's payload
    await f.close();
    await expect(store.get(id(3), 0)).rejects.toMatchObject({ code: StorageErrorCode.STORE_CORRUPT });
    expect(await store.get(id(3), 1)).toEqual(segmentContent(1));
    await store.close();
  });

  it("cuts a torn tail on open and keeps everything before it", async () => {
    const dir = freshDir();
    const store = await SegmentStore.open({ dir, fsync: "always" });
    for (let i = 0; i < 3; i++) await store.put(id(4), i, segmentContent(i));
    await store.close();
    // Simulate a crash mid-append: the first 100 bytes of a record reached the file, the rest did not.
    const path = await activeDataFile(dir);
    const f = await open(path, "r+");
    const size = (await f.stat()).size;
    const rec = new Uint8Array(RECORD_HEADER_SIZE + 512);
    const torn = rec.subarray(0, 100);
    torn.set([0x5a, 0x47, 0x53, 0x31]);
    await f.write(torn, 0, torn.length, size);
    await f.close();
    const reopened = await SegmentStore.open({ dir, fsync: "always" });
    expect(reopened.recovery.truncatedBytes).toBe(100);
    for (let i = 0; i < 3; i++) expect(await reopened.get(id(4), i)).toEqual(segmentContent(i));
    await reopened.put(id(4), 3, segmentContent(3));
    await reopened.close();
    const third = await SegmentStore.open({ dir, fsync: "always" });
    expect(third.recovery.truncatedBytes).toBe(0);
    expect(await third.get(id(4), 3)).toEqual(segmentContent(3));
    await third.close();
  });

  it("drops index entries whose bytes were lost (power loss under fsync=interval) instead of serving them", async () => {
    const dir = freshDir();
    const store = await SegmentStore.open({ dir, fsync: "interval" });
    for (let i = 0; i < 4; i++) await store.put(id(8), i, segmentContent(i));
    await store.close();
    // The device lost the last two records: cut the data file back to the end of record 1.
    const keep = 2 * RECORD_HEADER_SIZE + segmentContent(0).length + segmentContent(1).length;
    const f = await open(await activeDataFile(dir), "r+");
    await f.truncate(keep + 10); // plus a few bytes of a torn third record
    await f.close();
    const again = await SegmentStore.open({ dir, fsync: "interval" });
    expect(again.recovery.droppedEntries).toBe(2);
    expect(again.recovery.truncatedBytes).toBe(10);
    expect(await again.segmentIndexes(id(8))).toEqual([0, 1]);
    expect(await again.get(id(8), 2)).toBeUndefined();
    expect(await again.get(id(8), 1)).toEqual(segmentContent(1));
    expect(again.stats()).toMatchObject({
      liveSegments: 2,
      liveBytes: segmentContent(0).length + segmentContent(1).length,
      garbageBytes: 0,
    });
    await again.put(id(8), 2, segmentContent(2));
    expect(await again.get(id(8), 2)).toEqual(segmentContent(2));
    await again.close();
  });

  // "free": killed at whatever point the writer is at; "torn": killed with half a commit group in the data file;
  // "unindexed": killed after an append reached the file but before its index write.
  for (const [policy, mode] of [
    ["always", "free"],
    ["interval", "free"],
    ["always", "torn"],
    ["interval", "unindexed"],
  ] as const) {
    it(`survives SIGKILL of a writing process (fsync=${policy}, ${mode})`, { timeout: 60_000 }, async () => {
      const dir = freshDir();
      const committed = await runWriterAndKill(dir, policy, mode, 15);
      const store = await SegmentStore.open({ dir, fsync: "always" });
      const stored = await store.segmentIndexes(CRASH_FILE_ID);
      if (mode === "torn") expect(store.recovery.truncatedBytes).toBeGreaterThan(0);
      if (mode === "unindexed") expect(store.recovery.recoveredRecords).toBeGreaterThan(0);
      // Nothing committed is lost...
      for (const i of committed) expect(stored).toContain(i);
      // ...and nothing torn is served: every segment the store has reads back exactly as written.
      for (const i of stored) expect(await store.get(CRASH_FILE_ID, i)).toEqual(segmentContent(i));
      await store.close();
      // The store keeps working after recovery, and survives a second crash.
      const more = await runWriterAndKill(dir, policy, mode, 5);
      const again = await SegmentStore.open({ dir, fsync: "always" });
      const stored2 = await again.segmentIndexes(CRASH_FILE_ID);
      for (const i of [...committed, ...more]) expect(stored2).toContain(i);
      for (const i of stored2) expect(await again.get(CRASH_FILE_ID, i)).toEqual(segmentContent(i));
      await again.close();
    });
  }
});

/**
 * Spawns the writer and SIGKILLs it: in "free" mode once `commits` segments are committed, otherwise when it
 * parks inside an append (after `commits` commits). Returns the commits it reported.
 */
function runWriterAndKill(dir: string, policy: string, mode: string, commits: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const script = join(import.meta.dirname, "fixtures", "store-writer.ts");
    const child = spawn(process.execPath, [script, dir, policy, mode, String(commits)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const seen: number[] = [];
    let buffered = "";
    let stderr = "";
    let killed = false;
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.stdout.on("data", (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        if (line.startsWith("c ")) seen.push(Number(line.slice(2)));
        if (line === "parked" && !killed) {
          killed = true;
          child.kill("SIGKILL");
        }
      }
      if (!killed && mode === "free" && seen.length >= commits) {
        killed = true;
        child.kill("SIGKILL");
      }
    });
    child.on("exit", (_code, signal) => {
      if (signal === "SIGKILL") resolve(seen);
      else reject(new Error(`writer exited without being killed: ${stderr}`));
    });
  });
}
