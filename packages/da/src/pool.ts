import { setImmediate as yieldToLoop } from "node:timers/promises";
import { Worker } from "node:worker_threads";
import { withDefaults } from "@zgnode/utils";
import { flatten, split } from "./buffers.ts";
import {
  BYTES_PER_CELL,
  BYTES_PER_COMMITMENT,
  BYTES_PER_PROOF,
  CELLS_FOR_RECOVERY,
  MAX_PAYLOAD_BYTES,
  USABLE_BYTES_PER_BLOB,
} from "./constants.ts";
import { DaError, DaErrorCode } from "./errors.ts";
import { blobCountForLength, blobsToPayload, framePayload, packBlob } from "./framing.ts";
import { checkRecoveryInput, type EncodedBlob } from "./kzg.ts";
import type { DaMetrics } from "./metrics.ts";
import { defaultDaOptions } from "./options.ts";
import { assemblePayload, type EncodedPayload, type PayloadHeader } from "./payload.ts";
import { blobFromCells } from "./recovery.ts";
import { type CellCoordinate, type CellVerdict, type CellWithProof, checkCellShape, verifyPayloadHeader } from "./verify.ts";
import type { WorkerReady, WorkerRequest, WorkerResponse, WorkerResult } from "./worker.ts";

export interface KzgWorkerPoolOptions {
  /** Worker threads; defaults to `os.availableParallelism()`. */
  size: number;
  /** c-kzg precompute level loaded by each worker. */
  precompute: number;
  /** Nice value of the worker threads on Linux (0 = same priority as the main thread). */
  nice: number;
  metrics: DaMetrics | undefined;
}

type Task = {
  id: number;
  request: WorkerRequest;
  transfer: ArrayBuffer[];
  resolve: (result: WorkerResult) => void;
  reject: (err: Error) => void;
};

type Slot = { worker: Worker; task: Task | undefined; ready: boolean };

/** Below this many cells a verification batch is not worth splitting across workers (fixed pairing cost). */
const MIN_CELLS_PER_VERIFY_TASK = 32;

/** Starts a worker; `ready` settles on its first message. `detach` drops only the start-up listeners. */
function startWorker(precompute: number, nice: number): { worker: Worker; ready: Promise<void>; detach: () => void } {
  const worker = new Worker(new URL("./worker.ts", import.meta.url), { workerData: { role: "zgnode-da-kzg", precompute, nice } });
  let onMessage: (m: WorkerReady) => void = () => {};
  let onError: (err: Error) => void = () => {};
  let onExit: (code: number) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    onMessage = (m) =>
      m.ready ? resolve() : reject(new DaError(DaErrorCode.WORKER_FAILED, `KZG worker failed to start: ${m.message}`));
    onError = (err) => reject(new DaError(DaErrorCode.WORKER_FAILED, "KZG worker crashed at start", undefined, { cause: err }));
    onExit = (code) => reject(new DaError(DaErrorCode.WORKER_FAILED, `KZG worker exited at start (${code})`));
  });
  worker.once("message", onMessage);
  worker.once("error", onError);
  worker.once("exit", onExit);
  const detach = () => {
    worker.off("message", onMessage);
    worker.off("error", onError);
    worker.off("exit", onExit);
  };
  return { worker, ready, detach };
}

/**
 * A fixed pool of worker threads, each holding its own c-kzg instance, that runs the native KZG work (about a
 * quarter of a second per blob for encoding or recovery) off the event loop. One task per worker at a time: the
 * native call is synchronous, so queueing more would only add latency. A worker that dies fails its task with
 * `DA_WORKER_FAILED` and is replaced; work fails with `DA_POOL_CLOSED` after `close()` or once no worker can start.
 */
export class KzgWorkerPool {
  readonly size: number;
  /** Work done so far: tasks, wall seconds inside workers, CPU seconds of the worker threads. */
  readonly stats = { tasks: 0, workerSeconds: 0, cpuSeconds: 0, restarts: 0 };
  private readonly slots: Slot[];
  private readonly queue: Task[] = [];
  private readonly metrics: DaMetrics | undefined;
  private readonly precompute: number;
  private readonly nice: number;
  private nextId = 1;
  private closed = false;

  private constructor(workers: Worker[], precompute: number, nice: number, metrics: DaMetrics | undefined) {
    this.slots = workers.map((worker) => ({ worker, task: undefined, ready: true }));
    this.size = workers.length;
    this.precompute = precompute;
    this.nice = nice;
    this.metrics = metrics;
    for (const slot of this.slots) this.attach(slot);
  }

