import { createRequire } from "node:module";
import type { CustomCrypto } from "@ethereumjs/common";
import { calculateSigRecovery, ecrecover as jsEcrecover, type KZG, setLengthLeft } from "@ethereumjs/util";
import { nativeKeccakBatch } from "@zgnode/crypto";
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
let cKzg: CKzg | undefined;

/** c-kzg with the trusted setup loaded (~6 s on this machine: done on first use, not at startup). */
function loadCKzg(): CKzg {
  if (cKzg) return cKzg;
  const c = require("c-kzg") as CKzg;
  try {
    c.loadTrustedSetup(0);
  } catch (err) {
    // Already loaded by another user in this process.
    if (!/already loaded/i.test((err as Error).message)) throw err;
  }
  cKzg = c;
  return c;
}

/** True once the trusted setup has been loaded (a blob was verified or computed). */
export function isKzgLoaded(): boolean {
  return cKzg !== undefined;
}

/**
 * The KZG backend for blob transactions: c-kzg (native, with the mainnet trusted setup bundled), adapted to the
 * hex-string interface `@ethereumjs` expects in `common.customCrypto.kzg`. Without it, decoding a block that holds a
 * blob transaction throws. The trusted setup loads lazily on the first KZG call.
 */
export function getKzg(): KZG {
  if (kzg) return kzg;
  const b = hexToBytes;
  const h = (x: Uint8Array): string => bytesToHex(x);
  kzg = {
    blobToKzgCommitment: (blob) => h(loadCKzg().blobToKzgCommitment(b(blob))),
    computeBlobProof: (blob, commitment) => h(loadCKzg().computeBlobKzgProof(b(blob), b(commitment))),
    verifyProof: (commitment, z, y, proof) => loadCKzg().verifyKzgProof(b(commitment), b(z), b(y), b(proof)),
    verifyBlobProofBatch: (blobs, commitments, proofs) =>
      loadCKzg().verifyBlobKzgProofBatch(blobs.map(b), commitments.map(b), proofs.map(b)),
    computeCells: (blob) => loadCKzg().computeCells(b(blob)).map(h),
    computeCellsAndProofs: (blob) => {
      const [cells, proofs] = loadCKzg().computeCellsAndKzgProofs(b(blob));
      return [cells.map(h), proofs.map(h)];
    },
    recoverCellsAndProofs: (indices, cells) => {
      const [rc, rp] = loadCKzg().recoverCellsAndKzgProofs(indices, cells.map(b));
      return [rc.map(h), rp.map(h)];
    },
    verifyCellKzgProofBatch: (commitments, indices, cells, proofs) =>
      loadCKzg().verifyCellKzgProofBatch(commitments.map(b), indices, cells.map(b), proofs.map(b)),
  };
  return kzg;
}

type NativeSecp256k1 = {
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed: boolean): Uint8Array;
};

let nativeSecp: NativeSecp256k1 | null | undefined;

/** libsecp256k1 through the `secp256k1` package's prebuilt binding, or null when it cannot load. */
export function getNativeSecp256k1(): NativeSecp256k1 | null {
  if (nativeSecp === undefined) {
    try {
      nativeSecp = require("secp256k1/bindings.js") as NativeSecp256k1;
    } catch {
      nativeSecp = null;
    }
  }
  return nativeSecp;
}

/**
 * Sender recovery with libsecp256k1: same contract as @ethereumjs/util `ecrecover` (64-byte public key, throws on
 * a bad v or signature). Recovery dominates transaction admission cost; native is several times faster than the
 * pure-JS curve (see bench/execution.bench.ts).
 */
export function nativeEcrecover(msgHash: Uint8Array, v: bigint, r: Uint8Array, s: Uint8Array, chainId?: bigint): Uint8Array {
  const secp = getNativeSecp256k1();
  if (!secp) return jsEcrecover(msgHash, v, r, s, chainId);
  const recovery = calculateSigRecovery(v, chainId);
  if (recovery !== 0n && recovery !== 1n) throw new Error("Invalid signature v value");
  const sig = new Uint8Array(64);
  sig.set(setLengthLeft(r, 32), 0);
  sig.set(setLengthLeft(s, 32), 32);
  return secp.ecdsaRecover(sig, Number(recovery), msgHash, false).subarray(1);
}

const EMPTY_KECCAK = hexToBytes("0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
let nativeKeccak: ((m: Uint8Array) => Uint8Array) | null | undefined;

/** keccak-256 through @zgnode/crypto's C addon (several times faster than JS), or null when it is not built. */
export function getNativeKeccak256(): ((m: Uint8Array) => Uint8Array) | null {
  if (nativeKeccak === undefined) {
    const batch = nativeKeccakBatch();
    nativeKeccak = batch ? (m: Uint8Array) => (m.length === 0 ? EMPTY_KECCAK.slice() : batch.hashBatch(m, m.length)) : null;
  }
  return nativeKeccak;
}

/**
 * The crypto hooks every `Common` of this node carries: KZG for blobs; native sender recovery and native keccak
 * (tries, tx hashes, KECCAK256) when their addons load, else @ethereumjs' JS defaults.
 */
export function createCustomCrypto(opts: { nativeSecp256k1?: boolean; nativeKeccak?: boolean } = {}): CustomCrypto {
  const crypto: CustomCrypto = { kzg: getKzg() };
  if ((opts.nativeSecp256k1 ?? true) && getNativeSecp256k1()) crypto.ecrecover = nativeEcrecover;
  const keccak = (opts.nativeKeccak ?? true) ? getNativeKeccak256() : null;
  if (keccak) crypto.keccak256 = keccak;
  return crypto;
}
