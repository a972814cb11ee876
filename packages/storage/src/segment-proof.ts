import { getKeccakBatch, type KeccakBatch } from "@zgnode/crypto";
import { bytesToHex, equalBytes, hexToBytes, isHex } from "@zgnode/utils";
import { CHUNK_SIZE, CHUNKS_PER_SEGMENT, SEGMENT_SIZE, SEGMENT_TREE_DEPTH, zeroHash } from "./constants.ts";
import { StorageError, StorageErrorCode } from "./errors.ts";
import { chunksOf, type MerkleProof, nextPow2, paddedChunks, proofPosition } from "./merkle.ts";

/** A segment as uploaded or served: `index` is file-relative, `fileSize` in bytes. */
export interface SegmentWithProof {
  root: Uint8Array;
  data: Uint8Array;
  index: number;
  proof: MerkleProof;
  fileSize: number;
}

/** JSON shape of a proof on the wire (`zgs_*` RPC and SDKs). */
export interface MerkleProofJson {
  lemma: string[];
  path: boolean[];
}

export function proofToJson(p: MerkleProof): MerkleProofJson {
  return { lemma: p.lemma.map((h) => bytesToHex(h)), path: [...p.path] };
}

export function proofFromJson(j: unknown): MerkleProof {
  const fail = (why: string): never => {
    throw new StorageError(StorageErrorCode.PROOF_FORMAT, `invalid proof JSON: ${why}`);
  };
  if (typeof j !== "object" || j === null) return fail("not an object");
  const { lemma, path } = j as { lemma?: unknown; path?: unknown };
  if (!Array.isArray(lemma) || !Array.isArray(path)) return fail("lemma and path must be arrays");
  const hashes = lemma.map((h) => {
    if (typeof h !== "string" || !isHex(h) || h.length !== 66)
      return fail(`lemma entry ${String(h).slice(0, 80)} is not a 32-byte hex`);
    return hexToBytes(h);
  });
  if (!path.every((b) => typeof b === "boolean")) fail("path entries must be booleans");
  return { lemma: hashes, path: path as boolean[] };
}

/** JSON shape of `SegmentWithProof` in the `zgs_*` RPC: data in base64, hashes in 0x hex, `fileSize` in bytes. */
export interface SegmentWithProofJson {
  root: string;
  data: string;
  index: number;
  proof: MerkleProofJson;
  fileSize: number;
}

export function segmentWithProofToJson(s: SegmentWithProof): SegmentWithProofJson {
  return {
    root: bytesToHex(s.root),
    data: Buffer.from(s.data.buffer, s.data.byteOffset, s.data.byteLength).toString("base64"),
    index: s.index,
    proof: proofToJson(s.proof),
    fileSize: s.fileSize,
  };
}

/** Parses the RPC shape; throws PROOF_FORMAT / SEGMENT_SIZE / SEGMENT_INDEX coded errors on malformed input. */
export function segmentWithProofFromJson(j: unknown): SegmentWithProof {
  if (typeof j !== "object" || j === null) throw new StorageError(StorageErrorCode.PROOF_FORMAT, "segment must be an object");
  const o = j as Record<string, unknown>;
  if (typeof o.root !== "string" || !isHex(o.root) || o.root.length !== 66) {
    throw new StorageError(StorageErrorCode.PROOF_FORMAT, "root must be a 32-byte 0x hex string");
  }
  if (typeof o.data !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(o.data)) {
    throw new StorageError(StorageErrorCode.SEGMENT_SIZE, "data must be base64");
  }
  if (typeof o.index !== "number" || !Number.isSafeInteger(o.index) || o.index < 0) {
    throw new StorageError(StorageErrorCode.SEGMENT_INDEX, "index must be a non-negative integer");
  }
  if (typeof o.fileSize !== "number" || !Number.isSafeInteger(o.fileSize) || o.fileSize <= 0) {
    throw new StorageError(StorageErrorCode.SEGMENT_SIZE, "fileSize must be a positive integer");
  }
  const data = Buffer.from(o.data, "base64");
  return {
    root: hexToBytes(o.root),
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    index: o.index,
    proof: proofFromJson(o.proof),
    fileSize: o.fileSize,
  };
}

/** Expected geometry of segment `index` of a file of `fileSize` bytes. */
export function segmentGeometry(fileSize: number): {
  dataSegments: number;
  proofLeaves: number;
  paddedChunks: number;
  lastSegmentBytes: number;
} {
  if (!Number.isSafeInteger(fileSize) || fileSize <= 0) {
    throw new StorageError(StorageErrorCode.SEGMENT_SIZE, `file size ${fileSize} must be a positive integer`);
  }
  const c = chunksOf(fileSize);
  const p = paddedChunks(c);
  const dataSegments = Math.ceil(fileSize / SEGMENT_SIZE);
  const rem = fileSize - (dataSegments - 1) * SEGMENT_SIZE;
  return {
    dataSegments,
    proofLeaves: Math.ceil(p / CHUNKS_PER_SEGMENT),
    paddedChunks: p,
    lastSegmentBytes: Math.ceil(rem / CHUNK_SIZE) * CHUNK_SIZE,
  };
}

