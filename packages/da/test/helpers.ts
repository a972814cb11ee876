import { keccak256 } from "@zgnode/crypto";
import { concatBytes, uintToBytes } from "@zgnode/utils";

/** Deterministic pseudo-random bytes (keccak stream), so failures reproduce. */
export function seededBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  const key = uintToBytes(seed, 8);
  for (let o = 0, i = 0; o < length; o += 32, i++) {
    const block = keccak256(concatBytes(key, uintToBytes(i, 8)));
    out.set(block.subarray(0, Math.min(32, length - o)), o);
  }
  return out;
}
