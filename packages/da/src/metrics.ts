import { Counter, Gauge, Histogram, type Registry } from "@zgnode/utils";

export interface DaMetrics {
  blobsEncoded: Counter;
  blobEncodeSeconds: Histogram;
  poolQueueDepth: Gauge;
  cellsVerified: Counter;
  invalidCells: Counter;
  samplingRuns: Counter<"result">;
}

/** DA metrics registered in the node's registry (one call per registry). */
export function createDaMetrics(registry: Registry): DaMetrics {
  const registers = [registry];
  return {
    blobsEncoded: new Counter({
      name: "zgnode_da_blobs_encoded_total",
      help: "Blobs extended into cells with proofs",
      registers,
    }),
    blobEncodeSeconds: new Histogram({
      name: "zgnode_da_blob_encode_seconds",
      help: "Worker time to compute commitment, cells and proofs of one blob",
      buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5],
      registers,
    }),
    poolQueueDepth: new Gauge({ name: "zgnode_da_pool_queue_depth", help: "KZG tasks waiting for a worker", registers }),
    cellsVerified: new Counter({ name: "zgnode_da_cells_verified_total", help: "Cells checked against KZG proofs", registers }),
    invalidCells: new Counter({ name: "zgnode_da_invalid_cells_total", help: "Cells that failed their KZG proof", registers }),
    samplingRuns: new Counter({
      name: "zgnode_da_sampling_runs_total",
      help: "Sampling runs by result (available, unavailable)",
      labelNames: ["result"] as const,
      registers,
    }),
  };
}
