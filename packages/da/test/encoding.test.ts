import { beforeAll, describe, expect, it } from "vitest";
import {
  assertCellsValid,
  CELLS_PER_BLOB,
  type CellWithProof,
  commitmentBranch,
  computePayloadRoot,
  DaErrorCode,
  type EncodedPayload,
  encodePayload,
  loadKzg,
  payloadHeader,
  payloadToBlobs,
  recoverCells,
  recoverPayload,
  seededRng,
  USABLE_BYTES_PER_BLOB,
  verifyCells,
  verifyCommitmentBranch,
  verifyPayloadHeader,
} from "../src/index.ts";
import { seededBytes } from "./helpers.ts";

// Real c-kzg cells and proofs: one 2-blob payload encoded once (~0.5 s of native work), reused by every test.
let payload: Uint8Array;
let encoded: EncodedPayload;

function cellsOf(e: EncodedPayload, pick: (blob: number, index: number) => boolean): CellWithProof[] {
  const out: CellWithProof[] = [];
  e.blobs.forEach((b, blob) => {
    for (let index = 0; index < CELLS_PER_BLOB; index++) {
      if (pick(blob, index)) out.push({ blob, index, cell: b.cells[index], proof: b.proofs[index] });
    }
  });
  return out;
}

/** 64 distinct cell indices chosen by a seeded stream, mostly from the extension half. */
function randomHalf(seed: number): Set<number> {
  const rng = seededRng(new Uint8Array([seed]));
  const all = Array.from({ length: CELLS_PER_BLOB }, (_, i) => i);
  for (let i = 0; i < 64; i++) {
    const j = i + rng.nextInt(CELLS_PER_BLOB - i);
    [all[i], all[j]] = [all[j], all[i]];
  }
  return new Set(all.slice(0, 64));
}

beforeAll(() => {
  loadKzg(8);
  payload = seededBytes(USABLE_BYTES_PER_BLOB + 5000, 7);
  encoded = encodePayload(payload);
});

describe("payload encoding", () => {
  it("frames into blobs, extends each into 128 cells with proofs and commits to them", () => {
    expect(encoded.blobs.length).toBe(2);
    expect(encoded.length).toBe(payload.length);
    const blobs = payloadToBlobs(payload);
    for (const [i, b] of encoded.blobs.entries()) {
      expect(b.commitment.length).toBe(48);
      expect(b.cells.length).toBe(128);
      expect(b.proofs.length).toBe(128);
      // systematic: the first half of the cells is the blob itself
      expect(Buffer.concat(b.cells.slice(0, 64))).toEqual(Buffer.from(blobs[i]));
    }
    expect(encoded.commitments[0]).not.toEqual(encoded.commitments[1]);
    expect(encoded.root).toEqual(computePayloadRoot(encoded.commitments, payload.length));
  });

  it("binds the root to the commitments and the length", () => {
    expect(computePayloadRoot(encoded.commitments, payload.length + 1)).not.toEqual(encoded.root);
    const swapped = [encoded.commitments[1], encoded.commitments[0]];
    expect(computePayloadRoot(swapped, payload.length)).not.toEqual(encoded.root);
    expect(() => verifyPayloadHeader({ ...payloadHeader(encoded), commitments: swapped })).toThrow(
      expect.objectContaining({ code: DaErrorCode.ROOT_MISMATCH }),
    );
    verifyPayloadHeader(payloadHeader(encoded));
  });

  it("proves each blob commitment against the root with a Merkle branch", () => {
    for (let blob = 0; blob < 2; blob++) {
      const branch = commitmentBranch(encoded.commitments, blob);
      expect(branch.length).toBe(1);
      expect(verifyCommitmentBranch(encoded.root, encoded.length, blob, encoded.commitments[blob], branch)).toBe(true);
      expect(verifyCommitmentBranch(encoded.root, encoded.length, 1 - blob, encoded.commitments[blob], branch)).toBe(false);
      expect(verifyCommitmentBranch(encoded.root, encoded.length + 1, blob, encoded.commitments[blob], branch)).toBe(false);
    }
  });
});

