import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nobleKeccakBatch } from "@zgnode/crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileTreeOfBytes, fileTreeOfPath, StorageErrorCode, WorkerSegmentHasher } from "../src/index.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "zg-filetree-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function data(size: number): Uint8Array {
  const d = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(d.subarray(i, Math.min(size, i + 65536)));
  return d;
}

describe("file tree computation paths agree", () => {
  it("inline, worker-thread, noble and streamed-from-disk give the same tree", async () => {
    const d = data(9 * 1024 * 1024 + 12345);
    const path = join(dir, "f.bin");
    await writeFile(path, d);
    const inline = await fileTreeOfBytes(d, { workers: 0 });
    const pool = new WorkerSegmentHasher(2);
    try {
      const viaWorkers = await fileTreeOfBytes(d, { hasher: pool, blockSegments: 5 });
      expect(viaWorkers.rootHex).toBe(inline.rootHex);
      const progress: number[] = [];
      const fromDisk = await fileTreeOfPath(path, { hasher: pool, blockSegments: 7, onProgress: (done) => progress.push(done) });
      expect(fromDisk.rootHex).toBe(inline.rootHex);
      expect(fromDisk.nodes).toEqual(inline.nodes);
      expect(progress.at(-1)).toBe(d.length);
      expect(progress.length).toBe(Math.ceil(37 / 7));
    } finally {
      await pool.close();
    }
    const noble = await fileTreeOfBytes(d.subarray(0, 600_000), { workers: 0, keccak: nobleKeccakBatch() });
    expect(noble.rootHex).toBe((await fileTreeOfBytes(d.subarray(0, 600_000), { workers: 0 })).rootHex);
  });

  it("refuses empty and missing files with coded errors", async () => {
    await expect(fileTreeOfBytes(new Uint8Array(0))).rejects.toMatchObject({ code: StorageErrorCode.EMPTY_FILE });
    await expect(fileTreeOfPath(join(dir, "missing"))).rejects.toMatchObject({ code: StorageErrorCode.FILE_READ });
    await expect(fileTreeOfPath(dir)).rejects.toMatchObject({ code: StorageErrorCode.FILE_READ });
  });
});
