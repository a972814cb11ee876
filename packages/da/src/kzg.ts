import ckzg from "c-kzg";
import {
  BYTES_PER_BLOB,
  BYTES_PER_CELL,
  BYTES_PER_COMMITMENT,
  BYTES_PER_PROOF,
  CELLS_FOR_RECOVERY,
  CELLS_PER_BLOB,
} from "./constants.ts";
import { DaError, DaErrorCode } from "./errors.ts";

/**
 * Thin layer over c-kzg (EIP-4844/7594 reference implementation in C, Ethereum ceremony setup bundled in the
 * package). Every call is synchronous native code on the calling thread: use `KzgWorkerPool` for bulk work.
 *
 * Why c-kzg over @crate-crypto/node-eth-kzg: both are single-threaded per call and measured within noise of each
 * other here (cells+proofs ~0.2-0.3 s per blob; bench:da prints both side by side); c-kzg is the spec reference,
 * builds offline from source with its setup in the package, and its addon is context-aware so each worker thread
 * loads its own instance.
 */

/** A blob extended into 128 cells, with one KZG proof per cell and the blob's commitment. */
export interface EncodedBlob {
  commitment: Uint8Array;
  cells: Uint8Array[];
  proofs: Uint8Array[];
}

let loadedPrecompute: number | undefined;

/** Loads the bundled Ethereum trusted setup once per thread. Later calls are no-ops whatever their level. */
export function loadKzg(precompute = 8): void {
  if (loadedPrecompute !== undefined) return;
  if (!Number.isInteger(precompute) || precompute < 0 || precompute > 15) {
    throw new DaError(DaErrorCode.INVALID_ARGUMENT, `KZG precompute must be an integer in 0..15, got ${precompute}`);
  }
  try {
    ckzg.loadTrustedSetup(precompute);
  } catch (err) {
    // Another module of this thread (an execution client, say) may have loaded it first: that setup is the same.
    if (!(err instanceof Error && err.message.includes("already loaded"))) {
      throw new DaError(DaErrorCode.KZG_FAILURE, "cannot load the KZG trusted setup", undefined, { cause: err });
    }
  }
  loadedPrecompute = precompute;
}

export function kzgPrecomputeLoaded(): number | undefined {
  return loadedPrecompute;
}

function checkLength(bytes: Uint8Array, length: number, what: string, data?: Record<string, unknown>): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new DaError(DaErrorCode.INVALID_LENGTH, `${what} must be ${length} bytes`, data);
  }
}

function native<T>(what: string, fn: () => T, data?: Record<string, unknown>): T {
  loadKzg();
  try {
    return fn();
  } catch (err) {
    throw new DaError(DaErrorCode.KZG_FAILURE, `KZG ${what} failed: ${(err as Error).message}`, data, { cause: err });
  }
}

export function blobToCommitment(blob: Uint8Array): Uint8Array {
  checkLength(blob, BYTES_PER_BLOB, "blob");
  return native("commitment", () => ckzg.blobToKzgCommitment(blob));
}

/** Commitment, 128 cells and 128 cell proofs of one blob (the expensive step: FK20 proofs). */
export function encodeBlob(blob: Uint8Array): EncodedBlob {
  checkLength(blob, BYTES_PER_BLOB, "blob");
  return native("encoding", () => {
    const commitment = ckzg.blobToKzgCommitment(blob);
    const [cells, proofs] = ckzg.computeCellsAndKzgProofs(blob);
    return { commitment, cells, proofs };
  });
}

/** Recomputes all 128 cells and proofs from any 64 or more distinct cells of one blob. */
export function recoverCells(indices: number[], cells: Uint8Array[]): { cells: Uint8Array[]; proofs: Uint8Array[] } {
  checkRecoveryInput(indices, cells);
  return native("recovery", () => {
    const [all, proofs] = ckzg.recoverCellsAndKzgProofs(indices, cells);
    return { cells: all, proofs };
  });
}

export function checkRecoveryInput(indices: number[], cells: Uint8Array[]): void {
  if (indices.length !== cells.length) {
    throw new DaError(DaErrorCode.INVALID_ARGUMENT, "cell indices and cells differ in count");
  }
  const seen = new Set<number>();
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i];
    if (!Number.isInteger(index) || index < 0 || index >= CELLS_PER_BLOB || seen.has(index)) {
      throw new DaError(DaErrorCode.INVALID_INDEX, `cell index ${index} is out of range or repeated`, { index });
    }
    seen.add(index);
    checkLength(cells[i], BYTES_PER_CELL, "cell", { index });
  }
  if (seen.size < CELLS_FOR_RECOVERY) {
    throw new DaError(DaErrorCode.NOT_ENOUGH_CELLS, `recovery needs ${CELLS_FOR_RECOVERY} distinct cells, got ${seen.size}`, {
      have: seen.size,
    });
  }
}

/**
 * One batched pairing check over any set of cells. Inputs the library rejects (points off the curve, scalars
 * above the modulus) count as invalid rather than throwing: they come from peers.
 */
export function verifyCellBatch(
  commitments: Uint8Array[],
  indices: number[],
  cells: Uint8Array[],
  proofs: Uint8Array[],
): boolean {
  if (cells.length === 0) return true;
  loadKzg();
  for (let i = 0; i < cells.length; i++) {
    if (
      commitments[i]?.length !== BYTES_PER_COMMITMENT ||
      cells[i]?.length !== BYTES_PER_CELL ||
      proofs[i]?.length !== BYTES_PER_PROOF
    ) {
      return false;
    }
  }
  try {
    return ckzg.verifyCellKzgProofBatch(commitments, indices, cells, proofs);
  } catch {
    return false;
  }
}
