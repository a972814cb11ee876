// Worker thread: computes segment roots over a slice of a SharedArrayBuffer the main thread filled.
import { parentPort } from "node:worker_threads";
import { getKeccakBatch } from "@zgnode/crypto";

export interface SegmentHashRequest {
  id: number;
  buffer: SharedArrayBuffer;
  offset: number;
  length: number;
}

export type SegmentHashResponse = { id: number; roots: Uint8Array } | { id: number; error: string };

const keccak = getKeccakBatch();
const port = parentPort;
if (port) {
  port.on("message", (req: SegmentHashRequest) => {
    try {
      const roots = keccak.segmentRoots(new Uint8Array(req.buffer, req.offset, req.length), 256, 1024);
      port.postMessage({ id: req.id, roots } satisfies SegmentHashResponse, [roots.buffer as ArrayBuffer]);
    } catch (err) {
      port.postMessage({ id: req.id, error: (err as Error).message } satisfies SegmentHashResponse);
    }
  });
}