/**
 * Checks a segment the way the 0G storage node checks an upload (node/rpc/src/types.rs `SegmentWithProof::validate`):
 * 1. size and index: non-last segments are exactly 256 KiB, the last is its remainder rounded up to whole chunks;
 * 2. proof format: `lemma = [root]` with an empty path, or `len(lemma) = len(path) + 2`;
 * 3. position: the path must denote `index` in a tree of ceil(paddedChunks / 1024) leaves;
 * 4. content: the segment root (chunks plus zero chunks up to the segment's padded length) equals `lemma[0]`;
 * 5. hashes: folding the siblings along the path reproduces `lemma[last]`, which must equal `root`;
 * 6. padding: a right sibling lying wholly in the padding range must equal the zero-subtree hash of its height.
 * Every failure throws a StorageError with a distinct code.
 */
export function validateSegmentWithProof(seg: SegmentWithProof, keccak: KeccakBatch = getKeccakBatch()): void {
  const g = segmentGeometry(seg.fileSize);
  const { data, index, proof } = seg;
  if (!Number.isInteger(index) || index < 0 || index >= g.dataSegments) {
    throw new StorageError(StorageErrorCode.SEGMENT_INDEX, `segment index ${index} out of range 0..${g.dataSegments - 1}`, {
      index,
    });
  }
  const wantBytes = index === g.dataSegments - 1 ? g.lastSegmentBytes : SEGMENT_SIZE;
  if (data.length !== wantBytes) {
    throw new StorageError(StorageErrorCode.SEGMENT_SIZE, `segment ${index} has ${data.length} bytes, expected ${wantBytes}`, {
      index,
      got: data.length,
      want: wantBytes,
    });
  }
  if (seg.root.length !== 32) throw new StorageError(StorageErrorCode.PROOF_FORMAT, "file root must be 32 bytes");
  const { lemma, path } = proof;
  const formatOk = path.length === 0 ? lemma.length === 1 : lemma.length === path.length + 2;
  if (!formatOk || lemma.some((h) => !(h instanceof Uint8Array) || h.length !== 32)) {
    throw new StorageError(StorageErrorCode.PROOF_FORMAT, `proof has ${lemma.length} lemma hashes for ${path.length} path steps`);
  }
  const position = proofPosition(path, g.proofLeaves);
  if (position !== index) {
    throw new StorageError(StorageErrorCode.PROOF_POSITION, `proof is for position ${position}, not segment ${index}`, {
      position,
      index,
    });
  }

  // The segment's length in the padded file: full, except the final proof leaf, which holds paddedChunks mod 1024.
  const expectedChunks = index === g.proofLeaves - 1 ? g.paddedChunks - index * CHUNKS_PER_SEGMENT : CHUNKS_PER_SEGMENT;
  let content = data;
  if (expectedChunks * CHUNK_SIZE > data.length) {
    content = new Uint8Array(expectedChunks * CHUNK_SIZE);
    content.set(data);
  }
  const leaf = keccak.segmentRoots(content, CHUNK_SIZE, CHUNKS_PER_SEGMENT);
  if (!equalBytes(leaf, lemma[0])) {
    throw new StorageError(StorageErrorCode.PROOF_CONTENT, `segment ${index} data does not match the proof leaf`, { index });
  }
  const claimedRoot = lemma[lemma.length - 1];
  if (path.length > 0) {
    let running = lemma[0];
    const pair = new Uint8Array(64);
    for (let i = 0; i < path.length; i++) {
      const sibling = lemma[i + 1];
      pair.set(path[i] ? running : sibling, 0);
      pair.set(path[i] ? sibling : running, 32);
      running = keccak.hashBatch(pair, 64);
    }
    if (!equalBytes(running, claimedRoot)) {
      throw new StorageError(StorageErrorCode.PROOF_HASH, `proof hashes do not fold to the proof's root`, { index });
    }
  }
  if (!equalBytes(claimedRoot, seg.root)) {
    throw new StorageError(
      StorageErrorCode.PROOF_ROOT,
      `proof root ${bytesToHex(claimedRoot)} is not the file root ${bytesToHex(seg.root)}`,
    );
  }
  // Rear padding: walking from the root, whenever the node is a left child its right sibling covers
  // [position + sub, ...); if that starts at or past the last data segment it is all zeros and must say so.
  let remaining = g.proofLeaves;
  let pos = 0;
  for (let k = 0; k < path.length; k++) {
    const i = path.length - 1 - k;
    const sub = nextPow2(remaining) / 2;
    if (!path[i]) {
      pos += sub;
      remaining -= sub;
    } else {
      remaining = sub;
      if (pos + sub >= g.dataSegments) {
        const depth = Math.log2(sub) + SEGMENT_TREE_DEPTH;
        if (!equalBytes(lemma[i + 1], zeroHash(depth))) {
          throw new StorageError(
            StorageErrorCode.PROOF_PADDING,
            `proof node at depth ${depth} in the padding range is not the zero hash`,
            {
              index,
            },
          );
        }
      }
    }
  }
}
