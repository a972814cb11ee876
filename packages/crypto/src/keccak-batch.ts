import { createRequire } from "node:module";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { CodedError } from "@zgnode/utils";
import { CryptoErrorCode } from "./errors.ts";

/**
 * Keccak-256 over many equal-sized items per call, and Merkle reductions with the "promote the odd node" rule
 * (a lone last node is carried up unchanged). Two interchangeable backends give identical bytes: our own C
 * addon (`native/keccak.c`, built by node-gyp at install) and `@noble/hashes` as the portable fallback.
 */
export interface KeccakBatch {
  readonly backend: "native" | "noble";
  /** keccak256 of each `itemSize`-byte item of `input`, concatenated (32 bytes per item). */
  hashBatch(input: Uint8Array, itemSize: number, out?: Uint8Array): Uint8Array;
  /**
   * Splits `data` (whole leaves of `leafSize` bytes) into runs of `leavesPerSegment` leaves (the last run may be
   * shorter) and returns each run's promote-odd root over its leaf hashes, concatenated.
   */
  segmentRoots(data: Uint8Array, leafSize: number, leavesPerSegment: number, out?: Uint8Array): Uint8Array;
  /** Promote-odd root over one or more 32-byte hashes. */
  treeRoot(hashes: Uint8Array): Uint8Array;
}

interface NativeKeccak {
  hashBatch(input: Uint8Array, itemSize: number, out: Uint8Array): void;
  hashOne(input: Uint8Array, out: Uint8Array): void;
  segmentRoots(data: Uint8Array, leafSize: number, leavesPerSegment: number, out: Uint8Array): void;
  treeRoot(hashes: Uint8Array, out: Uint8Array): void;
  setSimd(width?: number): number;
}

function checkItems(inputLength: number, itemSize: number, what: string): number {
  if (!Number.isInteger(itemSize) || itemSize <= 0 || inputLength % itemSize !== 0) {
    throw new CodedError(CryptoErrorCode.INVALID_LENGTH, `${what}: ${inputLength} bytes is not whole ${itemSize}-byte items`);
  }
  return inputLength / itemSize;
}

function outFor(out: Uint8Array | undefined, bytes: number): Uint8Array {
  if (out === undefined) return new Uint8Array(bytes);
  if (out.length < bytes)
    throw new CodedError(CryptoErrorCode.INVALID_LENGTH, `output holds ${out.length} bytes, needs ${bytes}`);
  return out;
}

function checkSegmentArgs(data: Uint8Array, leafSize: number, leavesPerSegment: number): number {
  const leaves = checkItems(data.length, leafSize, "segmentRoots");
  if (!Number.isInteger(leavesPerSegment) || leavesPerSegment <= 0 || leavesPerSegment > 65536) {
    throw new CodedError(CryptoErrorCode.INVALID_LENGTH, `leavesPerSegment ${leavesPerSegment} out of range 1..65536`);
  }
  return Math.ceil(leaves / leavesPerSegment);
}

/** In-place promote-odd reduction of `n` hashes held in `buf`; returns the root (a copy). */
function reduceInPlace(buf: Uint8Array, n: number, hashPairs: (pairs: Uint8Array, out: Uint8Array) => void): Uint8Array {
  while (n > 1) {
    const pairs = n >>> 1;
    hashPairs(buf.subarray(0, pairs * 64), buf.subarray(0, pairs * 32));
    if (n & 1) buf.copyWithin(pairs * 32, (n - 1) * 32, n * 32);
    n = pairs + (n & 1);
  }
  return buf.slice(0, 32);
}

class NobleKeccakBatch implements KeccakBatch {
  readonly backend = "noble" as const;

  hashBatch(input: Uint8Array, itemSize: number, out?: Uint8Array): Uint8Array {
    const n = checkItems(input.length, itemSize, "hashBatch");
    const o = outFor(out, n * 32);
    // Items are read before their slot is overwritten, so `out` may alias `input` (pair reduction in place).
    for (let i = 0; i < n; i++) o.set(keccak_256(input.subarray(i * itemSize, (i + 1) * itemSize)), i * 32);
    return o;
  }

