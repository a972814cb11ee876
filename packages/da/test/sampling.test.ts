import { beforeAll, describe, expect, it } from "vitest";
import {
  CELLS_PER_BLOB,
  type CellCoordinate,
  type CellProvider,
  DaErrorCode,
  DaSampler,
  type EncodedPayload,
  encodePayload,
  loadKzg,
  payloadHeader,
  pickSamples,
  samplesForConfidence,
  samplingConfidence,
  seededRng,
  USABLE_BYTES_PER_BLOB,
} from "../src/index.ts";
import { seededBytes } from "./helpers.ts";

let encoded: EncodedPayload;

beforeAll(() => {
  loadKzg(8);
  encoded = encodePayload(seededBytes(USABLE_BYTES_PER_BLOB + 100, 31)); // 2 blobs, real cells and proofs
});

/** Serves cells of `encoded` except those `withhold` says no to; optionally corrupts one. */
function provider(withhold: (c: CellCoordinate) => boolean, corrupt?: CellCoordinate): CellProvider & { asked: number } {
  const p = {
    asked: 0,
    async getCells(_root: Uint8Array, coords: CellCoordinate[]) {
      p.asked += coords.length;
      return coords.map((c) => {
        if (withhold(c)) return undefined;
        const blob = encoded.blobs[c.blob];
        let cell = blob.cells[c.index];
        if (corrupt && corrupt.blob === c.blob && corrupt.index === c.index) {
          cell = new Uint8Array(cell);
          cell[0] ^= 1;
        }
        return { cell, proof: blob.proofs[c.index] };
      });
    },
  };
  return p;
}

/** A fixed set of 65 withheld cell indices (more than half: blob unrecoverable), chosen by a seeded stream. */
function withheldIndices(seed: number, count = 65): Set<number> {
  const rng = seededRng(new Uint8Array([seed, 0xee]));
  const all = Array.from({ length: CELLS_PER_BLOB }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + rng.nextInt(CELLS_PER_BLOB - i);
    [all[i], all[j]] = [all[j], all[i]];
  }
  return new Set(all.slice(0, count));
}

/** P(all s distinct samples avoid the withheld set) = C(served, s) / C(128, s). */
function foolProbability(served: number, s: number): number {
  let p = 1;
  for (let i = 0; i < s; i++) p *= (served - i) / (CELLS_PER_BLOB - i);
  return p;
}

describe("sampling math", () => {
  it("states confidence 1 − 2^−s and inverts it", () => {
    expect(samplingConfidence(16)).toBe(1 - 1 / 65536);
    expect(samplesForConfidence(0.99)).toBe(7);
    expect(samplesForConfidence(1 - 2 ** -16)).toBe(16);
    expect(() => samplesForConfidence(1)).toThrow(expect.objectContaining({ code: DaErrorCode.INVALID_ARGUMENT }));
  });

  it("picks distinct positions, reproducibly from a seed", () => {
    const a = pickSamples(seededRng(new Uint8Array([1])), 3, 16, "columns");
    expect(a.length).toBe(48);
    expect(new Set(a.map((c) => c.index)).size).toBe(16);
    expect(pickSamples(seededRng(new Uint8Array([1])), 3, 16, "columns")).toEqual(a);
    expect(pickSamples(seededRng(new Uint8Array([2])), 3, 16, "columns")).not.toEqual(a);
    const cells = pickSamples(seededRng(new Uint8Array([1])), 3, 40, "cells");
    expect(new Set(cells.map((c) => `${c.blob}/${c.index}`)).size).toBe(40);
    for (const c of cells) expect(c.blob).toBeLessThan(3);
  });
});

describe("DaSampler", () => {
  it("finds an honest provider available and verifies every answer", async () => {
    const honest = provider(() => false);
    const sampler = new DaSampler(honest, { samples: 16, rng: seededRng(new Uint8Array([5])) });
    const result = await sampler.sample(payloadHeader(encoded));
    expect(result).toMatchObject({ available: true, missing: [], invalid: [], confidence: 1 - 2 ** -16 });
    expect(result.sampled.length).toBe(32); // 16 columns × 2 blobs
    expect(honest.asked).toBe(32);
  });

  it("names a corrupted answer as invalid", async () => {
    const rng = seededRng(new Uint8Array([6]));
    const target = pickSamples(seededRng(new Uint8Array([6])), 2, 8)[3];
    const result = await new DaSampler(
      provider(() => false, target),
      { samples: 8, rng },
    ).sample(payloadHeader(encoded));
    expect(result.available).toBe(false);
    expect(result.invalid).toEqual([target]);
    expect(result.missing).toEqual([]);
  });

  it("rejects a header whose commitments do not match its root", async () => {
    const header = { ...payloadHeader(encoded), length: encoded.length + 1 };
    await expect(new DaSampler(provider(() => false)).sample(header)).rejects.toMatchObject({ code: DaErrorCode.ROOT_MISMATCH });
  });

  it("treats a failing provider as withholding everything", async () => {
    const broken: CellProvider = { getCells: async () => Promise.reject(new Error("peer gone")) };
    const result = await new DaSampler(broken, { samples: 4 }).sample(payloadHeader(encoded));
    expect(result.available).toBe(false);
    expect(result.missing.length).toBe(8);
  });

  it.each([
    { s: 2, trials: 200 },
    { s: 4, trials: 200 },
  ])("catches a provider withholding 65 of 128 cells of one blob at ≥ 1 − 2^−$s", async ({ s, trials }) => {
    let fooled = 0;
    for (let t = 0; t < trials; t++) {
      const hidden = withheldIndices(t);
      const withholder = provider((c) => c.blob === 1 && hidden.has(c.index));
      const sampler = new DaSampler(withholder, { samples: s, rng: seededRng(new Uint8Array([t, t >> 8, s])) });
      const result = await sampler.sample(payloadHeader(encoded));
      if (result.available) fooled++;
      else expect(result.invalid).toEqual([]); // caught by absence, every served cell verified
    }
    const bound = 2 ** -s;
    const exact = foolProbability(63, s); // just under the bound: sampling is without replacement
    expect(exact).toBeLessThan(bound);
    const sigma = Math.sqrt((exact * (1 - exact)) / trials);
    const rate = fooled / trials;
    expect(rate).toBeLessThan(bound + 3 * sigma);
    expect(rate).toBeGreaterThan(exact - 4 * sigma); // and the sampler is not simply failing everything
  });

  it("never misses withholding at s = 16 over 60 seeded runs", async () => {
    let caught = 0;
    for (let t = 0; t < 60; t++) {
      const hidden = withheldIndices(100 + t, 70);
      const sampler = new DaSampler(
        provider((c) => c.blob === 0 && hidden.has(c.index)),
        { samples: 16, rng: seededRng(new Uint8Array([t, 0x16])) },
      );
      if (!(await sampler.sample(payloadHeader(encoded))).available) caught++;
    }
    expect(caught).toBe(60);
  });
});
