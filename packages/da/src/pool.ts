import { setImmediate as yieldToLoop } from "node:timers/promises";
import { Worker } from "node:worker_threads";
import { withDefaults } from "@zgnode/utils";
import { BYTES_PER_CELL, BYTES_PER_PROOF, MAX_PAYLOAD_BYTES, USABLE_BYTES_PER_BLOB } from "./constants.ts";
import { DaError, DaErrorCode } from "./errors.ts";
import { framePayload, packBlob } from "./framing.ts";
import { checkRecoveryInput, type EncodedBlob } from "./kzg.ts";
import type { DaMetrics } from "./metrics.ts";
import { defaultDaOptions } from "./options.ts";
import { assemblePayload, type EncodedPayload } from "./payload.ts";
import type { WorkerReady, WorkerRequest, WorkerResponse } from "./worker.ts";

export interface KzgWorkerPoolOptions {
  /** Worker threads; defaults to `os.availableParallelism()`. */
  size: number;
  /** c-kzg precompute level loaded by each worker. */
  precompute: number;
  metrics: DaMetrics | undefined;
}

type Task = {
  id: number;
  request: WorkerRequest;
  transfer: ArrayBuffer[];
  resolve: (res: WorkerResponse & { ok: true }) => void;
  reject: (err: Error) => void;
};

type Slot = { worker: Worker; task: Task | undefined };

function split(flat: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < flat.length; o += size) out.push(flat.subarray(o, o + size));
  return out;
}

/**
 * A fixed pool of worker threads, each holding its own c-kzg instance, that runs the native KZG work (about a
 * quarter of a second per blob) off the event loop. One task per worker at a time: the native call is
 * synchronous, so queueing more would only add latency. A worker that dies fails its task with
 * `DA_WORKER_FAILED` and leaves the pool; the pool fails queued work with `DA_POOL_CLOSED` once none remain.
 */
export class KzgWorkerPool {
  readonly size: number;
  private readonly slots: Slot[];
  private readonly queue: Task[] = [];
  private readonly metrics: DaMetrics | undefined;
  private nextId = 1;
  /** Work done so far: tasks, wall seconds inside workers, CPU seconds of the worker threads. */
  readonly stats = { tasks: 0, workerSeconds: 0, cpuSeconds: 0 };
  private closed = false;

  private constructor(slots: Slot[], metrics: DaMetrics | undefined) {
    this.slots = slots;
    this.size = slots.length;
    this.metrics = metrics;
    for (const slot of slots) this.attach(slot);
  }

