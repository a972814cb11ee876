import { createRequire } from "node:module";
import type { CustomCrypto } from "@ethereumjs/common";
import type { KZG } from "@ethereumjs/util";
import { bytesToHex, hexToBytes } from "@zgnode/utils";

const require = createRequire(import.meta.url);

type CKzg = {
  loadTrustedSetup(precompute: number, filePath?: string): void;
  blobToKzgCommitment(blob: Uint8Array): Uint8Array;
  computeBlobKzgProof(blob: Uint8Array, commitment: Uint8Array): Uint8Array;
  verifyKzgProof(commitment: Uint8Array, z: Uint8Array, y: Uint8Array, proof: Uint8Array): boolean;
  verifyBlobKzgProofBatch(blobs: Uint8Array[], commitments: Uint8Array[], proofs: Uint8Array[]): boolean;
  computeCells(blob: Uint8Array): Uint8Array[];
  computeCellsAndKzgProofs(blob: Uint8Array): [Uint8Array[], Uint8Array[]];
  recoverCellsAndKzgProofs(indices: number[], cells: Uint8Array[]): [Uint8Array[], Uint8Array[]];
  verifyCellKzgProofBatch(commitments: Uint8Array[], indices: number[], cells: Uint8Array[], proofs: Uint8Array[]): boolean;
};

let kzg: KZG | undefined;

/**
 * The KZG backend for blob transactions: c-kzg (native, with the mainnet trusted setup bundled), adapted to the
 * hex-string interface `@ethereumjs` expects in `common.customCrypto.kzg`. Without it, decoding a block that holds a
 * blob transaction throws. Loaded once per process (the trusted setup is global in c-kzg).
 */
export function getKzg(): KZG {
  if (kzg) return kzg;
  const c = require("c-kzg") as CKzg;
  try {
    c.loadTrustedSetup(0);
  } catch (err) {
    // Already loaded by another user in this process.
    if (!/already loaded/i.test((err as Error).message)) throw err;
  }
  const b = hexToBytes;
  const h = (x: Uint8Array): string => bytesToHex(x);
  kzg = {
    blobToKzgCommitment: (blob) => h(c.blobToKzgCommitment(b(blob))),
    computeBlobProof: (blob, commitment) => h(c.computeBlobKzgProof(b(blob), b(commitment))),
    verifyProof: (commitment, z, y, proof) => c.verifyKzgProof(b(commitment), b(z), b(y), b(proof)),
    verifyBlobProofBatch: (blobs, commitments, proofs) =>
      c.verifyBlobKzgProofBatch(blobs.map(b), commitments.map(b), proofs.map(b)),
    computeCells: (blob) => c.computeCells(b(blob)).map(h),
    computeCellsAndProofs: (blob) => {
      const [cells, proofs] = c.computeCellsAndKzgProofs(b(blob));
      return [cells.map(h), proofs.map(h)];
    },
    recoverCellsAndProofs: (indices, cells) => {
      const [rc, rp] = c.recoverCellsAndKzgProofs(indices, cells.map(b));
      return [rc.map(h), rp.map(h)];
    },
    verifyCellKzgProofBatch: (commitments, indices, cells, proofs) =>
      c.verifyCellKzgProofBatch(commitments.map(b), indices, cells.map(b), proofs.map(b)),
  };
  return kzg;
}

/** The crypto hooks every `Common` of this node carries. */
export function createCustomCrypto(): CustomCrypto {
  return { kzg: getKzg() };
}
