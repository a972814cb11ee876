import { readdirSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BYTES_PER_BLOB,
  DaErrorCode,
  defaultDaOptions,
  encodePayload,
  KzgWorkerPool,
  loadKzg,
  payloadHeader,
  recoverPayload,
  USABLE_BYTES_PER_BLOB,
} from "../src/index.ts";
import { seededBytes } from "./helpers.ts";

let pool: KzgWorkerPool;

beforeAll(async () => {
  pool = await KzgWorkerPool.create({ size: 2 });
  loadKzg(0); // this thread only checks results; the workers carry the precomputed tables
}, 60_000);

afterAll(async () => {
  await pool?.close();
});

describe("KzgWorkerPool", () => {
  it("encodes a payload exactly as the single-thread path does", async () => {
    const payload = seededBytes(USABLE_BYTES_PER_BLOB + 10, 21);
    const viaPool = await pool.encodePayload(payload);
    const direct = encodePayload(payload);
    expect(viaPool.root).toEqual(direct.root);
    expect(viaPool.blobs.length).toBe(2);
    for (let b = 0; b < 2; b++) {
      expect(Buffer.from(viaPool.commitments[b])).toEqual(Buffer.from(direct.commitments[b]));
      expect(Buffer.concat(viaPool.blobs[b].cells)).toEqual(Buffer.concat(direct.blobs[b].cells));
      expect(Buffer.concat(viaPool.blobs[b].proofs)).toEqual(Buffer.concat(direct.blobs[b].proofs));
    }
    const odd = viaPool.blobs.flatMap((blob, b) =>
      blob.cells.flatMap((cell, index) => (index % 2 ? [{ blob: b, index, cell, proof: blob.proofs[index] }] : [])),
    );
    expect(recoverPayload(payloadHeader(viaPool), odd)).toEqual(payload);
  });

  it("recovers cells and proofs in a worker", async () => {
    const encoded = await pool.encodePayload(seededBytes(1000, 22));
    const blob = encoded.blobs[0];
    const indices = Array.from({ length: 64 }, (_, i) => 127 - i);
    const out = await pool.recoverCells(
      indices,
      indices.map((i) => blob.cells[i]),
    );
    expect(Buffer.concat(out.cells)).toEqual(Buffer.concat(blob.cells));
    expect(Buffer.concat(out.proofs)).toEqual(Buffer.concat(blob.proofs));
    await expect(
      pool.recoverCells(
        indices.slice(1),
        indices.slice(1).map((i) => blob.cells[i]),
      ),
    ).rejects.toMatchObject({
      code: DaErrorCode.NOT_ENOUGH_CELLS,
    });
  });

  it("reports a blob the library rejects as a coded error and keeps serving", async () => {
    const bad = new Uint8Array(BYTES_PER_BLOB).fill(0xff); // elements above the field modulus
    await expect(pool.encodeBlob(bad)).rejects.toMatchObject({ code: DaErrorCode.KZG_FAILURE });
    const ok = await pool.encodeBlob(new Uint8Array(BYTES_PER_BLOB));
    expect(ok.cells.length).toBe(128);
  });

  it("verifies cells across workers and names the bad ones", async () => {
    const encoded = await pool.encodePayload(seededBytes(USABLE_BYTES_PER_BLOB + 1, 23));
    const cells = encoded.blobs.flatMap((b, blob) =>
      b.cells.map((cell, index) => ({ blob, index, cell: new Uint8Array(cell), proof: b.proofs[index] })),
    );
    expect(await pool.verifyCells(encoded.commitments, cells)).toEqual({ ok: true });
    cells[5].cell[9] ^= 4; // blob 0, index 5
    cells[128 + 120].proof = cells[128 + 121].proof; // blob 1, index 120
    const verdict = await pool.verifyCells(encoded.commitments, cells);
    expect(verdict).toEqual({
      ok: false,
      bad: [
        { blob: 0, index: 5 },
        { blob: 1, index: 120 },
      ],
    });
    await expect(pool.recoverPayload(payloadHeader(encoded), cells)).rejects.toMatchObject({
      code: DaErrorCode.INVALID_CELL_PROOF,
      data: expect.objectContaining({ blob: 0, index: 5 }),
    });
  });

  it("recovers a payload with the KZG work in the pool", async () => {
    const payload = seededBytes(USABLE_BYTES_PER_BLOB + 2, 24);
    const encoded = await pool.encodePayload(payload);
    // blob 0: odd cells (needs recovery); blob 1: the systematic half (copied)
    const given = encoded.blobs.flatMap((b, blob) =>
      b.cells.flatMap((cell, index) =>
        (blob === 0 ? index % 2 === 1 : index < 64) ? [{ blob, index, cell, proof: b.proofs[index] }] : [],
      ),
    );
    expect(await pool.recoverPayload(payloadHeader(encoded), given)).toEqual(payload);
    await expect(pool.recoverPayload(payloadHeader(encoded), given.slice(1))).rejects.toMatchObject({
      code: DaErrorCode.NOT_ENOUGH_CELLS,
      data: { blob: 0, have: 63 },
    });
  });

  it.runIf(process.platform === "linux")("runs its workers below the main thread's priority", () => {
    const niceOf = (task: string) => {
      const stat = readFileSync(`/proc/self/task/${task}/stat`, "utf8");
      return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
    };
    const nices = readdirSync("/proc/self/task").map(niceOf);
    expect(niceOf(String(process.pid))).toBe(0);
    expect(nices.filter((n) => n === defaultDaOptions.workerNice).length).toBeGreaterThanOrEqual(pool.size);
  });

  it("fails the task of a worker that dies, replaces the worker, and fails work after close", async () => {
    const small = await KzgWorkerPool.create({ size: 1, precompute: 0 });
    const inner = small as unknown as { slots: Array<{ worker: { terminate(): Promise<number> } }> };
    const running = small.encodeBlob(new Uint8Array(BYTES_PER_BLOB));
    await inner.slots[0].worker.terminate();
    await expect(running).rejects.toMatchObject({ code: DaErrorCode.WORKER_FAILED });
    const after = await small.encodeBlob(new Uint8Array(BYTES_PER_BLOB)); // queued until the replacement is ready
    expect(after.cells.length).toBe(128);
    expect(small.stats.restarts).toBe(1);
    await small.close();
    await expect(small.encodeBlob(new Uint8Array(BYTES_PER_BLOB))).rejects.toMatchObject({ code: DaErrorCode.POOL_CLOSED });
  });
});
