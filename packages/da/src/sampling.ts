import { randomInt } from "node:crypto";
import { keccak256 } from "@zgnode/crypto";
import { concatBytes, uintToBytes } from "@zgnode/utils";
import { BYTES_PER_CELL, BYTES_PER_PROOF, CELLS_PER_BLOB } from "./constants.ts";
import { DaError, DaErrorCode } from "./errors.ts";
import type { DaMetrics } from "./metrics.ts";
import { defaultDaOptions } from "./options.ts";
import type { PayloadHeader } from "./payload.ts";
import { type CellCoordinate, type CellWithProof, verifyCells, verifyPayloadHeader } from "./verify.ts";

/** Source of sample positions. Production draws from the OS CSPRNG; tests use a seeded stream to be reproducible. */
export interface SampleRng {
  /** Uniform integer in [0, maxExclusive). */
  nextInt(maxExclusive: number): number;
}

export function cryptoRng(): SampleRng {
  return { nextInt: (max) => randomInt(max) };
}

/** Deterministic uniform stream: keccak(seed ‖ counter) blocks, rejection-sampled to avoid modulo bias. */
export function seededRng(seed: Uint8Array): SampleRng {
  let counter = 0;
  let block: Uint8Array = new Uint8Array(0);
  let offset = 0;
  const nextU32 = (): number => {
    if (offset + 4 > block.length) {
      block = keccak256(concatBytes(seed, uintToBytes(counter++, 8)));
      offset = 0;
    }
    const v = ((block[offset] << 24) | (block[offset + 1] << 16) | (block[offset + 2] << 8) | block[offset + 3]) >>> 0;
    offset += 4;
    return v;
  };
  return {
    nextInt(max: number): number {
      if (!Number.isInteger(max) || max < 1 || max > 2 ** 32) throw new DaError(DaErrorCode.INVALID_ARGUMENT, `bad range ${max}`);
      const limit = 2 ** 32 - (2 ** 32 % max);
      for (;;) {
        const v = nextU32();
        if (v < limit) return v % max;
      }
    },
  };
}

/**
 * Chance that s samples catch a withholder at a 2× extension. To make a blob unrecoverable a provider must withhold
 * more than half of its cells, so each distinct sample lands on a served cell with probability below 1/2.
 */
export function samplingConfidence(samples: number): number {
  return 1 - 2 ** -samples;
}

/** Samples needed for a target confidence, e.g. 0.9999 → 14. */
export function samplesForConfidence(confidence: number): number {
  if (!(confidence > 0 && confidence < 1)) throw new DaError(DaErrorCode.INVALID_ARGUMENT, "confidence must be in (0, 1)");
  return Math.ceil(-Math.log2(1 - confidence));
}

/**
 * - `columns` (default): s distinct cell columns, each fetched from every blob, as PeerDAS samples columns. A
 *   provider who withholds more than half of any one blob's cells is caught with probability ≥ 1 − 2^−s.
 * - `cells`: s distinct cells uniformly over the whole payload: s cells whatever the payload size, but the bound
 *   holds only against withholding more than half of all the payload's cells.
 */
export type SamplingMode = "columns" | "cells";

/** s distinct values of [0, n), by a partial Fisher-Yates shuffle. */
function distinct(rng: SampleRng, n: number, s: number): number[] {
  const pool = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < s; i++) {
    const j = i + rng.nextInt(n - i);
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, s);
}

export function pickSamples(
  rng: SampleRng,
  blobCount: number,
  samples: number,
  mode: SamplingMode = "columns",
): CellCoordinate[] {
  if (!Number.isInteger(samples) || samples < 1) throw new DaError(DaErrorCode.INVALID_ARGUMENT, "samples must be ≥ 1");
  if (mode === "columns") {
    if (samples > CELLS_PER_BLOB) throw new DaError(DaErrorCode.INVALID_ARGUMENT, `at most ${CELLS_PER_BLOB} columns`);
    const out: CellCoordinate[] = [];
    for (const index of distinct(rng, CELLS_PER_BLOB, samples))
      for (let blob = 0; blob < blobCount; blob++) out.push({ blob, index });
    return out;
  }
  const total = blobCount * CELLS_PER_BLOB;
  if (samples > total) throw new DaError(DaErrorCode.INVALID_ARGUMENT, `at most ${total} cells`);
  return distinct(rng, total, samples).map((i) => ({ blob: Math.floor(i / CELLS_PER_BLOB), index: i % CELLS_PER_BLOB }));
}

/** Anything that serves cells with proofs: a DA node over req/resp, a local store, a test double. */
export interface CellProvider {
  /** One answer per coordinate, in order; `undefined` when the provider does not (or will not) serve it. */
  getCells(
    payloadRoot: Uint8Array,
    coordinates: CellCoordinate[],
  ): Promise<Array<{ cell: Uint8Array; proof: Uint8Array } | undefined>>;
}

export interface SampleResult {
  /** Every sampled cell was served and verified. */
  available: boolean;
  /** 1 − 2^−s: the probability that a withholding provider would have been caught by this run. */
  confidence: number;
  sampled: CellCoordinate[];
  missing: CellCoordinate[];
  /** Served but failing their proof (or malformed). */
  invalid: CellCoordinate[];
}

export interface SamplerOptions {
  samples: number;
  mode: SamplingMode;
  rng: SampleRng;
  metrics: DaMetrics | undefined;
}

/** Light-node sampler: draws positions, asks the provider, verifies every answer against the payload header. */
export class DaSampler {
  private readonly provider: CellProvider;
  private readonly opts: SamplerOptions;

  constructor(provider: CellProvider, opts: Partial<SamplerOptions> = {}) {
    this.provider = provider;
    this.opts = {
      samples: opts.samples ?? defaultDaOptions.samples,
      mode: opts.mode ?? "columns",
      rng: opts.rng ?? cryptoRng(),
      metrics: opts.metrics,
    };
  }

  /** Throws `DA_ROOT_MISMATCH` if the header is inconsistent; provider failures count as missing cells. */
  async sample(header: PayloadHeader): Promise<SampleResult> {
    verifyPayloadHeader(header);
    const { samples, mode, rng } = this.opts;
    const sampled = pickSamples(rng, header.commitments.length, samples, mode);
    let answers: Array<{ cell: Uint8Array; proof: Uint8Array } | undefined>;
    try {
      answers = await this.provider.getCells(header.root, sampled);
      if (!Array.isArray(answers) || answers.length !== sampled.length) answers = [];
    } catch {
      answers = [];
    }
    const missing: CellCoordinate[] = [];
    const invalid: CellCoordinate[] = [];
    const served: CellWithProof[] = [];
    sampled.forEach((at, i) => {
      const a = answers[i];
      if (!a) missing.push(at);
      else if (
        !(a.cell instanceof Uint8Array) ||
        a.cell.length !== BYTES_PER_CELL ||
        !(a.proof instanceof Uint8Array) ||
        a.proof.length !== BYTES_PER_PROOF
      ) {
        invalid.push(at);
      } else served.push({ ...at, cell: a.cell, proof: a.proof });
    });
    const verdict = verifyCells(header.commitments, served);
    if (!verdict.ok) invalid.push(...verdict.bad);
    this.opts.metrics?.cellsVerified.inc(served.length);
    if (invalid.length > 0) this.opts.metrics?.invalidCells.inc(invalid.length);
    const available = missing.length === 0 && invalid.length === 0;
    this.opts.metrics?.samplingRuns.inc({ result: available ? "available" : "unavailable" });
    return { available, confidence: samplingConfidence(samples), sampled, missing, invalid };
  }
}