  /** Starts the workers and resolves once every one has loaded the trusted setup (a few seconds each, in parallel). */
  static async create(opts?: Partial<KzgWorkerPoolOptions>): Promise<KzgWorkerPool> {
    const o = withDefaults<KzgWorkerPoolOptions>(
      {
        size: defaultDaOptions.poolSize,
        precompute: defaultDaOptions.kzgPrecompute,
        nice: defaultDaOptions.workerNice,
        metrics: undefined,
      },
      opts,
    );
    if (!Number.isInteger(o.size) || o.size < 1) {
      throw new DaError(DaErrorCode.INVALID_ARGUMENT, `pool size must be a positive integer, got ${o.size}`);
    }
    const started = Array.from({ length: o.size }, () => startWorker(o.precompute, o.nice));
    try {
      await Promise.all(started.map((s) => s.ready));
    } catch (err) {
      await Promise.all(started.map((s) => s.worker.terminate()));
      throw err;
    }
    for (const s of started) s.detach();
    return new KzgWorkerPool(
      started.map((s) => s.worker),
      o.precompute,
      o.nice,
      o.metrics,
    );
  }

  private attach(slot: Slot): void {
    slot.worker.on("message", (res: WorkerResponse) => {
      const task = slot.task;
      if (!task || task.id !== res.id) return;
      slot.task = undefined;
      if (res.ok) {
        this.stats.tasks++;
        this.stats.workerSeconds += res.seconds;
        this.stats.cpuSeconds += res.cpuSeconds;
        if (res.result.op === "encode") this.metrics?.blobEncodeSeconds.observe(res.seconds);
        task.resolve(res.result);
      } else {
        task.reject(new DaError(res.code as DaErrorCode, res.message));
      }
      this.dispatch();
    });
    let failed = false;
    const fail = (err: unknown) => {
      if (failed || this.closed) return;
      failed = true;
      slot.task?.reject(new DaError(DaErrorCode.WORKER_FAILED, "KZG worker died", undefined, { cause: err }));
      slot.task = undefined;
      this.replace(slot);
    };
    slot.worker.on("error", fail);
    slot.worker.on("exit", (code) => fail(new Error(`worker exited with code ${code}`)));
  }

  /** Swaps a dead worker for a fresh one; a replacement that cannot start leaves the pool smaller. */
  private replace(slot: Slot): void {
    slot.ready = false;
    this.stats.restarts++;
    void slot.worker.terminate();
    const { worker, ready, detach } = startWorker(this.precompute, this.nice);
    slot.worker = worker;
    ready.then(
      () => {
        detach();
        if (this.closed) {
          void worker.terminate();
          return;
        }
        slot.ready = true;
        this.attach(slot);
        this.dispatch();
      },
      () => {
        void worker.terminate();
        this.slots.splice(this.slots.indexOf(slot), 1);
        if (this.slots.length === 0) this.failQueue(new DaError(DaErrorCode.POOL_CLOSED, "no KZG worker could be started"));
      },
    );
  }

