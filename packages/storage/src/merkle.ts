import { getKeccakBatch, type KeccakBatch } from "@zgnode/crypto";
import { CHUNK_SIZE, CHUNKS_PER_SEGMENT } from "./constants.ts";
import { StorageError, StorageErrorCode } from "./errors.ts";

/** Smallest power of two >= n (1 for n <= 1); exact for every safe integer. */
export function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Chunks needed to hold `bytes` bytes. */
export function chunksOf(bytes: number): number {
  return Math.ceil(bytes / CHUNK_SIZE);
}

/**
 * Flow padding: the chunk count a file of `chunks` chunks occupies on the flow. At most 1/16 of the next power
 * of two is padding, so the padded size is a sum of at most four distinct powers of two (the submission nodes).
 */
export function paddedChunks(chunks: number): number {
  if (!Number.isSafeInteger(chunks) || chunks < 1) {
    throw new StorageError(StorageErrorCode.EMPTY_FILE, `a file must hold at least one chunk (got ${chunks})`);
  }
  const p2 = nextPow2(chunks);
  if (p2 === chunks) return chunks;
  const minChunk = p2 >= 16 ? p2 / 16 : 1;
  return Math.ceil(chunks / minChunk) * minChunk;
}

/** Chunk counts of the submission nodes for a file of `chunks` chunks, largest first (each a power of two). */
export function splitNodeChunks(chunks: number): number[] {
  let remaining = paddedChunks(chunks);
  const nodes: number[] = [];
  for (let size = nextPow2(chunks); remaining > 0; size /= 2) {
    if (remaining >= size) {
      nodes.push(size);
      remaining -= size;
    }
  }
  return nodes;
}

/**
 * The levels of a "promote the odd node" binary tree: level 0 holds the leaf hashes (32 bytes each,
 * concatenated); each level above pairs neighbours left to right and carries a lone last node up unchanged.
 */
export class MerkleLevels {
  readonly levels: Uint8Array[];

  constructor(levels: Uint8Array[]) {
    this.levels = levels;
  }

  static build(leaves: Uint8Array, keccak: KeccakBatch = getKeccakBatch()): MerkleLevels {
    if (leaves.length === 0 || leaves.length % 32 !== 0) {
      throw new StorageError(StorageErrorCode.INVALID_ARGUMENT, `tree leaves must be one or more 32-byte hashes`);
    }
    const levels = [leaves];
    let level = leaves;
    while (level.length > 32) {
      const n = level.length / 32;
      const pairs = n >>> 1;
      const next = new Uint8Array((pairs + (n & 1)) * 32);
      keccak.hashBatch(level.subarray(0, pairs * 64), 64, next);
      if (n & 1) next.set(level.subarray((n - 1) * 32), pairs * 32);
      levels.push(next);
      level = next;
    }
    return new MerkleLevels(levels);
  }

  get leafCount(): number {
    return this.levels[0].length / 32;
  }

  root(): Uint8Array {
    return this.levels[this.levels.length - 1].slice(0, 32);
  }

  leaf(i: number): Uint8Array {
    return this.levels[0].slice(i * 32, i * 32 + 32);
  }

  /** The proof of leaf `i`: `lemma = [leaf, siblings bottom-up..., root]`, `path[k]` true when the node is a left child. */
  proof(i: number): MerkleProof {
    const n = this.leafCount;
    if (!Number.isInteger(i) || i < 0 || i >= n) {
      throw new StorageError(StorageErrorCode.SEGMENT_INDEX, `leaf ${i} out of range 0..${n - 1}`);
    }
    if (n === 1) return { lemma: [this.root()], path: [] };
    const lemma = [this.leaf(i)];
    const path: boolean[] = [];
    let idx = i;
    for (let l = 0; l < this.levels.length - 1; l++) {
      const count = this.levels[l].length / 32;
      if (idx % 2 === 1) {
        lemma.push(this.levels[l].slice((idx - 1) * 32, idx * 32));
        path.push(false);
      } else if (idx + 1 < count) {
        lemma.push(this.levels[l].slice((idx + 1) * 32, (idx + 2) * 32));
        path.push(true);
      } // else: promoted unchanged, no sibling at this level
      idx >>>= 1;
    }
    lemma.push(this.root());
    return { lemma, path };
  }
}

/** A file proof as 0G nodes and SDKs exchange it (hashes as bytes here; JSON uses 0x hex). */
export interface MerkleProof {
  lemma: Uint8Array[];
  path: boolean[];
}

/**
 * The leaf position a proof path denotes in a promote-odd tree of `leafCount` leaves (walking from the root:
 * the left subtree always holds nextPow2(remaining)/2 leaves). Throws when the path does not fit the tree.
 */
export function proofPosition(path: readonly boolean[], leafCount: number): number {
  let remaining = leafCount;
  let position = 0;
  for (let i = path.length - 1; i >= 0; i--) {
    if (remaining <= 1) {
      throw new StorageError(StorageErrorCode.PROOF_POSITION, `proof path too long for a tree of ${leafCount} leaves`);
    }
    const sub = nextPow2(remaining) / 2;
    if (path[i]) {
      remaining = sub;
    } else {
      position += sub;
      remaining -= sub;
    }
  }
  if (remaining !== 1) {
    throw new StorageError(StorageErrorCode.PROOF_POSITION, `proof path too short for a tree of ${leafCount} leaves`);
  }
  return position;
}

/** Root over the chunks of `data` (whole 256-byte chunks) with the promote-odd rule. */
export function chunkTreeRoot(data: Uint8Array, keccak: KeccakBatch = getKeccakBatch()): Uint8Array {
  return keccak.segmentRoots(data, CHUNK_SIZE, 65536).slice(0, 32);
}

/** Root of one segment's worth of chunks (at most 1024). */
export function segmentRoot(data: Uint8Array, keccak: KeccakBatch = getKeccakBatch()): Uint8Array {
  if (data.length === 0 || data.length % CHUNK_SIZE !== 0 || data.length > CHUNK_SIZE * CHUNKS_PER_SEGMENT) {
    throw new StorageError(StorageErrorCode.SEGMENT_SIZE, `segment data must be 1..1024 whole chunks (got ${data.length} bytes)`);
  }
  return keccak.segmentRoots(data, CHUNK_SIZE, CHUNKS_PER_SEGMENT).slice(0, 32);
}
