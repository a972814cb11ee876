import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex } from "@zgnode/utils";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CryptoErrorCode, getKeccakBatch, type KeccakBatch, nativeKeccakBatch, nobleKeccakBatch } from "../src/index.ts";

/** Reference promote-odd tree written naively over noble single hashes, independent of both backends. */
function referenceRoot(hashes: Uint8Array[]): Uint8Array {
  let level = hashes;
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) {
      const pair = new Uint8Array(64);
      pair.set(level[i], 0);
      pair.set(level[i + 1], 32);
      next.push(keccak_256(pair));
    }
    if (level.length % 2 === 1) next.push(level[level.length - 1]);
    level = next;
  }
  return level[0];
}

const native = nativeKeccakBatch();
const backends: KeccakBatch[] = [nobleKeccakBatch(), ...(native ? [native] : [])];

describe("keccak batch", () => {
  it("the native addon is built in this checkout (CI builds it at install)", () => {
    // Without the addon everything still works through noble, but this repository's install must build it.
    expect(native?.backend).toBe("native");
    expect(getKeccakBatch().backend).toBe(process.env.ZG_KECCAK === "noble" ? "noble" : "native");
  });

  for (const k of backends) {
    describe(k.backend, () => {
      it("hashes the empty string and known vectors", () => {
        expect(bytesToHex(k.hashBatch(new Uint8Array(0), 1))).toBe("0x");
        const empty = k.treeRoot(k.hashBatch(new Uint8Array(256), 256));
        // Z0 = keccak256(256 zero bytes), the 0G empty-chunk hash.
        expect(bytesToHex(empty)).toBe("0xd397b3b043d87fcd6fad1291ff0bfd16401c274896d8c63a923727f077b8e0b5");
      });

      it("matches single noble hashes for every item size around the rate boundary", () => {
        fc.assert(
          fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 0, max: 5 }), fc.integer(), (size, count, seed) => {
            const input = new Uint8Array(size * count).map((_, i) => (i * 31 + seed) & 0xff);
            const out = k.hashBatch(input, size);
            for (let i = 0; i < count; i++) {
              expect(out.subarray(i * 32, i * 32 + 32)).toEqual(keccak_256(input.subarray(i * size, (i + 1) * size)));
            }
          }),
          { numRuns: 60 },
        );
      });

      it("segment roots and tree roots match a naive promote-odd tree", () => {
        fc.assert(
          fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 9 }), fc.integer(), (leaves, perSeg, seed) => {
            const data = new Uint8Array(leaves * 16).map((_, i) => (i * 13 + seed) & 0xff);
            const roots = k.segmentRoots(data, 16, perSeg);
            const segs = Math.ceil(leaves / perSeg);
            expect(roots.length).toBe(segs * 32);
            const segRoots: Uint8Array[] = [];
            for (let s = 0; s < segs; s++) {
              const hs: Uint8Array[] = [];
              for (let i = s * perSeg; i < Math.min(leaves, (s + 1) * perSeg); i++)
                hs.push(keccak_256(data.subarray(i * 16, i * 16 + 16)));
              const want = referenceRoot(hs);
              expect(roots.subarray(s * 32, s * 32 + 32)).toEqual(want);
              segRoots.push(want);
            }
            expect(k.treeRoot(roots)).toEqual(referenceRoot(segRoots));
          }),
          { numRuns: 80 },
        );
      });

      it("refuses partial items and short outputs with a coded error", () => {
        expect(() => k.hashBatch(new Uint8Array(65), 64)).toThrow(
          expect.objectContaining({ code: CryptoErrorCode.INVALID_LENGTH }),
        );
        expect(() => k.hashBatch(new Uint8Array(128), 64, new Uint8Array(63))).toThrow(
          expect.objectContaining({ code: CryptoErrorCode.INVALID_LENGTH }),
        );
        expect(() => k.treeRoot(new Uint8Array(0))).toThrow(expect.objectContaining({ code: CryptoErrorCode.INVALID_LENGTH }));
        expect(() => k.segmentRoots(new Uint8Array(256), 256, 0)).toThrow(
          expect.objectContaining({ code: CryptoErrorCode.INVALID_LENGTH }),
        );
      });
    });
  }

  it("every native SIMD width (8, 4, 1 lanes) agrees with noble on a 1 MiB random buffer and odd batches", () => {
    if (!native) return expect.unreachable("native addon missing");
    const data = new Uint8Array(1 << 20);
    for (let i = 0; i < data.length; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
    const want = nobleKeccakBatch().segmentRoots(data, 256, 1024);
    const widest = native.simdWidth();
    try {
      for (const w of [8, 4, 1] as const) {
        if (native.simdWidth(w) > w) throw new Error("width not capped");
        expect(native.segmentRoots(data, 256, 1024)).toEqual(want);
        for (const [size, count] of [
          [256, 13],
          [64, 21],
          [137, 9],
          [1, 17],
        ]) {
          const items = data.subarray(0, size * count);
          expect(native.hashBatch(items, size)).toEqual(nobleKeccakBatch().hashBatch(items, size));
        }
      }
    } finally {
      expect(native.simdWidth()).toBe(widest);
    }
  });
});