  segmentRoots(data: Uint8Array, leafSize: number, leavesPerSegment: number, out?: Uint8Array): Uint8Array {
    const segs = checkSegmentArgs(data, leafSize, leavesPerSegment);
    const o = outFor(out, segs * 32);
    const leaves = data.length / leafSize;
    const work = new Uint8Array(leavesPerSegment * 32);
    for (let s = 0; s < segs; s++) {
      const count = Math.min(leavesPerSegment, leaves - s * leavesPerSegment);
      const start = s * leavesPerSegment * leafSize;
      this.hashBatch(data.subarray(start, start + count * leafSize), leafSize, work);
      o.set(
        reduceInPlace(work, count, (p, w) => this.hashBatch(p, 64, w)),
        s * 32,
      );
    }
    return o;
  }

  treeRoot(hashes: Uint8Array): Uint8Array {
    const n = checkItems(hashes.length, 32, "treeRoot");
    if (n === 0) throw new CodedError(CryptoErrorCode.INVALID_LENGTH, "treeRoot needs at least one hash");
    return reduceInPlace(hashes.slice(), n, (p, w) => this.hashBatch(p, 64, w));
  }
}

export class NativeKeccakBatch implements KeccakBatch {
  readonly backend = "native" as const;
  readonly addon: NativeKeccak;

  constructor(addon: NativeKeccak) {
    this.addon = addon;
  }

  /**
   * Lanes hashed per permutation: 8 (AVX-512), 4 (AVX2) or 1 (scalar), picked at load from the CPU. Pass a width
   * to force a narrower path (tests, benchmarks); no argument restores the widest.
   */
  simdWidth(force?: 1 | 4 | 8): number {
    return this.addon.setSimd(force);
  }

  hashBatch(input: Uint8Array, itemSize: number, out?: Uint8Array): Uint8Array {
    const n = checkItems(input.length, itemSize, "hashBatch");
    const o = outFor(out, n * 32);
    this.addon.hashBatch(input, itemSize, o);
    return o;
  }

  segmentRoots(data: Uint8Array, leafSize: number, leavesPerSegment: number, out?: Uint8Array): Uint8Array {
    const segs = checkSegmentArgs(data, leafSize, leavesPerSegment);
    const o = outFor(out, segs * 32);
    this.addon.segmentRoots(data, leafSize, leavesPerSegment, o);
    return o;
  }

  treeRoot(hashes: Uint8Array): Uint8Array {
    const n = checkItems(hashes.length, 32, "treeRoot");
    if (n === 0) throw new CodedError(CryptoErrorCode.INVALID_LENGTH, "treeRoot needs at least one hash");
    const o = new Uint8Array(32);
    this.addon.treeRoot(hashes, o);
    return o;
  }
}

let nativeInstance: NativeKeccakBatch | null | undefined;
let nativeLoadError: unknown;

/** The native backend, or undefined when the addon was not built or failed its load-time self-test. */
export function nativeKeccakBatch(): NativeKeccakBatch | undefined {
  if (nativeInstance === undefined) {
    try {
      const require = createRequire(import.meta.url);
      nativeInstance = new NativeKeccakBatch(require("../build/Release/zg_keccak.node") as NativeKeccak);
    } catch (err) {
      nativeLoadError = err;
      nativeInstance = null;
    }
  }
  return nativeInstance ?? undefined;
}

/** Why the native backend is unavailable (undefined when it loaded). */
export function nativeKeccakLoadError(): unknown {
  nativeKeccakBatch();
  return nativeLoadError;
}

const nobleInstance = new NobleKeccakBatch();

/** The portable pure-JS backend. */
export function nobleKeccakBatch(): KeccakBatch {
  return nobleInstance;
}

/**
 * The fastest available backend: native unless it is missing or `ZG_KECCAK=noble` is set in the environment
 * (to force the portable path, e.g. for comparison runs).
 */
export function getKeccakBatch(): KeccakBatch {
  if (process.env.ZG_KECCAK === "noble") return nobleInstance;
  return nativeKeccakBatch() ?? nobleInstance;
}
