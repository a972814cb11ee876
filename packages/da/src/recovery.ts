import { CELLS_FOR_RECOVERY, CELLS_PER_BLOB } from "./constants.ts";
import { DaError, DaErrorCode } from "./errors.ts";
import { blobCountForLength, blobsToPayload } from "./framing.ts";
import { recoverCells } from "./kzg.ts";
import type { PayloadHeader } from "./payload.ts";
import { assertCellsValid, type CellWithProof, verifyPayloadHeader } from "./verify.ts";

/**
 * The extension is systematic: cells 0..63 of a blob, concatenated, are the blob itself (EIP-7594 evaluates the
 * blob polynomial on the bit-reversed 8192-point domain whose first half is the blob's own 4096-point domain).
 */
export function blobFromCells(cells: Uint8Array[]): Uint8Array {
  const blob = new Uint8Array(CELLS_FOR_RECOVERY * cells[0].length);
  for (let i = 0; i < CELLS_FOR_RECOVERY; i++) blob.set(cells[i], i * cells[i].length);
  return blob;
}

/** Rebuilds one blob from any 64 or more of its cells (already verified by the caller). */
export function recoverBlob(indices: number[], cells: Uint8Array[]): Uint8Array {
  const byIndex = new Map<number, Uint8Array>();
  for (let i = 0; i < indices.length; i++) byIndex.set(indices[i], cells[i]);
  let systematic = true;
  for (let i = 0; i < CELLS_FOR_RECOVERY && systematic; i++) systematic = byIndex.has(i);
  if (systematic) {
    return blobFromCells(Array.from({ length: CELLS_FOR_RECOVERY }, (_, i) => byIndex.get(i) as Uint8Array));
  }
  return blobFromCells(recoverCells(indices, cells).cells);
}

export interface RecoverPayloadOptions {
  /** Verify every given cell against the header before use (default true; skip only for cells you verified). */
  verify?: boolean;
}

/**
 * Decodes the exact payload from any ≥ 64 cells of each blob. Checks the header against its root and, unless told
 * not to, every cell against its proof (a bad one is named: `DA_INVALID_CELL_PROOF` with blob and index).
 */
export function recoverPayload(header: PayloadHeader, cells: CellWithProof[], opts: RecoverPayloadOptions = {}): Uint8Array {
  verifyPayloadHeader(header);
  if (opts.verify !== false) assertCellsValid(header.commitments, cells);
  const blobCount = blobCountForLength(header.length);
  const perBlob: Array<Map<number, Uint8Array>> = Array.from({ length: blobCount }, () => new Map());
  for (const c of cells) {
    if (!Number.isInteger(c.blob) || c.blob < 0 || c.blob >= blobCount || c.index < 0 || c.index >= CELLS_PER_BLOB) {
      throw new DaError(DaErrorCode.INVALID_INDEX, `cell (${c.blob}, ${c.index}) is out of range`, {
        blob: c.blob,
        index: c.index,
      });
    }
    perBlob[c.blob].set(c.index, c.cell);
  }
  const blobs = perBlob.map((m, blob) => {
    if (m.size < CELLS_FOR_RECOVERY) {
      throw new DaError(DaErrorCode.NOT_ENOUGH_CELLS, `blob ${blob} has ${m.size} of the ${CELLS_FOR_RECOVERY} cells needed`, {
        blob,
        have: m.size,
      });
    }
    return recoverBlob([...m.keys()], [...m.values()]);
  });
  const payload = blobsToPayload(blobs);
  if (payload.length !== header.length) {
    throw new DaError(DaErrorCode.INVALID_FRAME, `decoded ${payload.length} bytes, header says ${header.length}`);
  }
  return payload;
}
