import { availableParallelism } from "node:os";
import { MAX_PAYLOAD_BYTES } from "./constants.ts";

export interface DaOptions {
  /**
   * c-kzg `loadTrustedSetup` precompute level. 8 costs ~100 MB per loaded instance and ~1 s more start-up
   * but computes cells and proofs ~30% faster (measured in bench:da); 0 suits verification-only processes.
   */
  kzgPrecompute: number;
  /** Worker threads in the encoding pool; defaults to the cores Node can use. */
  poolSize: number;
  /** Nice value of the KZG worker threads (Linux): background work yields to the main thread under contention. */
  workerNice: number;
  /** Signers holding each cell column in a quorum (capped at the number of validators). */
  holdersPerColumn: number;
  /** Cells a light node samples per payload; confidence 1 − 2^−s at a 2× extension. */
  samples: number;
  /** Largest accepted payload; cannot exceed `MAX_PAYLOAD_BYTES`. */
  maxPayloadBytes: number;
}

export const defaultDaOptions: DaOptions = {
  kzgPrecompute: 8,
  poolSize: availableParallelism(),
  workerNice: 5,
  holdersPerColumn: 4,
  samples: 16,
  maxPayloadBytes: MAX_PAYLOAD_BYTES,
};