  private failQueue(err: Error): void {
    for (const task of this.queue.splice(0)) task.reject(err);
    this.metrics?.poolQueueDepth.set(0);
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) break;
      if (slot.task || !slot.ready) continue;
      const task = this.queue.shift() as Task;
      slot.task = task;
      slot.worker.postMessage(task.request, task.transfer);
    }
    this.metrics?.poolQueueDepth.set(this.queue.length);
  }

  private run<R extends WorkerResult>(make: (id: number) => WorkerRequest, transfer: ArrayBuffer[]): Promise<R> {
    if (this.closed || this.slots.length === 0) {
      return Promise.reject(new DaError(DaErrorCode.POOL_CLOSED, "KZG worker pool is closed"));
    }
    return new Promise<R>((resolve, reject) => {
      const id = this.nextId++;
      this.queue.push({ id, request: make(id), transfer, resolve: resolve as (r: WorkerResult) => void, reject });
      this.dispatch();
    });
  }

  /**
   * Commitment, cells and proofs of one blob, computed in a worker. The blob's buffer is transferred to the
   * worker (detached here) when it spans the whole buffer; otherwise it is copied.
   */
  async encodeBlob(blob: Uint8Array): Promise<EncodedBlob> {
    const own = blob.byteOffset === 0 && blob.byteLength === blob.buffer.byteLength ? blob : new Uint8Array(blob);
    const r = await this.run<WorkerResult & { op: "encode" }>(
      (id) => ({ id, op: "encode", blob: own }),
      [own.buffer as ArrayBuffer],
    );
    this.metrics?.blobsEncoded.inc();
    return { commitment: r.commitment, cells: split(r.cells, BYTES_PER_CELL), proofs: split(r.proofs, BYTES_PER_PROOF) };
  }

  /** All 128 cells and proofs of a blob from any 64 or more of its (verified) cells, computed in a worker. */
  async recoverCells(indices: number[], cells: Uint8Array[]): Promise<{ cells: Uint8Array[]; proofs: Uint8Array[] }> {
    checkRecoveryInput(indices, cells);
    const flat = flatten(cells, BYTES_PER_CELL);
    const r = await this.run<WorkerResult & { op: "recover" }>(
      (id) => ({ id, op: "recover", indices: [...indices], cells: flat }),
      [flat.buffer as ArrayBuffer],
    );
    return { cells: split(r.cells, BYTES_PER_CELL), proofs: split(r.proofs, BYTES_PER_PROOF) };
  }

  /**
   * `verifyCells` across the pool: the cells are split into one batch per worker (when there are enough to be worth
   * it), each batch checked, and bad cells named by (blob, index) as in the single-thread version.
   */
  async verifyCells(commitments: Uint8Array[], cells: CellWithProof[]): Promise<CellVerdict> {
    for (const c of cells) checkCellShape(commitments, c);
    if (cells.length === 0) return { ok: true };
    const flatCommitments = flatten(commitments, BYTES_PER_COMMITMENT);
    const parts = Math.max(1, Math.min(this.size, Math.floor(cells.length / MIN_CELLS_PER_VERIFY_TASK)));
    const per = Math.ceil(cells.length / parts);
    const pending: Promise<WorkerResult & { op: "verify" }>[] = [];
    for (let o = 0; o < cells.length; o += per) {
      const chunk = cells.slice(o, o + per);
      const flatCells = flatten(
        chunk.map((c) => c.cell),
        BYTES_PER_CELL,
      );
      const flatProofs = flatten(
        chunk.map((c) => c.proof),
        BYTES_PER_PROOF,
      );
      pending.push(
        this.run(
          (id) => ({
            id,
            op: "verify",
            commitments: flatCommitments,
            blobs: chunk.map((c) => c.blob),
            indices: chunk.map((c) => c.index),
            cells: flatCells,
            proofs: flatProofs,
          }),
          [flatCells.buffer as ArrayBuffer, flatProofs.buffer as ArrayBuffer],
        ),
      );
    }
    const bad: CellCoordinate[] = (await Promise.all(pending)).flatMap((r) => r.bad);
    this.metrics?.cellsVerified.inc(cells.length);
    if (bad.length === 0) return { ok: true };
    this.metrics?.invalidCells.inc(bad.length);
    return { ok: false, bad };
  }

  /**
   * `recoverPayload` with the KZG work in the pool: every cell verified in worker batches (a bad one is named),
   * blobs missing part of their systematic half recovered in workers, the rest copied.
   */
  async recoverPayload(header: PayloadHeader, cells: CellWithProof[]): Promise<Uint8Array> {
    verifyPayloadHeader(header);
    const verdict = await this.verifyCells(header.commitments, cells);
    if (!verdict.ok) {
      const first = verdict.bad[0];
      throw new DaError(
        DaErrorCode.INVALID_CELL_PROOF,
        `cell (blob ${first.blob}, index ${first.index}) does not match its proof and commitment`,
        { blob: first.blob, index: first.index, bad: verdict.bad },
      );
    }
    const perBlob: Array<Map<number, Uint8Array>> = Array.from({ length: blobCountForLength(header.length) }, () => new Map());
    for (const c of cells) perBlob[c.blob].set(c.index, c.cell);
    const blobs = await Promise.all(
      perBlob.map(async (m, blob) => {
        if (m.size < CELLS_FOR_RECOVERY) {
          throw new DaError(
            DaErrorCode.NOT_ENOUGH_CELLS,
            `blob ${blob} has ${m.size} of the ${CELLS_FOR_RECOVERY} cells needed`,
            {
              blob,
              have: m.size,
            },
          );
        }
        const systematic = Array.from({ length: CELLS_FOR_RECOVERY }, (_, i) => m.get(i));
        if (systematic.every((c) => c !== undefined)) return blobFromCells(systematic as Uint8Array[]);
        return blobFromCells((await this.recoverCells([...m.keys()], [...m.values()])).cells);
      }),
    );
    const payload = blobsToPayload(blobs);
    if (payload.length !== header.length) {
      throw new DaError(DaErrorCode.INVALID_FRAME, `decoded ${payload.length} bytes, header says ${header.length}`);
    }
    return payload;
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
