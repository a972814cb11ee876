import { getKeccakBatch, type KeccakBatch } from "@zgnode/crypto";
import { bytesToHex } from "@zgnode/utils";
import { CHUNK_SIZE, CHUNKS_PER_SEGMENT, SEGMENT_SIZE, SEGMENT_TREE_DEPTH, zeroHash } from "./constants.ts";
import { StorageError, StorageErrorCode } from "./errors.ts";
import { bytesSource, type FileSource, openFileSource } from "./file-source.ts";
import { chunksOf, MerkleLevels, type MerkleProof, paddedChunks, splitNodeChunks } from "./merkle.ts";
import { InlineSegmentHasher, type SegmentHasher, WorkerSegmentHasher } from "./segment-hasher.ts";
import { type Submission, type SubmissionData, type SubmissionNode, ZERO_ADDRESS } from "./submission.ts";

/** The complete Merkle description of one file as 0G defines it. */
export class FileMerkleTree {
  /** File size in bytes. */
  readonly fileSize: number;
  /** Chunks holding data: ceil(fileSize / 256). */
  readonly chunks: number;
  /** Chunks after flow padding. */
  readonly paddedChunks: number;
  /** Tree over segment roots of the padded file (proof leaves: ceil(paddedChunks / 1024)). */
  readonly segments: MerkleLevels;
  /** Submission nodes, largest first. */
  readonly nodes: SubmissionNode[];

  constructor(fileSize: number, segments: MerkleLevels, nodes: SubmissionNode[]) {
    this.fileSize = fileSize;
    this.chunks = chunksOf(fileSize);
    this.paddedChunks = paddedChunks(this.chunks);
    this.segments = segments;
    this.nodes = nodes;
  }

  /** The file root (dataRoot / tx root). */
  get root(): Uint8Array {
    return this.segments.root();
  }

  get rootHex(): string {
    return bytesToHex(this.root);
  }

  /** Segments that hold file data: ceil(chunks / 1024). Proof leaves may be more (padding-only segments). */
  get dataSegments(): number {
    return Math.ceil(this.chunks / CHUNKS_PER_SEGMENT);
  }

  get proofLeaves(): number {
    return this.segments.leafCount;
  }

  segmentRoot(index: number): Uint8Array {
    return this.segments.leaf(index);
  }

  /** Proof that segment `index` (file-relative) belongs to the file root. */
  proof(index: number): MerkleProof {
    return this.segments.proof(index);
  }

  submissionData(tags: Uint8Array = new Uint8Array(0)): SubmissionData {
    return { length: BigInt(this.fileSize), tags, nodes: this.nodes.map((n) => ({ root: n.root.slice(), height: n.height })) };
  }

  submission(tags: Uint8Array = new Uint8Array(0), submitter: string = ZERO_ADDRESS): Submission {
    return { data: this.submissionData(tags), submitter };
  }
}

export interface FileTreeOptions {
  /** Worker threads for hashing; 0 hashes on the calling thread. Default: all cores for inputs >= `workerThreshold`. */
  workers?: number;
  /** Inputs at least this large use workers when `workers` is not given (bytes). */
  workerThreshold?: number;
  /** Segments read and hashed per block (memory use is two blocks). */
  blockSegments?: number;
  /** Called after each block with the bytes hashed so far. */
  onProgress?: (doneBytes: number, totalBytes: number) => void;
  keccak?: KeccakBatch;
  /** A hasher to reuse across files (the caller closes it); overrides `workers`. */
  hasher?: SegmentHasher;
}

const DEFAULT_WORKER_THRESHOLD = 16 * 1024 * 1024;
const DEFAULT_BLOCK_SEGMENTS = 32;

/** Root over `count` all-zero chunks with the promote-odd rule (count <= 1024), memoised. */
const zeroRunRoots = new Map<number, Uint8Array>();
function zeroRunRoot(count: number, keccak: KeccakBatch): Uint8Array {
  let r = zeroRunRoots.get(count);
  if (r === undefined) {
    r = keccak.segmentRoots(new Uint8Array(count * CHUNK_SIZE), CHUNK_SIZE, CHUNKS_PER_SEGMENT);
    zeroRunRoots.set(count, r);
  }
  return r;
}

/**
 * Computes the file tree of `source` in one streaming pass: blocks of segments are read (the next block is read
 * while the current one hashes), zero-padded at the end as flow padding requires, and reduced to segment roots.
 */
