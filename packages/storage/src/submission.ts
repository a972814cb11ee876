import { getKeccakBatch } from "@zgnode/crypto";
import { bytesToHex, concatBytes, hexToBytes } from "@zgnode/utils";
import { CHUNK_SIZE, MAX_SUBMISSION_NODES } from "./constants.ts";
import { StorageError, StorageErrorCode } from "./errors.ts";
import { splitNodeChunks } from "./merkle.ts";

/** `SubmissionNode { bytes32 root; uint256 height; }`: a perfect subtree of 2^height chunks. */
export interface SubmissionNode {
  root: Uint8Array;
  height: number;
}

/** `SubmissionData` (legacy ABI: the whole `Submission`). `length` is the file size in bytes. */
export interface SubmissionData {
  length: bigint;
  tags: Uint8Array;
  nodes: SubmissionNode[];
}

/** Current ABI: `Submission { SubmissionData data; address submitter; }` (submitter as 0x + 40 hex). */
export interface Submission {
  data: SubmissionData;
  submitter: string;
}

/** The two Flow ABI generations: `legacy` = `submit((uint256,bytes,(bytes32,uint256)[]))`, `current` adds the submitter. */
export type FlowAbiGeneration = "legacy" | "current";

/** `submit((uint256,bytes,(bytes32,uint256)[]))`, 0glabs contracts and @0glabs/0g-ts-sdk. */
export const SUBMIT_SELECTOR_LEGACY = "0xef3e12dc";
/** `submit(((uint256,bytes,(bytes32,uint256)[]),address))`, 0gfoundation contracts and SDK 1.x. */
export const SUBMIT_SELECTOR_CURRENT = "0xbc8c11f8";

export const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

/**
 * The file root from a submission's nodes, as the storage node recomputes it from the Submit event: start from
 * the last node, then fold right to left with `root = keccak(node.root ‖ root)`.
 */
export function submissionDataRoot(nodes: readonly SubmissionNode[]): Uint8Array {
  if (nodes.length === 0) throw new StorageError(StorageErrorCode.SUBMISSION_INVALID, "submission has no nodes");
  const k = getKeccakBatch();
  let root = nodes[nodes.length - 1].root;
  const pair = new Uint8Array(64);
  for (let i = nodes.length - 2; i >= 0; i--) {
    pair.set(nodes[i].root, 0);
    pair.set(root, 32);
    root = k.hashBatch(pair, 64);
  }
  return root;
}

/** Σ 2^height: the sectors the submission occupies on the flow (what the fee is charged on). */
export function submissionSectors(data: SubmissionData): bigint {
  return data.nodes.reduce((s, n) => s + (1n << BigInt(n.height)), 0n);
}

/**
 * The contract's `SubmissionLibrary.valid` rules: nodes non-empty and at most four, heights strictly decreasing,
 * first height < 64, `length` fits the capacity but would not fit the next smaller canonical split. Equivalent
 * to "the node list is exactly the canonical split of `length`" except for the roots, which only the data can
 * check. The current ABI also rejects the zero submitter.
 */
export function validateSubmissionData(data: SubmissionData): void {
  const fail = (why: string): never => {
    throw new StorageError(StorageErrorCode.SUBMISSION_INVALID, `invalid submission: ${why}`, { length: data.length.toString() });
  };
  const { nodes } = data;
  if (nodes.length === 0) fail("no nodes");
  if (nodes.length > MAX_SUBMISSION_NODES) fail(`${nodes.length} nodes (max ${MAX_SUBMISSION_NODES})`);
  for (const n of nodes) {
    if (n.root.length !== 32) fail("node root is not 32 bytes");
    if (!Number.isInteger(n.height) || n.height < 0) fail(`bad height ${n.height}`);
  }
  if (nodes[0].height >= 64) fail(`first height ${nodes[0].height} >= 64`);
  for (let i = 1; i < nodes.length; i++) if (nodes[i].height >= nodes[i - 1].height) fail("heights not strictly decreasing");
  const first = nodes[0].height;
  const last = nodes[nodes.length - 1].height;
  if (first - last >= 4) fail("first and last heights differ by 4 or more");
  const capacity = submissionSectors(data);
  if (data.length > capacity * BigInt(CHUNK_SIZE)) fail(`length ${data.length} exceeds capacity ${capacity} sectors`);
  const cap = 1n << BigInt(first);
  let lastCapacity: bigint;
  if (cap < 16n) lastCapacity = capacity - 1n;
  else if (nodes.length === 1) lastCapacity = capacity - cap / 16n;
  else lastCapacity = capacity - (1n << BigInt(first - 3));
  if (data.length <= lastCapacity * BigInt(CHUNK_SIZE)) fail(`length ${data.length} fits a smaller submission`);
}

