/**
 * Oracle tests: our file roots, submissions and segment proofs must equal those of both published 0G SDKs.
 *
 * CI runs every boundary up to 4 MiB (256 B, 256 KiB multiples and powers of two, each ±1, plus flow-padding
 * edges), 12 random sizes up to 2 MiB and one large case (8 MiB + 1). The full sweep (powers of two ±1 up to
 * 64 MiB, 256 KiB multiples up to 16 MiB, 20 random sizes up to 64 MiB) is slow because the SDKs hash at
 * ~5-13 MB/s: run it with `ZG_ORACLE_FULL=1` (about 10-20 minutes on 2 cores).
 */

import { MemData as CurrentMemData } from "@0gfoundation/0g-ts-sdk";
import { MemData as LegacyMemData } from "@0glabs/0g-ts-sdk";
import { bytesToHex, hexToBytes } from "@zgnode/utils";
import { Interface } from "ethers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  encodeSubmitCalldata,
  fileTreeOfBytes,
  proofFromJson,
  proofToJson,
  SEGMENT_SIZE,
  submissionDataRoot,
  validateSegmentWithProof,
  validateSubmission,
} from "../src/index.ts";

const FULL = process.env.ZG_ORACLE_FULL === "1";
const MAX_BOUNDARY = FULL ? 64 * 1024 * 1024 : 4 * 1024 * 1024;

function boundarySizes(): number[] {
  const set = new Set<number>();
  const add = (n: number) => {
    for (const d of [-1, 0, 1]) if (n + d >= 1 && n + d <= MAX_BOUNDARY + 1) set.add(n + d);
  };
  for (let p = 1; p <= MAX_BOUNDARY; p *= 2) add(p);
  for (let s = 1; s * SEGMENT_SIZE <= Math.min(MAX_BOUNDARY, 16 * 1024 * 1024); s++)
    if (s <= 4 || s % 5 === 0) add(s * SEGMENT_SIZE);
  // Flow-padding edges: chunk counts just past a power of two and at the 1/16 steps above it.
  for (const c of [17, 33, 1025, 1089, 16385, 16385 + 1024]) add(c * 256);
  if (FULL) add(64 * 1024 * 1024);
  else set.add(8 * 1024 * 1024 + 1);
  return [...set].sort((a, b) => a - b);
}

function pseudoRandomBytes(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x;
    out[i + 1] = x >>> 8;
    out[i + 2] = x >>> 16;
    out[i + 3] = x >>> 24;
  }
  return out;
}

const legacyFlow = new Interface([
  "function submit((uint256 length, bytes tags, (bytes32 root, uint256 height)[] nodes) submission)",
]);
const currentFlow = new Interface([
  "function submit(((uint256 length, bytes tags, (bytes32 root, uint256 height)[] nodes) data, address submitter) submission)",
]);
const SUBMITTER = "0x00000000000000000000000000000000000000aa";

async function compareWithSdks(data: Uint8Array): Promise<void> {
  const ours = await fileTreeOfBytes(data, { workers: 0 });
  const [legacyTree, legacyErr] = await new LegacyMemData(data).merkleTree();
  expect(legacyErr).toBeNull();
  const [currentTree] = await new CurrentMemData(data).merkleTree();
  expect(ours.rootHex).toBe(legacyTree!.rootHash());
  expect(ours.rootHex).toBe(currentTree!.rootHash());
  expect(bytesToHex(submissionDataRoot(ours.nodes))).toBe(ours.rootHex);

  const tags = data.length % 2 === 0 ? "0x" : "0x01020304";
  const [legacySub] = await new LegacyMemData(data).createSubmission(tags);
  const [currentSub] = await new CurrentMemData(data).createSubmission(tags, SUBMITTER);
  const sdkNodes = legacySub!.nodes.map((n) => ({ root: n.root, height: Number(n.height) }));
  const ourSub = ours.submission(hexToBytes(tags), SUBMITTER);
  expect(ourSub.data.nodes.map((n) => ({ root: bytesToHex(n.root), height: n.height }))).toEqual(sdkNodes);
  expect(currentSub!.data.nodes.map((n) => ({ root: n.root, height: Number(n.height) }))).toEqual(sdkNodes);
  expect(ourSub.data.length).toBe(BigInt(legacySub!.length));
  validateSubmission(ourSub);

  // Byte-identical calldata for both Flow ABI generations, against ethers encoding the SDKs' own structs.
  expect(bytesToHex(encodeSubmitCalldata(ourSub, "legacy"))).toBe(legacyFlow.encodeFunctionData("submit", [legacySub]));
  expect(bytesToHex(encodeSubmitCalldata(ourSub, "current"))).toBe(currentFlow.encodeFunctionData("submit", [currentSub]));

  // Proofs: identical JSON for every proof leaf; the data-bearing ones pass our node-rule validator.
  expect(ours.proofLeaves).toBe(legacyTree!.leaves.length);
  for (let i = 0; i < ours.proofLeaves; i++) {
    const sdkProof = legacyTree!.proofAt(i);
    expect(proofToJson(ours.proof(i))).toEqual({ lemma: sdkProof.lemma, path: sdkProof.path });
    if (i < ours.dataSegments) {
      const seg = data.subarray(i * SEGMENT_SIZE, (i + 1) * SEGMENT_SIZE);
      const padded = new Uint8Array(Math.ceil(seg.length / 256) * 256);
      padded.set(seg);
      validateSegmentWithProof({
        root: ours.root,
        data: padded,
        index: i,
        fileSize: data.length,
        proof: proofFromJson(sdkProof),
      });
    }
  }
}

describe("oracle: @0glabs/0g-ts-sdk 0.3.3 and @0gfoundation/0g-ts-sdk 1.2.8", () => {
  const sizes = boundarySizes();
  it(`matches on ${sizes.length} boundary sizes up to ${MAX_BOUNDARY} bytes${FULL ? " (full sweep)" : ""}`, {
    timeout: FULL ? 3_600_000 : 300_000,
  }, async () => {
    for (const size of sizes) await compareWithSdks(pseudoRandomBytes(size, size));
  });

  it("matches on random sizes and contents", { timeout: FULL ? 3_600_000 : 300_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: FULL ? 64 * 1024 * 1024 : 2 * 1024 * 1024 }),
        fc.integer(),
        async (size, seed) => {
          await compareWithSdks(pseudoRandomBytes(size, seed));
        },
      ),
      { numRuns: FULL ? 20 : 12 },
    );
  });

  it("all-zero and all-0xff files (padding indistinguishable from data)", async () => {
    for (const size of [1, 256 * 17, SEGMENT_SIZE * 3 + 5]) {
      await compareWithSdks(new Uint8Array(size));
      await compareWithSdks(new Uint8Array(size).fill(0xff));
    }
  });
});
