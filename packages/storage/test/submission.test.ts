import { bytesToHex, hexToBytes } from "@zgnode/utils";
import { AbiCoder } from "ethers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeSubmission,
  decodeSubmissionData,
  decodeSubmitCalldata,
  encodeSubmission,
  encodeSubmissionData,
  encodeSubmitCalldata,
  paddedChunks,
  StorageErrorCode,
  type Submission,
  submissionHeights,
  validateSubmissionData,
} from "../src/index.ts";

const code = (c: string) => expect.objectContaining({ code: c });
const root = (b: number) => new Uint8Array(32).fill(b);

function canonical(fileSize: number, tags = new Uint8Array(0)): Submission {
  return {
    data: {
      length: BigInt(fileSize),
      tags,
      nodes: submissionHeights(fileSize).map((height, i) => ({ root: root(i + 1), height })),
    },
    submitter: "0x1111111111111111111111111111111111111111",
  };
}

describe("submission", () => {
  it("padding matches the documented example (3073 chunks -> 3328 -> [2048, 1024, 256])", () => {
    expect(paddedChunks(3073)).toBe(3328);
    expect(submissionHeights(3073 * 256)).toEqual([11, 10, 8]);
    expect(() => paddedChunks(0)).toThrow(code(StorageErrorCode.EMPTY_FILE));
  });

  it("canonical splits pass the contract rules; any other node list for that length fails", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 40 }), (size) => {
        const s = canonical(size);
        validateSubmissionData(s.data);
        const heights = s.data.nodes.map((n) => n.height);
        // Dropping the last node, or merging everything into the next power of two, must be refused.
        if (heights.length > 1) {
          expect(() => validateSubmissionData({ ...s.data, nodes: s.data.nodes.slice(0, -1) })).toThrow(
            code(StorageErrorCode.SUBMISSION_INVALID),
          );
        }
        expect(() =>
          validateSubmissionData({ ...s.data, nodes: [{ root: root(1), height: Math.ceil(Math.log2(size / 256)) + 1 }] }),
        ).toThrow(code(StorageErrorCode.SUBMISSION_INVALID));
      }),
      { numRuns: 300 },
    );
    expect(() => validateSubmissionData({ length: 1n, tags: new Uint8Array(), nodes: [] })).toThrow(
      code(StorageErrorCode.SUBMISSION_INVALID),
    );
  });

  it("encodes like ethers and round-trips, both generations", () => {
    const coder = AbiCoder.defaultAbiCoder();
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 45 }), fc.uint8Array({ maxLength: 100 }), (size, tags) => {
        const s = canonical(size, tags);
        const nodes = s.data.nodes.map((n) => [bytesToHex(n.root), n.height]);
        const dataTuple = [s.data.length, bytesToHex(tags), nodes];
        const dataType = "(uint256,bytes,(bytes32,uint256)[])";
        expect(bytesToHex(encodeSubmissionData(s.data))).toBe(`0x${coder.encode([dataType], [dataTuple]).slice(66)}`);
        expect(bytesToHex(encodeSubmission(s))).toBe(
          `0x${coder.encode([`(${dataType},address)`], [[dataTuple, s.submitter]]).slice(66)}`,
        );
        expect(decodeSubmissionData(encodeSubmissionData(s.data))).toEqual(s.data);
        expect(decodeSubmission(encodeSubmission(s))).toEqual(s);
        const cur = decodeSubmitCalldata(encodeSubmitCalldata(s, "current"));
        expect(cur.generation).toBe("current");
        expect(cur.submission).toEqual(s);
        const leg = decodeSubmitCalldata(encodeSubmitCalldata(s, "legacy"));
        expect(leg.generation).toBe("legacy");
        expect(leg.submission.data).toEqual(s.data);
      }),
      { numRuns: 100 },
    );
  });

  it("refuses malformed calldata with coded errors", () => {
    const good = encodeSubmitCalldata(canonical(5000, new Uint8Array([1, 2, 3])), "current");
    expect(() => decodeSubmitCalldata(hexToBytes("0xdeadbeef").slice())).toThrow(code(StorageErrorCode.ABI_MALFORMED));
    const wrongSel = good.slice();
    wrongSel[0] ^= 1;
    expect(() => decodeSubmitCalldata(wrongSel)).toThrow(code(StorageErrorCode.ABI_SELECTOR));
    expect(() => decodeSubmitCalldata(good.subarray(0, good.length - 1))).toThrow(code(StorageErrorCode.ABI_MALFORMED));
    const trailing = new Uint8Array(good.length + 32);
    trailing.set(good);
    expect(() => decodeSubmitCalldata(trailing)).toThrow(code(StorageErrorCode.ABI_MALFORMED));
    const dirtyAddr = good.slice();
    dirtyAddr[4 + 32 + 32 + 0] = 1; // high byte of the submitter word
    expect(() => decodeSubmitCalldata(dirtyAddr)).toThrow(code(StorageErrorCode.ABI_MALFORMED));
    const hugeOffset = good.slice();
    hugeOffset[4 + 32 + 5] = 0xff; // data offset word
    expect(() => decodeSubmitCalldata(hugeOffset)).toThrow(code(StorageErrorCode.ABI_MALFORMED));
    // Dirty padding after the 3 tag bytes.
    const body = encodeSubmissionData(canonical(5000, new Uint8Array([1, 2, 3])).data);
    body[3 * 32 + 32 + 3] = 7;
    expect(() => decodeSubmissionData(body)).toThrow(code(StorageErrorCode.ABI_MALFORMED));
  });
});