  /** Starts the workers and resolves once every one has loaded the trusted setup (a few seconds each, in parallel). */
  static async create(opts?: Partial<KzgWorkerPoolOptions>): Promise<KzgWorkerPool> {
    const o = withDefaults<KzgWorkerPoolOptions>(
      { size: defaultDaOptions.poolSize, precompute: defaultDaOptions.kzgPrecompute, metrics: undefined },
      opts,
    );
    if (!Number.isInteger(o.size) || o.size < 1) {
      throw new DaError(DaErrorCode.INVALID_ARGUMENT, `pool size must be a positive integer, got ${o.size}`);
    }
    const url = new URL("./worker.ts", import.meta.url);
    const workers = Array.from({ length: o.size }, () => new Worker(url, { workerData: { precompute: o.precompute } }));
    const ready = workers.map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          w.once("message", (m: WorkerReady) =>
            m.ready ? resolve() : reject(new DaError(DaErrorCode.WORKER_FAILED, `KZG worker failed to start: ${m.message}`)),
          );
          w.once("error", (err) =>
            reject(new DaError(DaErrorCode.WORKER_FAILED, "KZG worker crashed at start", undefined, { cause: err })),
          );
        }),
    );
    try {
      await Promise.all(ready);
    } catch (err) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw err;
    }
    return new KzgWorkerPool(
      workers.map((worker) => ({ worker, task: undefined })),
      o.metrics,
    );
  }

  private attach(slot: Slot): void {
    slot.worker.on("message", (res: WorkerResponse) => {
      const task = slot.task;
      slot.task = undefined;
      if (task && task.id === res.id) {
        if (res.ok) {
          this.metrics?.blobEncodeSeconds.observe(res.seconds);
          this.stats.tasks++;
          this.stats.workerSeconds += res.seconds;
          this.stats.cpuSeconds += res.cpuSeconds;
          task.resolve(res);
        } else {
          task.reject(new DaError(res.code as DaErrorCode, res.message));
        }
      }
      this.dispatch();
    });
    const fail = (err: unknown) => {
      const index = this.slots.indexOf(slot);
      if (index < 0) return;
      this.slots.splice(index, 1);
      slot.task?.reject(new DaError(DaErrorCode.WORKER_FAILED, "KZG worker died", undefined, { cause: err }));
      slot.task = undefined;
      if (this.slots.length === 0) this.failQueue(new DaError(DaErrorCode.POOL_CLOSED, "no KZG workers left"));
    };
    slot.worker.on("error", fail);
    slot.worker.on("exit", (code) => {
      if (!this.closed) fail(new Error(`worker exited with code ${code}`));
    });
  }

  private failQueue(err: Error): void {
    for (const task of this.queue.splice(0)) task.reject(err);
    this.metrics?.poolQueueDepth.set(0);
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) break;
      if (slot.task) continue;
      const task = this.queue.shift() as Task;
      slot.task = task;
      slot.worker.postMessage(task.request, task.transfer);
    }
    this.metrics?.poolQueueDepth.set(this.queue.length);
  }

  private run(make: (id: number) => WorkerRequest, transfer: ArrayBuffer[]): Promise<WorkerResponse & { ok: true }> {
    if (this.closed || this.slots.length === 0) {
      return Promise.reject(new DaError(DaErrorCode.POOL_CLOSED, "KZG worker pool is closed"));
    }
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.queue.push({ id, request: make(id), transfer, resolve, reject });
      this.dispatch();
    });
  }

  /**
   * Commitment, cells and proofs of one blob, computed in a worker. The blob's buffer is transferred to the
   * worker (detached here) when it spans the whole buffer; otherwise it is copied.
   */
  async encodeBlob(blob: Uint8Array): Promise<EncodedBlob> {
    const own = blob.byteOffset === 0 && blob.byteLength === blob.buffer.byteLength ? blob : new Uint8Array(blob);
    const res = await this.run((id) => ({ id, op: "encode", blob: own }), [own.buffer as ArrayBuffer]);
    this.metrics?.blobsEncoded.inc();
    return {
      commitment: res.commitment as Uint8Array,
      cells: split(res.cells, BYTES_PER_CELL),
      proofs: split(res.proofs, BYTES_PER_PROOF),
    };
  }

  /** All 128 cells and proofs of a blob from any 64 or more of its (verified) cells, computed in a worker. */
  async recoverCells(indices: number[], cells: Uint8Array[]): Promise<{ cells: Uint8Array[]; proofs: Uint8Array[] }> {
    checkRecoveryInput(indices, cells);
    const flat = new Uint8Array(cells.length * BYTES_PER_CELL);
    for (let i = 0; i < cells.length; i++) flat.set(cells[i], i * BYTES_PER_CELL);
    const res = await this.run((id) => ({ id, op: "recover", indices: [...indices], cells: flat }), [flat.buffer]);
    return { cells: split(res.cells, BYTES_PER_CELL), proofs: split(res.proofs, BYTES_PER_PROOF) };
  }

  /**
   * Frames and encodes a payload across the pool. Blobs are packed on this thread one at a time, yielding to the
   * event loop between them, so even a 31 MiB payload never holds the loop for more than one blob's packing.
   */
  async encodePayload(payload: Uint8Array, maxPayloadBytes = MAX_PAYLOAD_BYTES): Promise<EncodedPayload> {
    const frame = framePayload(payload, maxPayloadBytes);
    const blobCount = frame.length / USABLE_BYTES_PER_BLOB;
    const pending: Promise<EncodedBlob>[] = [];
    for (let b = 0; b < blobCount; b++) {
      const encoded = this.encodeBlob(packBlob(frame, b));
      // Observed by Promise.all below; this keeps an early failure from surfacing as unhandled meanwhile.
      encoded.catch(() => {});
      pending.push(encoded);
      await yieldToLoop();
    }
    return assemblePayload(payload.length, await Promise.all(pending));
  }

  /** Stops every worker; queued and running tasks fail with `DA_POOL_CLOSED`. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new DaError(DaErrorCode.POOL_CLOSED, "KZG worker pool closed");
    this.failQueue(err);
    for (const slot of this.slots) {
      slot.task?.reject(err);
      slot.task = undefined;
    }
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
