/**
 * KZG worker thread: loads the trusted setup once, then runs one native task per message. Bulky inputs and results
 * travel as flat buffers in the transfer list, so nothing large is copied between threads.
 */
import { readFileSync } from "node:fs";
import { setPriority } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import { isCodedError } from "@zgnode/utils";
import { flatten, split } from "./buffers.ts";
import { BYTES_PER_CELL, BYTES_PER_COMMITMENT, BYTES_PER_PROOF } from "./constants.ts";
import { encodeBlob, loadKzg, recoverCells } from "./kzg.ts";
import { type CellCoordinate, verifyCells } from "./verify.ts";

export type WorkerRequest =
  | { id: number; op: "encode"; blob: Uint8Array }
  | { id: number; op: "recover"; indices: number[]; cells: Uint8Array }
  | {
      id: number;
      op: "verify";
      commitments: Uint8Array;
      blobs: number[];
      indices: number[];
      cells: Uint8Array;
      proofs: Uint8Array;
    };

export type WorkerResult =
  | { op: "encode"; commitment: Uint8Array; cells: Uint8Array; proofs: Uint8Array }
  | { op: "recover"; cells: Uint8Array; proofs: Uint8Array }
  | { op: "verify"; bad: CellCoordinate[] };

export type WorkerResponse =
  | { id: number; ok: true; result: WorkerResult; seconds: number; cpuSeconds: number }
  | { id: number; ok: false; code: string; message: string };

export type WorkerReady = { ready: true } | { ready: false; message: string };

/** Marks the threads this module serves, so importing it anywhere else (a test runner's thread) does nothing. */
export const KZG_WORKER_ROLE = "zgnode-da-kzg";

function run(req: WorkerRequest): { result: WorkerResult; transfer: ArrayBuffer[] } {
  if (req.op === "encode") {
    const e = encodeBlob(req.blob);
    const result = {
      op: req.op,
      commitment: e.commitment,
      cells: flatten(e.cells, BYTES_PER_CELL),
      proofs: flatten(e.proofs, BYTES_PER_PROOF),
    };
    return { result, transfer: [result.cells.buffer as ArrayBuffer, result.proofs.buffer as ArrayBuffer] };
  }
  if (req.op === "recover") {
    const r = recoverCells(req.indices, split(req.cells, BYTES_PER_CELL));
    const result = { op: req.op, cells: flatten(r.cells, BYTES_PER_CELL), proofs: flatten(r.proofs, BYTES_PER_PROOF) };
    return { result, transfer: [result.cells.buffer as ArrayBuffer, result.proofs.buffer as ArrayBuffer] };
  }
  const commitments = split(req.commitments, BYTES_PER_COMMITMENT);
  const cells = split(req.cells, BYTES_PER_CELL);
  const proofs = split(req.proofs, BYTES_PER_PROOF);
  const verdict = verifyCells(
    commitments,
    req.blobs.map((blob, i) => ({ blob, index: req.indices[i], cell: cells[i], proof: proofs[i] })),
  );
  return { result: { op: req.op, bad: verdict.ok ? [] : verdict.bad }, transfer: [] };
}

const port = parentPort;
const data = workerData as { role?: string; precompute: number; nice: number } | null;

/**
 * Lowers this thread's scheduling priority (Linux: a thread is a schedulable task with its own nice value), so the
 * main thread's consensus and networking win the CPU whenever both want it; on an idle machine it changes nothing.
 * Best effort: other platforms, or a sandbox that forbids it, keep the default priority.
 */
function lowerPriority(nice: number): void {
  if (nice <= 0 || process.platform !== "linux") return;
  try {
    const tid = Number(readFileSync("/proc/thread-self/stat", "utf8").split(" ")[0]);
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, nice);
  } catch {
    // keep the default priority
  }
}
if (port && data?.role === KZG_WORKER_ROLE) {
  try {
    lowerPriority(data.nice);
    loadKzg(data.precompute);
    port.postMessage({ ready: true } satisfies WorkerReady);
  } catch (err) {
    port.postMessage({ ready: false, message: (err as Error).message } satisfies WorkerReady);
  }
  port.on("message", (req: WorkerRequest) => {
    const started = performance.now();
    const cpu = process.threadCpuUsage();
    try {
      const { result, transfer } = run(req);
      const used = process.threadCpuUsage(cpu);
      const res: WorkerResponse = {
        id: req.id,
        ok: true,
        result,
        seconds: (performance.now() - started) / 1000,
        cpuSeconds: (used.user + used.system) / 1e6,
      };
      port.postMessage(res, transfer);
    } catch (err) {
      const code = isCodedError(err) ? err.code : "DA_WORKER_FAILED";
      port.postMessage({ id: req.id, ok: false, code, message: (err as Error).message } satisfies WorkerResponse);
    }
  });
}
