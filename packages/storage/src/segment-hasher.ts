import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { getKeccakBatch, type KeccakBatch } from "@zgnode/crypto";
import { CHUNK_SIZE, CHUNKS_PER_SEGMENT, SEGMENT_SIZE } from "./constants.ts";
import { StorageError, StorageErrorCode } from "./errors.ts";
import type { SegmentHashRequest, SegmentHashResponse } from "./segment-hash-worker.ts";

/** Turns runs of whole chunks into segment roots (1024 chunks per segment, the last run may be shorter). */
export interface SegmentHasher {
  /** True when `hashSegments` wants buffers backed by a SharedArrayBuffer (it hashes off-thread). */
  readonly shared: boolean;
  hashSegments(data: Uint8Array): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** Hashes on the calling thread. */
export class InlineSegmentHasher implements SegmentHasher {
  readonly shared = false;
  readonly keccak: KeccakBatch;

  constructor(keccak: KeccakBatch = getKeccakBatch()) {
    this.keccak = keccak;
  }

  async hashSegments(data: Uint8Array): Promise<Uint8Array> {
    return this.keccak.segmentRoots(data, CHUNK_SIZE, CHUNKS_PER_SEGMENT);
  }

  async close(): Promise<void> {}
}

/**
 * Spreads segments over worker threads. Data must live in a SharedArrayBuffer so workers read it in place;
 * each worker gets a contiguous run of segments and returns its roots.
 */
export class WorkerSegmentHasher implements SegmentHasher {
  readonly shared = true;
  private readonly workers: Worker[];
  private readonly pending = new Map<number, { resolve: (r: Uint8Array) => void; reject: (e: Error) => void }>();
  private nextId = 0;

  constructor(count: number = Math.max(1, availableParallelism())) {
    this.workers = [];
    for (let i = 0; i < count; i++) {
      const w = new Worker(new URL("./segment-hash-worker.ts", import.meta.url));
      w.on("message", (res: SegmentHashResponse) => {
        const p = this.pending.get(res.id);
        if (!p) return;
        this.pending.delete(res.id);
        if (this.pending.size === 0) this.setRef(false);
        if ("error" in res) p.reject(new StorageError(StorageErrorCode.INVALID_ARGUMENT, res.error));
        else p.resolve(res.roots);
      });
      w.on("error", (err) => {
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
        this.setRef(false);
      });
      w.unref();
      this.workers.push(w);
    }
  }

  /** Idle workers must not keep the process alive; busy ones must (their replies are awaited). */
  private setRef(busy: boolean): void {
    for (const w of this.workers) busy ? w.ref() : w.unref();
  }

  get size(): number {
    return this.workers.length;
  }

  async hashSegments(data: Uint8Array): Promise<Uint8Array> {
    if (!(data.buffer instanceof SharedArrayBuffer)) {
      throw new StorageError(StorageErrorCode.INVALID_ARGUMENT, "worker hashing needs SharedArrayBuffer-backed data");
    }
    const segments = Math.ceil(data.length / SEGMENT_SIZE);
    const per = Math.ceil(segments / this.workers.length);
    const parts: Promise<Uint8Array>[] = [];
    for (let w = 0; w * per < segments; w++) {
      const start = w * per * SEGMENT_SIZE;
      const end = Math.min(data.length, (w + 1) * per * SEGMENT_SIZE);
      const id = this.nextId++;
      parts.push(
        new Promise((resolve, reject) => {
          if (this.pending.size === 0) this.setRef(true);
          this.pending.set(id, { resolve, reject });
          const req: SegmentHashRequest = {
            id,
            buffer: data.buffer as SharedArrayBuffer,
            offset: data.byteOffset + start,
            length: end - start,
          };
          this.workers[w].postMessage(req);
        }),
      );
    }
    const results = await Promise.all(parts);
    const out = new Uint8Array(segments * 32);
    let o = 0;
    for (const r of results) {
      out.set(r, o);
      o += r.length;
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
