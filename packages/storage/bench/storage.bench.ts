/**
 * `pnpm bench:storage`: storage-core throughput, with the 0G SDK measured in the same run as the yardstick.
 *
 *   1. File root of the same 64 MiB random input: @0glabs/0g-ts-sdk (JS keccak) vs ours (native keccak on one
 *      thread, on worker threads, streamed from disk, and the @noble/hashes fallback on a smaller input).
 *   2. Reed-Solomon encode / reconstruct per codec for (k, m) = (4, 2), (10, 4), (16, 8); every shard is one
 *      256 KiB segment, throughput counts data bytes (k x 256 KiB per stripe), one thread.
 *   3. Segment store: write and read MB/s of 256 KiB segments (fsync=always and fsync=interval).
 *
 * Set ZG_BENCH_QUICK=1 for a short smoke run (smaller inputs), ZG_BENCH_DIR to place the store elsewhere.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { MemData } from "@0glabs/0g-ts-sdk";
import { nativeKeccakBatch, nobleKeccakBatch } from "@zgnode/crypto";
import {
  type ErasureCodec,
  ErasureCoder,
  fileTreeOfBytes,
  fileTreeOfPath,
  jsErasureCodec,
  nativeErasureCodec,
  ronomonErasureCodec,
  SEGMENT_SIZE,
  SegmentStore,
  WorkerSegmentHasher,
  wasmErasureCodec,
} from "../src/index.ts";

const QUICK = process.env.ZG_BENCH_QUICK === "1";
const MiB = 1024 * 1024;
const FILE_BYTES = (QUICK ? 8 : 64) * MiB;
const results: Record<string, unknown> = {};

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}

const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);
const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1)).padStart(8);

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

/** Best time of `reps` runs of fn (after one warm-up when warm is set). */
async function best(fn: () => Promise<unknown>, reps: number, warm = true): Promise<number> {
  if (warm) await fn();
  let b = Number.POSITIVE_INFINITY;
  for (let i = 0; i < reps; i++) b = Math.min(b, (await timed(fn)).ms);
  return b;
}

async function fileRoots(): Promise<void> {
  console.log(`\n## File root, ${FILE_BYTES / MiB} MiB random input (cpu: ${cpus()[0]?.model}, ${availableParallelism()} cores)`);
  const data = randomBytes(FILE_BYTES);
  const sdk = await timed(async () => {
    const [tree, err] = await new MemData(data).merkleTree();
    if (err) throw err;
    return tree!.rootHash();
  });
  const sdkMbps = mbps(FILE_BYTES, sdk.ms);
  const inline = await timed(() => fileTreeOfBytes(data, { workers: 0 }));
  if (inline.value.rootHex !== sdk.value) throw new Error("root mismatch against the SDK");
  const pool = new WorkerSegmentHasher(availableParallelism());
  let workerMs: number;
  let diskMs: number;
  const dir = await mkdtemp(join(process.env.ZG_BENCH_DIR ?? tmpdir(), "zg-bench-root-"));
  try {
    await fileTreeOfBytes(data.subarray(0, 4 * MiB), { hasher: pool }); // start the workers
    workerMs = await best(
      async () => {
        const t = await fileTreeOfBytes(data, { hasher: pool });
        if (t.rootHex !== sdk.value) throw new Error("worker root mismatch");
      },
      3,
      false,
    );
    const path = join(dir, "input.bin");
    await writeFile(path, data);
    diskMs = await best(
      async () => {
        const t = await fileTreeOfPath(path, { hasher: pool });
        if (t.rootHex !== sdk.value) throw new Error("disk root mismatch");
      },
      3,
      false,
    );
  } finally {
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  }
  const inlineMs = Math.min(inline.ms, await best(() => fileTreeOfBytes(data, { workers: 0 }), 2, false));
  // Narrower keccak paths, for machines without AVX-512 (4 lanes) or without AVX2 (scalar).
  const native = nativeKeccakBatch();
  const widest = native?.simdWidth() ?? 1;
  const narrower: [string, number][] = [];
  for (const w of [4, 1] as const) {
    if (!native || w >= widest || native.simdWidth(w) !== w) continue;
    narrower.push([
      `zgnode native keccak, 1 thread, ${w === 4 ? "AVX2 4 lanes" : "scalar"}`,
      mbps(FILE_BYTES, await best(() => fileTreeOfBytes(data, { workers: 0 }), 1, false)),
    ]);
  }
  native?.simdWidth();
  const nobleBytes = Math.min(FILE_BYTES, 8 * MiB);
  const nobleMs = (await timed(() => fileTreeOfBytes(data.subarray(0, nobleBytes), { workers: 0, keccak: nobleKeccakBatch() })))
    .ms;
  const rows: [string, number][] = [
    ["@0glabs/0g-ts-sdk MemData.merkleTree", sdkMbps],
    [`zgnode native keccak, 1 thread, ${widest} lanes`, mbps(FILE_BYTES, inlineMs)],
    ...narrower,
    [`zgnode native keccak, ${availableParallelism()} worker threads`, mbps(FILE_BYTES, workerMs)],
    [`zgnode streamed from disk, ${availableParallelism()} workers`, mbps(FILE_BYTES, diskMs)],
    [`zgnode @noble/hashes fallback (${nobleBytes / MiB} MiB)`, mbps(nobleBytes, nobleMs)],
  ];
  console.log(`${"path".padEnd(52)}    MB/s   x SDK`);
  for (const [name, v] of rows) console.log(`${name.padEnd(52)}${fmt(v)} ${(v / sdkMbps).toFixed(1).padStart(7)}`);
  results.fileRoot = Object.fromEntries(rows.map(([k, v]) => [k, { mbps: +v.toFixed(1), xSdk: +(v / sdkMbps).toFixed(1) }]));
}

