/**
 * KZG worker thread: loads the trusted setup once, then runs one native task per message. Results travel back as
 * flat buffers in the transfer list, so nothing bulky is copied between threads.
 */
import { parentPort, workerData } from "node:worker_threads";
import { isCodedError } from "@zgnode/utils";
import { encodeBlob, loadKzg, recoverCells } from "./kzg.ts";

export type WorkerRequest =
  | { id: number; op: "encode"; blob: Uint8Array }
  | { id: number; op: "recover"; indices: number[]; cells: Uint8Array };

export type WorkerResponse =
  | { id: number; ok: true; commitment?: Uint8Array; cells: Uint8Array; proofs: Uint8Array; seconds: number; cpuSeconds: number }
  | { id: number; ok: false; code: string; message: string };

export type WorkerReady = { ready: true } | { ready: false; message: string };

function flatten(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.length * parts[0].length);
  for (let i = 0; i < parts.length; i++) out.set(parts[i], i * parts[0].length);
  return out;
}

function split(flat: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < flat.length; o += size) out.push(flat.subarray(o, o + size));
  return out;
}

const port = parentPort;
if (port) {
  try {
    loadKzg((workerData as { precompute: number }).precompute);
    port.postMessage({ ready: true } satisfies WorkerReady);
  } catch (err) {
    port.postMessage({ ready: false, message: (err as Error).message } satisfies WorkerReady);
  }
  port.on("message", (req: WorkerRequest) => {
    const started = performance.now();
    const cpu = process.threadCpuUsage();
    try {
      let res: WorkerResponse;
      if (req.op === "encode") {
        const encoded = encodeBlob(req.blob);
        res = {
          id: req.id,
          ok: true,
          commitment: encoded.commitment,
          cells: flatten(encoded.cells),
          proofs: flatten(encoded.proofs),
          seconds: 0,
          cpuSeconds: 0,
        };
      } else {
        const recovered = recoverCells(req.indices, split(req.cells, req.cells.length / req.indices.length));
        res = {
          id: req.id,
          ok: true,
          cells: flatten(recovered.cells),
          proofs: flatten(recovered.proofs),
          seconds: 0,
          cpuSeconds: 0,
        };
      }
      res.seconds = (performance.now() - started) / 1000;
      const used = process.threadCpuUsage(cpu);
      res.cpuSeconds = (used.user + used.system) / 1e6;
      port.postMessage(res, [res.cells.buffer as ArrayBuffer, res.proofs.buffer as ArrayBuffer]);
    } catch (err) {
      const code = isCodedError(err) ? err.code : "DA_WORKER_FAILED";
      port.postMessage({ id: req.id, ok: false, code, message: (err as Error).message } satisfies WorkerResponse);
    }
  });
}