export async function computeFileTree(source: FileSource, opts: FileTreeOptions = {}): Promise<FileMerkleTree> {
  const n = source.size;
  if (n <= 0) throw new StorageError(StorageErrorCode.EMPTY_FILE, "0G cannot store an empty file");
  const keccak = opts.keccak ?? getKeccakBatch();
  const c = chunksOf(n);
  const p = paddedChunks(c);
  const proofLeaves = Math.ceil(p / CHUNKS_PER_SEGMENT);
  const dataSegs = Math.ceil(c / CHUNKS_PER_SEGMENT);
  const paddedBytes = p * CHUNK_SIZE;
  const blockSegs = Math.max(1, opts.blockSegments ?? DEFAULT_BLOCK_SEGMENTS);
  const blockBytes = Math.min(blockSegs * SEGMENT_SIZE, dataSegs * SEGMENT_SIZE);

  const workers = opts.workers ?? (n >= (opts.workerThreshold ?? DEFAULT_WORKER_THRESHOLD) ? undefined : 0);
  const ownHasher = opts.hasher === undefined;
  const hasher: SegmentHasher =
    opts.hasher ?? (workers === 0 ? new InlineSegmentHasher(keccak) : new WorkerSegmentHasher(workers));
  const slots = [0, 1].map(() =>
    hasher.shared ? new Uint8Array(new SharedArrayBuffer(blockBytes)) : new Uint8Array(blockBytes),
  );

  const segRoots = new Uint8Array(proofLeaves * 32);
  let lastSegment: Uint8Array | undefined;
  try {
    // Reads block b into its slot and zero-fills up to the padded end; returns the bytes to hash.
    const readBlock = async (b: number): Promise<Uint8Array> => {
      const start = b * blockSegs * SEGMENT_SIZE;
      const hashEnd = Math.min(start + blockSegs * SEGMENT_SIZE, paddedBytes, dataSegs * SEGMENT_SIZE);
      const buf = slots[b % 2].subarray(0, hashEnd - start);
      const want = Math.min(hashEnd, n) - start;
      const got = await source.read(buf.subarray(0, want), start);
      if (got !== want) {
        throw new StorageError(StorageErrorCode.FILE_READ, `file shrank while hashing: read ${got} of ${want} bytes at ${start}`);
      }
      buf.fill(0, want);
      return buf;
    };
    const blocks = Math.ceil(dataSegs / blockSegs);
    let next = readBlock(0);
    for (let b = 0; b < blocks; b++) {
      const buf = await next;
      if (b + 1 < blocks) next = readBlock(b + 1);
      const roots = await hasher.hashSegments(buf);
      segRoots.set(roots, b * blockSegs * 32);
      if (b === blocks - 1) {
        const lastStart = (dataSegs - 1 - b * blockSegs) * SEGMENT_SIZE;
        lastSegment = buf.slice(lastStart);
      }
      opts.onProgress?.(Math.min(n, (b + 1) * blockSegs * SEGMENT_SIZE), n);
    }
  } finally {
    if (ownHasher) await hasher.close();
  }
  // Segments past the data are all padding: full ones are Z[10]; a short final one is a promote-odd zero run.
  for (let s = dataSegs; s < proofLeaves; s++) {
    const chunksHere = Math.min(CHUNKS_PER_SEGMENT, p - s * CHUNKS_PER_SEGMENT);
    segRoots.set(chunksHere === CHUNKS_PER_SEGMENT ? zeroHash(SEGMENT_TREE_DEPTH) : zeroRunRoot(chunksHere, keccak), s * 32);
  }
  const levels = MerkleLevels.build(segRoots, keccak);
  const nodes = submissionNodes(c, levels, lastSegment!, keccak);
  return new FileMerkleTree(n, levels, nodes);
}

/**
 * Node roots: a node of >= 1024 chunks is a perfect, aligned run of segments (its root is the perfect tree over
 * those segment roots); smaller nodes only occur inside the final segment and are hashed from its bytes.
 */
function submissionNodes(chunks: number, levels: MerkleLevels, lastSegment: Uint8Array, keccak: KeccakBatch): SubmissionNode[] {
  const nodes: SubmissionNode[] = [];
  const lastSegStart = (levels.leafCount - 1) * CHUNKS_PER_SEGMENT;
  let offset = 0;
  for (const size of splitNodeChunks(chunks)) {
    const height = Math.log2(size);
    let root: Uint8Array;
    if (size >= CHUNKS_PER_SEGMENT) {
      const first = offset / CHUNKS_PER_SEGMENT;
      const count = size / CHUNKS_PER_SEGMENT;
      const level = Math.log2(count);
      root = levels.levels[level].slice((first / count) * 32, (first / count + 1) * 32);
    } else {
      const local = (offset - lastSegStart) * CHUNK_SIZE;
      root = keccak.segmentRoots(lastSegment.subarray(local, local + size * CHUNK_SIZE), CHUNK_SIZE, CHUNKS_PER_SEGMENT);
    }
    nodes.push({ root, height });
    offset += size;
  }
  return nodes;
}

/** File tree of an in-memory buffer. */
export function fileTreeOfBytes(bytes: Uint8Array, opts: FileTreeOptions = {}): Promise<FileMerkleTree> {
  return computeFileTree(bytesSource(bytes), opts);
}

/** File tree of a file on disk, streamed block by block. */
export async function fileTreeOfPath(path: string, opts: FileTreeOptions = {}): Promise<FileMerkleTree> {
  const source = await openFileSource(path);
  try {
    return await computeFileTree(source, opts);
  } finally {
    await source.close();
  }
}
