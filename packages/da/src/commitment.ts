import { keccak256 } from "@zgnode/crypto";
import { concatBytes, equalBytes, uintToBytes } from "@zgnode/utils";
import { BYTES_PER_COMMITMENT } from "./constants.ts";
import { DaError, DaErrorCode } from "./errors.ts";
import { blobCountForLength } from "./framing.ts";

/**
 * Payload commitment: `root = keccak256(commitmentsRoot ‖ uint256be(length))`, where `commitmentsRoot` is a binary
 * keccak Merkle tree over `keccak256(blobCommitment_i)`, padded with zero leaves to a power of two. The length
 * fixes the blob count (framing is canonical), hence the tree depth, so a single blob commitment can be proven
 * against the root with a branch of depth ceil(log2(blobs)).
 */

const ZERO_LEAF = new Uint8Array(32);

function depthFor(leafCount: number): number {
  let depth = 0;
  while (1 << depth < leafCount) depth++;
  return depth;
}

function hashPair(a: Uint8Array, b: Uint8Array): Uint8Array {
  return keccak256(concatBytes(a, b));
}

function leavesOf(commitments: Uint8Array[]): Uint8Array[] {
  return commitments.map((c, blob) => {
    if (!(c instanceof Uint8Array) || c.length !== BYTES_PER_COMMITMENT) {
      throw new DaError(DaErrorCode.INVALID_LENGTH, `commitment of blob ${blob} must be 48 bytes`, { blob });
    }
    return keccak256(c);
  });
}

/** All levels of the tree, leaves first; the last level holds the root. */
function buildTree(commitments: Uint8Array[]): Uint8Array[][] {
  if (commitments.length === 0) throw new DaError(DaErrorCode.INVALID_ARGUMENT, "a payload has at least one blob");
  const depth = depthFor(commitments.length);
  const levels: Uint8Array[][] = [leavesOf(commitments)];
  let zero: Uint8Array = ZERO_LEAF;
  for (let d = 0; d < depth; d++) {
    const below = levels[d];
    const level: Uint8Array[] = [];
    for (let i = 0; i < below.length; i += 2) level.push(hashPair(below[i], below[i + 1] ?? zero));
    levels.push(level);
    zero = hashPair(zero, zero);
  }
  return levels;
}

export function commitmentsRoot(commitments: Uint8Array[]): Uint8Array {
  const levels = buildTree(commitments);
  return levels[levels.length - 1][0];
}

export function payloadRootFrom(commitmentsRootHash: Uint8Array, length: number): Uint8Array {
  return keccak256(concatBytes(commitmentsRootHash, uintToBytes(length, 32)));
}

export function computePayloadRoot(commitments: Uint8Array[], length: number): Uint8Array {
  const expected = blobCountForLength(length);
  if (commitments.length !== expected) {
    throw new DaError(DaErrorCode.INVALID_ARGUMENT, `length ${length} needs ${expected} commitments`, {
      got: commitments.length,
    });
  }
  return payloadRootFrom(commitmentsRoot(commitments), length);
}

/** Sibling hashes from the leaf of `blob` up to (not including) the commitments root. */
export function commitmentBranch(commitments: Uint8Array[], blob: number): Uint8Array[] {
  if (!Number.isInteger(blob) || blob < 0 || blob >= commitments.length) {
    throw new DaError(DaErrorCode.INVALID_INDEX, `blob ${blob} out of range`, { blob });
  }
  const levels = buildTree(commitments);
  const branch: Uint8Array[] = [];
  let zero: Uint8Array = ZERO_LEAF;
  let index = blob;
  for (let d = 0; d < levels.length - 1; d++) {
    branch.push(levels[d][index ^ 1] ?? zero);
    zero = hashPair(zero, zero);
    index >>= 1;
  }
  return branch;
}

/** Checks that `commitment` is blob `blob` of the payload with `root` and `length`. */
export function verifyCommitmentBranch(
  root: Uint8Array,
  length: number,
  blob: number,
  commitment: Uint8Array,
  branch: Uint8Array[],
): boolean {
  const blobs = blobCountForLength(length);
  if (!Number.isInteger(blob) || blob < 0 || blob >= blobs) return false;
  if (commitment.length !== BYTES_PER_COMMITMENT || branch.length !== depthFor(blobs)) return false;
  let node = keccak256(commitment);
  let index = blob;
  for (const sibling of branch) {
    if (sibling.length !== 32) return false;
    node = index & 1 ? hashPair(sibling, node) : hashPair(node, sibling);
    index >>= 1;
  }
  return equalBytes(payloadRootFrom(node, length), root);
}