describe("cell verification", () => {
  it("accepts any subset of cells across blobs in one batch", () => {
    const subset = cellsOf(encoded, (blob, index) => (index * 7 + blob) % 5 === 0);
    expect(subset.length).toBeGreaterThan(40);
    expect(verifyCells(encoded.commitments, subset)).toEqual({ ok: true });
    expect(
      verifyCells(
        encoded.commitments,
        cellsOf(encoded, () => true),
      ),
    ).toEqual({ ok: true });
  });

  it("names every bad cell or proof by blob and index", () => {
    const subset = cellsOf(encoded, (_blob, index) => index % 4 === 1);
    const tamperedCell = subset.findIndex((c) => c.blob === 1 && c.index === 33);
    const tamperedProof = subset.findIndex((c) => c.blob === 0 && c.index === 101);
    const cell = new Uint8Array(subset[tamperedCell].cell);
    cell[100] ^= 1;
    subset[tamperedCell] = { ...subset[tamperedCell], cell };
    subset[tamperedProof] = { ...subset[tamperedProof], proof: encoded.blobs[0].proofs[5] };
    const verdict = verifyCells(encoded.commitments, subset);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) {
      expect(verdict.bad).toEqual(
        expect.arrayContaining([
          { blob: 1, index: 33 },
          { blob: 0, index: 101 },
        ]),
      );
      expect(verdict.bad.length).toBe(2);
    }
    try {
      assertCellsValid(encoded.commitments, subset);
      expect.unreachable("tampered batch must throw");
    } catch (err) {
      expect(err).toMatchObject({ code: DaErrorCode.INVALID_CELL_PROOF });
      expect((err as { data: { bad: unknown[] } }).data.bad.length).toBe(2);
    }
  });

  it("rejects a cell claimed for the wrong blob or index", () => {
    const c = cellsOf(encoded, (blob, index) => blob === 0 && index === 9)[0];
    expect(verifyCells(encoded.commitments, [{ ...c, blob: 1 }])).toEqual({ ok: false, bad: [{ blob: 1, index: 9 }] });
    expect(verifyCells(encoded.commitments, [{ ...c, index: 10 }])).toEqual({ ok: false, bad: [{ blob: 0, index: 10 }] });
  });

  it("treats undecodable proofs as bad cells, malformed shapes as coded errors", () => {
    const c = cellsOf(encoded, (blob, index) => blob === 1 && index === 0)[0];
    expect(verifyCells(encoded.commitments, [{ ...c, proof: new Uint8Array(48).fill(0xaa) }])).toEqual({
      ok: false,
      bad: [{ blob: 1, index: 0 }],
    });
    expect(() => verifyCells(encoded.commitments, [{ ...c, cell: new Uint8Array(10) }])).toThrow(
      expect.objectContaining({ code: DaErrorCode.INVALID_LENGTH, data: { blob: 1, index: 0 } }),
    );
    expect(() => verifyCells(encoded.commitments, [{ ...c, index: 128 }])).toThrow(
      expect.objectContaining({ code: DaErrorCode.INVALID_INDEX }),
    );
    expect(() => verifyCells(encoded.commitments, [{ ...c, blob: 2 }])).toThrow(
      expect.objectContaining({ code: DaErrorCode.INVALID_INDEX }),
    );
  });
});

describe("recovery", () => {
  it("recovers all cells and proofs of a blob from any 64 cells", () => {
    const keep = randomHalf(3);
    const given = cellsOf(encoded, (blob, index) => blob === 1 && keep.has(index));
    const out = recoverCells(
      given.map((c) => c.index),
      given.map((c) => c.cell),
    );
    expect(out.cells.map((c) => Buffer.from(c))).toEqual(encoded.blobs[1].cells.map((c) => Buffer.from(c)));
    expect(out.proofs.map((p) => Buffer.from(p))).toEqual(encoded.blobs[1].proofs.map((p) => Buffer.from(p)));
  });

  it("decodes the exact payload from a random half of each blob's cells", () => {
    const keep = [randomHalf(11), randomHalf(12)];
    const given = cellsOf(encoded, (blob, index) => keep[blob].has(index));
    expect(recoverPayload(payloadHeader(encoded), given)).toEqual(payload);
  });

  it("decodes from the systematic half without recomputing", () => {
    expect(
      recoverPayload(
        payloadHeader(encoded),
        cellsOf(encoded, (_b, index) => index < 64),
      ),
    ).toEqual(payload);
  });

  it("refuses with 63 cells and names the blob", () => {
    const given = cellsOf(encoded, (blob, index) => (blob === 0 ? index < 64 : index >= 65));
    expect(() => recoverPayload(payloadHeader(encoded), given)).toThrow(
      expect.objectContaining({ code: DaErrorCode.NOT_ENOUGH_CELLS, data: { blob: 1, have: 63 } }),
    );
  });

  it("names a bad cell offered for recovery", () => {
    const given = cellsOf(encoded, (_b, index) => index >= 64);
    const i = given.findIndex((c) => c.blob === 0 && c.index === 77);
    const cell = new Uint8Array(given[i].cell);
    cell[2047] ^= 0x10;
    given[i] = { ...given[i], cell };
    expect(() => recoverPayload(payloadHeader(encoded), given)).toThrow(
      expect.objectContaining({ code: DaErrorCode.INVALID_CELL_PROOF, data: expect.objectContaining({ blob: 0, index: 77 }) }),
    );
  });

  it("encodes and recovers the empty payload", () => {
    const empty = encodePayload(new Uint8Array(0));
    expect(empty.blobs.length).toBe(1);
    const given = cellsOf(empty, (_b, index) => index % 2 === 1);
    expect(recoverPayload(payloadHeader(empty), given)).toEqual(new Uint8Array(0));
  });
});
