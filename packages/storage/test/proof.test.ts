import { bytesToHex } from "@zgnode/utils";
import { describe, expect, it } from "vitest";
import {
  fileTreeOfBytes,
  type MerkleProof,
  proofFromJson,
  proofPosition,
  SEGMENT_SIZE,
  type SegmentWithProof,
  StorageErrorCode,
  segmentWithProofFromJson,
  segmentWithProofToJson,
  validateSegmentWithProof,
  zeroHash,
} from "../src/index.ts";

function bytes(size: number, seed = 1): Uint8Array {
  return new Uint8Array(size).map((_, i) => (i * 131 + seed * 7) & 0xff);
}

async function segmentOf(data: Uint8Array, index: number): Promise<SegmentWithProof> {
  const tree = await fileTreeOfBytes(data, { workers: 0 });
  const raw = data.subarray(index * SEGMENT_SIZE, (index + 1) * SEGMENT_SIZE);
  const seg = new Uint8Array(Math.ceil(raw.length / 256) * 256);
  seg.set(raw);
  return { root: tree.root, data: seg, index, proof: tree.proof(index), fileSize: data.length };
}

const clone = (p: MerkleProof): MerkleProof => ({ lemma: p.lemma.map((h) => h.slice()), path: [...p.path] });
const code = (c: string) => expect.objectContaining({ code: c });

describe("segment proof validation (0G node rules)", () => {
  // 4 MiB + 1 byte: 17 data segments, 18 proof leaves (one padding-only segment).
  const file = bytes(4 * 1024 * 1024 + 1);

  it("accepts every data segment of a file with padding-only proof leaves", async () => {
    const tree = await fileTreeOfBytes(file, { workers: 0 });
    expect(tree.dataSegments).toBe(17);
    expect(tree.proofLeaves).toBe(18);
    for (let i = 0; i < tree.dataSegments; i++) validateSegmentWithProof(await segmentOf(file, i));
  });

  it("accepts a single-segment file (lemma = [root], empty path)", async () => {
    const seg = await segmentOf(bytes(1000), 0);
    expect(seg.proof.path).toEqual([]);
    expect(seg.proof.lemma).toHaveLength(1);
    validateSegmentWithProof(seg);
  });

  it("refuses each kind of corruption with its own code", async () => {
    const good = await segmentOf(file, 16);
    const cases: [string, SegmentWithProof][] = [];
    cases.push([StorageErrorCode.SEGMENT_INDEX, { ...good, index: 17 }]);
    cases.push([StorageErrorCode.SEGMENT_INDEX, { ...good, index: -1 }]);
    cases.push([StorageErrorCode.SEGMENT_SIZE, { ...good, data: good.data.subarray(0, 0) }]);
    cases.push([StorageErrorCode.SEGMENT_SIZE, { ...(await segmentOf(file, 3)), data: new Uint8Array(SEGMENT_SIZE - 256) }]);
    const shortLemma = clone(good.proof);
    shortLemma.lemma.pop();
    cases.push([StorageErrorCode.PROOF_FORMAT, { ...good, proof: shortLemma }]);
    const badHashLen = clone(good.proof);
    badHashLen.lemma[1] = new Uint8Array(31);
    cases.push([StorageErrorCode.PROOF_FORMAT, { ...good, proof: badHashLen }]);
    const wrongPos = await segmentOf(file, 5);
    cases.push([StorageErrorCode.PROOF_POSITION, { ...wrongPos, proof: (await segmentOf(file, 6)).proof }]);
    const longPath = clone(good.proof);
    longPath.path.push(true);
    longPath.lemma.splice(1, 0, new Uint8Array(32));
    cases.push([StorageErrorCode.PROOF_POSITION, { ...good, proof: longPath }]);
    const flipped = good.data.slice();
    flipped[100] ^= 1;
    cases.push([StorageErrorCode.PROOF_CONTENT, { ...good, data: flipped }]);
    const badSibling = clone(wrongPos.proof);
    badSibling.lemma[1][0] ^= 1;
    cases.push([StorageErrorCode.PROOF_HASH, { ...wrongPos, proof: badSibling }]);
    cases.push([StorageErrorCode.PROOF_ROOT, { ...good, root: new Uint8Array(32).fill(9) }]);
    for (const [want, seg] of cases) expect(() => validateSegmentWithProof(seg), want).toThrow(code(want));
  });

  it("refuses a consistent proof whose padding-range sibling is not the zero hash", async () => {
    // Forge a file whose padding-only segment 17 holds non-zero data: its proof for segment 16 is internally
    // consistent (hashes fold to the forged root) but the sibling in the padding range is not Z[10].
    const forged = new Uint8Array(18 * SEGMENT_SIZE);
    forged.set(file);
    forged[17 * SEGMENT_SIZE] = 1;
    const forgedTree = await fileTreeOfBytes(forged, { workers: 0 });
    const proof = forgedTree.proof(16);
    expect(bytesToHex(proof.lemma[1])).not.toBe(bytesToHex(zeroHash(10)));
    const seg16 = (await segmentOf(file, 16)).data;
    expect(() =>
      validateSegmentWithProof({ root: forgedTree.root, data: seg16, index: 16, fileSize: file.length, proof }),
    ).toThrow(code(StorageErrorCode.PROOF_PADDING));
  });

  it("round-trips the RPC JSON shape and validates what it parses", async () => {
    const seg = await segmentOf(file, 7);
    const json = JSON.parse(JSON.stringify(segmentWithProofToJson(seg)));
    const back = segmentWithProofFromJson(json);
    expect(back).toEqual(seg);
    validateSegmentWithProof(back);
    expect(() => segmentWithProofFromJson({ ...json, root: "0x12" })).toThrow(code(StorageErrorCode.PROOF_FORMAT));
    expect(() => segmentWithProofFromJson({ ...json, data: "***" })).toThrow(code(StorageErrorCode.SEGMENT_SIZE));
    expect(() => segmentWithProofFromJson({ ...json, index: -1 })).toThrow(code(StorageErrorCode.SEGMENT_INDEX));
    expect(() => segmentWithProofFromJson({ ...json, fileSize: 0 })).toThrow(code(StorageErrorCode.SEGMENT_SIZE));
  });

  it("proofFromJson refuses malformed JSON", () => {
    expect(() => proofFromJson(null)).toThrow(code(StorageErrorCode.PROOF_FORMAT));
    expect(() => proofFromJson({ lemma: ["0x12"], path: [] })).toThrow(code(StorageErrorCode.PROOF_FORMAT));
    expect(() => proofFromJson({ lemma: [], path: [1] })).toThrow(code(StorageErrorCode.PROOF_FORMAT));
  });

  it("proofPosition walks the path from the root", () => {
    // 5 leaves: left subtree 4, right 1. Leaf 4 = [right] from the root; leaf 2 = left, right, left (bottom-up reversed).
    expect(proofPosition([false], 5)).toBe(4);
    expect(proofPosition([true, false, true], 5)).toBe(2);
    expect(() => proofPosition([true], 5)).toThrow(code(StorageErrorCode.PROOF_POSITION));
  });
});