async function erasure(): Promise<void> {
  console.log("\n## Reed-Solomon, shards = 256 KiB segments, one thread, MB/s of data (k x 256 KiB per stripe)");
  const native = nativeErasureCodec();
  const codecs: { label: string; codec: ErasureCodec; kernel?: "gfni" | "avx2" | "scalar"; reps: number }[] = [];
  if (native) {
    const bestKernel = native.backend();
    for (const kernel of ["gfni", "avx2", "scalar"] as const) {
      if (native.backend(kernel) === kernel)
        codecs.push({ label: `zg-native/${kernel}`, codec: native, kernel, reps: kernel === "scalar" ? 2 : 20 });
    }
    native.backend(bestKernel as "gfni");
  }
  const wasm = wasmErasureCodec();
  if (wasm) codecs.push({ label: "wasm (encode; TS decode)", codec: wasm, reps: 3 });
  const ronomon = ronomonErasureCodec();
  if (ronomon) codecs.push({ label: "@ronomon/reed-solomon", codec: ronomon, reps: 20 });
  codecs.push({ label: "js (TypeScript)", codec: jsErasureCodec(), reps: 1 });
  const shapes: [number, number][] = [
    [4, 2],
    [10, 4],
    [16, 8],
  ];
  console.log(`${"codec".padEnd(28)}${shapes.map(([k, m]) => `  enc(${k},${m})  rec(${k},${m})`).join("")}`);
  const table: Record<string, Record<string, { encode: number; reconstruct: number } | null>> = {};
  for (const { label, codec, kernel, reps } of codecs) {
    if (kernel) native?.backend(kernel);
    const cells: string[] = [];
    table[label] = {};
    for (const [k, m] of shapes) {
      if (!codec.supports(k, m, SEGMENT_SIZE)) {
        cells.push(`${"n/a".padStart(10)}${"n/a".padStart(10)}`);
        table[label][`${k},${m}`] = null;
        continue;
      }
      const coder = new ErasureCoder(k, m, SEGMENT_SIZE, codec);
      const stripe = new Uint8Array((k + m) * SEGMENT_SIZE);
      stripe.set(randomBytes(k * SEGMENT_SIZE));
      const encMs = await best(() => codec.encode(stripe, k, m, SEGMENT_SIZE), reps, reps > 1);
      // Worst case: the first m data shards are lost.
      const present = Array.from({ length: k + m }, (_, i) => i >= m);
      const work = stripe.slice();
      const recMs = await best(() => codec.reconstruct(work, k, m, SEGMENT_SIZE, present), reps, reps > 1);
      if (Buffer.compare(work, stripe) !== 0) throw new Error(`${label} (${k},${m}) reconstruct mismatch`);
      void coder;
      const bytes = k * SEGMENT_SIZE;
      cells.push(`${fmt(mbps(bytes, encMs))}  ${fmt(mbps(bytes, recMs))}`);
      table[label][`${k},${m}`] = { encode: +mbps(bytes, encMs).toFixed(0), reconstruct: +mbps(bytes, recMs).toFixed(0) };
    }
    console.log(`${label.padEnd(28)}${cells.join("")}`);
  }
  if (native) native.backend();
  results.erasure = table;
}

async function store(): Promise<void> {
  const segments = QUICK ? 128 : 1024;
  console.log(`\n## Segment store, ${segments} x 256 KiB segments (${(segments * SEGMENT_SIZE) / MiB} MiB), 32 writes in flight`);
  console.log("(fsync=always is bounded by the device's durable write bandwidth; compare dd conv=fdatasync on the same disk)");
  const payloads = Array.from({ length: 64 }, () => randomBytes(SEGMENT_SIZE));
  const rows: Record<string, { write: number; read: number }> = {};
  for (const fsync of ["always", "interval"] as const) {
    const dir = await mkdtemp(join(process.env.ZG_BENCH_DIR ?? tmpdir(), "zg-bench-store-"));
    try {
      const s = await SegmentStore.open({ dir, fsync });
      const fileId = new Uint8Array(32).fill(1);
      const write = await timed(async () => {
        let next = 0;
        const lane = async () => {
          for (let i = next++; i < segments; i = next++) await s.put(fileId, i, payloads[i % payloads.length]);
        };
        await Promise.all(Array.from({ length: 32 }, lane));
        await s.syncNow();
      });
      const order = Array.from({ length: segments }, (_, i) => (i * 7919) % segments);
      const read = await timed(async () => {
        let next = 0;
        const lane = async () => {
          for (let j = next++; j < segments; j = next++) {
            const got = await s.get(fileId, order[j]);
            if (got?.length !== SEGMENT_SIZE) throw new Error("read back failed");
          }
        };
        await Promise.all(Array.from({ length: 8 }, lane));
      });
      await s.close();
      const bytes = segments * SEGMENT_SIZE;
      rows[fsync] = { write: +mbps(bytes, write.ms).toFixed(0), read: +mbps(bytes, read.ms).toFixed(0) };
      console.log(
        `fsync=${fsync.padEnd(9)} write ${fmt(mbps(bytes, write.ms))} MB/s   read (random order) ${fmt(mbps(bytes, read.ms))} MB/s`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  results.segmentStore = rows;
}

console.log(`zgnode storage benchmark${QUICK ? " (quick)" : ""}, node ${process.version}`);
await fileRoots();
await erasure();
await store();
console.log(`\nJSON ${JSON.stringify(results)}`);