export function validateSubmission(s: Submission): void {
  validateSubmissionData(s.data);
  if (!/^0x[0-9a-fA-F]{40}$/.test(s.submitter)) {
    throw new StorageError(StorageErrorCode.SUBMISSION_INVALID, `invalid submitter address ${s.submitter}`);
  }
  if (/^0x0{40}$/.test(s.submitter)) throw new StorageError(StorageErrorCode.SUBMISSION_INVALID, "submitter is the zero address");
}

/** The canonical node heights for a file of `fileSize` bytes. */
export function submissionHeights(fileSize: number): number[] {
  return splitNodeChunks(Math.ceil(fileSize / CHUNK_SIZE)).map((c) => Math.log2(c));
}

// ---------------------------------------------------------------------------------------------------------
// ABI encoding. Written out by hand for these two fixed tuple shapes: strict decoding (every offset, length
// and padding byte checked) with coded errors, and no dependency on a general ABI library.

const WORD = 32;

function uintWord(v: bigint): Uint8Array {
  if (v < 0n || v >= 1n << 256n) throw new StorageError(StorageErrorCode.INVALID_ARGUMENT, `uint256 out of range: ${v}`);
  const w = new Uint8Array(WORD);
  for (let i = WORD - 1; i >= 0 && v > 0n; i--) {
    w[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return w;
}

/** ABI encoding of the `(uint256,bytes,(bytes32,uint256)[])` tuple body (it is dynamic: callers place it by offset). */
export function encodeSubmissionData(data: SubmissionData): Uint8Array {
  const tagsPadded = new Uint8Array(Math.ceil(data.tags.length / WORD) * WORD);
  tagsPadded.set(data.tags);
  const tagsEnc = concatBytes(uintWord(BigInt(data.tags.length)), tagsPadded);
  const nodeWords: Uint8Array[] = [uintWord(BigInt(data.nodes.length))];
  for (const n of data.nodes) {
    if (n.root.length !== 32) throw new StorageError(StorageErrorCode.INVALID_ARGUMENT, "node root must be 32 bytes");
    nodeWords.push(n.root, uintWord(BigInt(n.height)));
  }
  const headSize = 3 * WORD;
  return concatBytes(
    uintWord(data.length),
    uintWord(BigInt(headSize)),
    uintWord(BigInt(headSize + tagsEnc.length)),
    tagsEnc,
    ...nodeWords,
  );
}

/** ABI encoding of the current `((uint256,bytes,(bytes32,uint256)[]),address)` tuple body. */
export function encodeSubmission(s: Submission): Uint8Array {
  const addr = hexToBytes(s.submitter);
  if (addr.length !== 20) throw new StorageError(StorageErrorCode.INVALID_ARGUMENT, `submitter must be 20 bytes`);
  const addrWord = new Uint8Array(WORD);
  addrWord.set(addr, 12);
  return concatBytes(uintWord(BigInt(2 * WORD)), addrWord, encodeSubmissionData(s.data));
}

/** Calldata for `Flow.submit` in either ABI generation (legacy ignores the submitter). */
export function encodeSubmitCalldata(s: Submission, generation: FlowAbiGeneration): Uint8Array {
  if (generation === "legacy") {
    return concatBytes(hexToBytes(SUBMIT_SELECTOR_LEGACY), uintWord(32n), encodeSubmissionData(s.data));
  }
  return concatBytes(hexToBytes(SUBMIT_SELECTOR_CURRENT), uintWord(32n), encodeSubmission(s));
}

class AbiReader {
  readonly buf: Uint8Array;

  constructor(buf: Uint8Array) {
    this.buf = buf;
  }

  fail(why: string): never {
    throw new StorageError(StorageErrorCode.ABI_MALFORMED, `malformed submission ABI: ${why}`);
  }

  word(at: number): Uint8Array {
    if (!Number.isSafeInteger(at) || at < 0 || at + WORD > this.buf.length)
      this.fail(`word at ${at} past end (${this.buf.length} bytes)`);
    return this.buf.subarray(at, at + WORD);
  }

  uint(at: number): bigint {
    let v = 0n;
    for (const b of this.word(at)) v = (v << 8n) | BigInt(b);
    return v;
  }

  /** A uint used as an offset, length or small number: must fit a safe integer. */
  small(at: number, max: number = Number.MAX_SAFE_INTEGER): number {
    const v = this.uint(at);
    if (v > BigInt(max)) this.fail(`value ${v} at ${at} exceeds ${max}`);
    return Number(v);
  }

  address(at: number): string {
    const w = this.word(at);
    for (let i = 0; i < 12; i++) if (w[i] !== 0) this.fail("address word has dirty high bytes");
    return bytesToHex(w.subarray(12));
  }

  /** Decodes the SubmissionData tuple whose encoding starts at `base`; returns it and the end of its tail. */
  submissionData(base: number): { data: SubmissionData; end: number } {
    const length = this.uint(base);
    const tagsOff = base + this.small(base + WORD, this.buf.length);
    const nodesOff = base + this.small(base + 2 * WORD, this.buf.length);
    const tagsLen = this.small(tagsOff, this.buf.length);
    const tagsStart = tagsOff + WORD;
    const tagsPadded = Math.ceil(tagsLen / WORD) * WORD;
    if (tagsStart + tagsPadded > this.buf.length) this.fail("tags run past the end");
    for (let i = tagsStart + tagsLen; i < tagsStart + tagsPadded; i++) if (this.buf[i] !== 0) this.fail("tags padding not zero");
    const tags = this.buf.slice(tagsStart, tagsStart + tagsLen);
    const count = this.small(nodesOff, 64);
    const nodes: SubmissionNode[] = [];
    for (let i = 0; i < count; i++) {
      const at = nodesOff + WORD + i * 2 * WORD;
      nodes.push({ root: this.word(at).slice(), height: this.small(at + WORD, 255) });
    }
    return { data: { length, tags, nodes }, end: Math.max(tagsStart + tagsPadded, nodesOff + WORD + count * 2 * WORD) };
  }
}

/** Decodes a legacy `SubmissionData` tuple body (the inverse of `encodeSubmissionData`). */
export function decodeSubmissionData(encoded: Uint8Array): SubmissionData {
  const r = new AbiReader(encoded);
  const { data, end } = r.submissionData(0);
  if (end !== encoded.length) r.fail(`${encoded.length - end} trailing bytes`);
  return data;
}

/** Decodes a current `Submission` tuple body (the inverse of `encodeSubmission`). */
export function decodeSubmission(encoded: Uint8Array): Submission {
  const r = new AbiReader(encoded);
  const dataOff = r.small(0, encoded.length);
  const submitter = r.address(WORD);
  const { data, end } = r.submissionData(dataOff);
  if (end !== encoded.length) r.fail(`${encoded.length - end} trailing bytes`);
  return { data, submitter };
}

/** Decodes `Flow.submit` calldata of either generation (the selector says which). */
export function decodeSubmitCalldata(calldata: Uint8Array): { generation: FlowAbiGeneration; submission: Submission } {
  if (calldata.length < 4 + WORD) throw new StorageError(StorageErrorCode.ABI_MALFORMED, "calldata too short for submit");
  const selector = bytesToHex(calldata.subarray(0, 4));
  const body = calldata.subarray(4);
  const r = new AbiReader(body);
  const off = r.small(0, body.length);
  if (off !== WORD) r.fail(`argument offset ${off}, expected 32`);
  if (selector === SUBMIT_SELECTOR_LEGACY) {
    return { generation: "legacy", submission: { data: decodeSubmissionData(body.subarray(WORD)), submitter: ZERO_ADDRESS } };
  }
  if (selector === SUBMIT_SELECTOR_CURRENT) {
    return { generation: "current", submission: decodeSubmission(body.subarray(WORD)) };
  }
  throw new StorageError(StorageErrorCode.ABI_SELECTOR, `unknown submit selector ${selector}`, { selector });
}

/** JSON form of a submission (hex bytes, decimal length), as the CLI prints it. */
export function submissionToJson(s: Submission): {
  data: { length: string; tags: string; nodes: { root: string; height: number }[] };
  submitter: string;
} {
  return {
    data: {
      length: s.data.length.toString(),
      tags: bytesToHex(s.data.tags),
      nodes: s.data.nodes.map((n) => ({ root: bytesToHex(n.root), height: n.height })),
    },
    submitter: s.submitter,
  };
}
