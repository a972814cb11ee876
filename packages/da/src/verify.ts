import { equalBytes } from "@zgnode/utils";
import { computePayloadRoot } from "./commitment.ts";
import { BYTES_PER_CELL, BYTES_PER_PROOF, CELLS_PER_BLOB } from "./constants.ts";
import { DaError, DaErrorCode } from "./errors.ts";
import { verifyCellBatch } from "./kzg.ts";
import type { PayloadHeader } from "./payload.ts";

/** Coordinates of a cell in a payload: blob (row) and cell index (column, 0..127). */
export interface CellCoordinate {
  blob: number;
  index: number;
}

/** A cell with its proof, as sent between nodes. */
export interface CellWithProof extends CellCoordinate {
  cell: Uint8Array;
  proof: Uint8Array;
}

export type CellVerdict = { ok: true } | { ok: false; bad: CellCoordinate[] };

/** Checks that the header's commitments hash to its root (cheap; do it once per header received). */
export function verifyPayloadHeader(header: PayloadHeader): void {
  let root: Uint8Array;
  try {
    root = computePayloadRoot(header.commitments, header.length);
  } catch (err) {
    throw new DaError(DaErrorCode.ROOT_MISMATCH, "payload header is malformed", undefined, { cause: err });
  }
  if (!equalBytes(root, header.root)) {
    throw new DaError(DaErrorCode.ROOT_MISMATCH, "blob commitments do not hash to the payload root");
  }
}

export function checkCellShape(commitments: Uint8Array[], c: CellWithProof): void {
  const at = { blob: c.blob, index: c.index };
  if (!Number.isInteger(c.blob) || c.blob < 0 || c.blob >= commitments.length) {
    throw new DaError(DaErrorCode.INVALID_INDEX, `blob ${c.blob} is out of range`, at);
  }
  if (!Number.isInteger(c.index) || c.index < 0 || c.index >= CELLS_PER_BLOB) {
    throw new DaError(DaErrorCode.INVALID_INDEX, `cell index ${c.index} is out of range`, at);
  }
  if (!(c.cell instanceof Uint8Array) || c.cell.length !== BYTES_PER_CELL) {
    throw new DaError(DaErrorCode.INVALID_LENGTH, `cell (${c.blob}, ${c.index}) must be ${BYTES_PER_CELL} bytes`, at);
  }
  if (!(c.proof instanceof Uint8Array) || c.proof.length !== BYTES_PER_PROOF) {
    throw new DaError(DaErrorCode.INVALID_LENGTH, `proof (${c.blob}, ${c.index}) must be ${BYTES_PER_PROOF} bytes`, at);
  }
}

function batchOk(commitments: Uint8Array[], cells: CellWithProof[]): boolean {
  return verifyCellBatch(
    cells.map((c) => commitments[c.blob]),
    cells.map((c) => c.index),
    cells.map((c) => c.cell),
    cells.map((c) => c.proof),
  );
}

/**
 * Verifies any subset of cells (of any blobs) in one batched check. When the batch fails, bisection finds every bad
 * cell: k bad cells among n cost O(k log n) further batches, and an honest batch costs exactly one.
 * Malformed input (lengths, indices) throws `DA_INVALID_LENGTH`/`DA_INVALID_INDEX` naming the cell.
 */
export function verifyCells(commitments: Uint8Array[], cells: CellWithProof[]): CellVerdict {
  for (const c of cells) checkCellShape(commitments, c);
  if (batchOk(commitments, cells)) return { ok: true };
  const bad: CellCoordinate[] = [];
  const search = (part: CellWithProof[]): void => {
    if (part.length === 1) {
      bad.push({ blob: part[0].blob, index: part[0].index });
      return;
    }
    const mid = part.length >> 1;
    for (const half of [part.slice(0, mid), part.slice(mid)]) if (!batchOk(commitments, half)) search(half);
  };
  search(cells);
  return { ok: false, bad };
}

/** Like `verifyCells`, but throws `DA_INVALID_CELL_PROOF` naming the first bad cell (all of them in `data.bad`). */
export function assertCellsValid(commitments: Uint8Array[], cells: CellWithProof[]): void {
  const verdict = verifyCells(commitments, cells);
  if (!verdict.ok) {
    const first = verdict.bad[0];
    throw new DaError(
      DaErrorCode.INVALID_CELL_PROOF,
      `cell (blob ${first.blob}, index ${first.index}) does not match its proof and commitment`,
      { blob: first.blob, index: first.index, bad: verdict.bad },
    );
  }
}
