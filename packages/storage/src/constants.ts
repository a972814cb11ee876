import { getKeccakBatch } from "@zgnode/crypto";

/** One chunk (= flow sector = entry): the Merkle leaf unit. */
export const CHUNK_SIZE = 256;
/** Chunks per segment: the unit of upload, download, proof and sharding. */
export const CHUNKS_PER_SEGMENT = 1024;
/** 256 KiB. */
export const SEGMENT_SIZE = CHUNK_SIZE * CHUNKS_PER_SEGMENT;
/** log2(CHUNKS_PER_SEGMENT): a segment root sits this many levels above its chunk leaves. */
export const SEGMENT_TREE_DEPTH = 10;
/** The contract caps a submission at this many nodes (MAX_LENGTH in Submission.sol). */
export const MAX_SUBMISSION_NODES = 4;

let zeroHashes: Uint8Array[] | undefined;

/**
 * `Z[h]`: the root of a perfect tree of 2^h all-zero chunks (Z[0] = keccak of 256 zero bytes); the contract
 * hard-codes the same 64 values (FlowTreeLib.zeros). Derived once, on first use.
 */
export function zeroHash(height: number): Uint8Array {
  if (zeroHashes === undefined) {
    const k = getKeccakBatch();
    const hs = [k.hashBatch(new Uint8Array(CHUNK_SIZE), CHUNK_SIZE)];
    const pair = new Uint8Array(64);
    for (let h = 1; h < 64; h++) {
      pair.set(hs[h - 1], 0);
      pair.set(hs[h - 1], 32);
      hs.push(k.hashBatch(pair, 64));
    }
    zeroHashes = hs;
  }
  const z = zeroHashes[height];
  if (z === undefined) throw new RangeError(`zero hash height ${height} out of range 0..63`);
  return z;
}
