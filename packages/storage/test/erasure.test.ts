import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import {
  type ErasureCodec,
  ErasureCoder,
  jsErasureCodec,
  nativeErasureCodec,
  ronomonErasureCodec,
  StorageErrorCode,
  selectErasureCodec,
  wasmErasureCodec,
} from "../src/index.ts";

const native = nativeErasureCodec();
const wasm = wasmErasureCodec();
const ronomon = ronomonErasureCodec();
const codecs = [native, wasm, jsErasureCodec(), ronomon].filter((c): c is NonNullable<typeof c> => c !== undefined);
const SHAPES: [number, number][] = [
  [4, 2],
  [10, 4],
  [16, 8],
  [1, 1],
  [3, 5],
];

afterAll(() => {
  native?.backend(); // restore the best kernel
});

function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    out[i] = x >>> 16;
  }
  return out;
}

describe("erasure codecs", () => {
  it("our native codec is built and both vandermonde codecs load", () => {
    expect(native?.name).toBe("zg-native");
    expect(wasm?.name).toBe("wasm");
    expect(selectErasureCodec(16, 8, 262144).name).toBe("zg-native");
  });

  for (const codec of codecs as ErasureCodec[]) {
    for (const [k, m] of SHAPES) {
      if (!codec.supports(k, m, 8)) continue;
      it(`${codec.name} (${k}, ${m}): any k of k + m shards rebuild the stripe`, () => {
        const coder = new ErasureCoder(k, m, 264, codec);
        return fc.assert(
          fc.asyncProperty(fc.integer(), fc.array(fc.nat(k + m - 1), { maxLength: m }), async (seed, lost) => {
            const data = Array.from({ length: k }, (_, i) => randomBytes(264 - (i === k - 1 ? seed & 0x7 : 0), seed + i));
            const parity = await coder.encode(data);
            const full = [...data.map((d) => Uint8Array.from({ length: 264 }, (_, j) => d[j] ?? 0)), ...parity];
            expect(await coder.verify(full)).toBe(true);
            const damaged: (Uint8Array | undefined)[] = [...full];
            for (const i of lost) damaged[i] = undefined;
            expect(await coder.reconstruct(damaged)).toEqual(full);
          }),
          { numRuns: 25 },
        );
      });
    }
  }

  it("native (every SIMD kernel) and wasm produce identical parity and decode each other", async () => {
    if (!native || !wasm) return expect.unreachable("codecs missing");
    for (const kernel of ["gfni", "avx2", "scalar"] as const) {
      const used = native.backend(kernel);
      for (const [k, m] of SHAPES) {
        const size = 1000 + 8; // not a multiple of the vector width: exercises the scalar tail
        const data = Array.from({ length: k }, (_, i) => randomBytes(size, i * 7 + k));
        const a = await new ErasureCoder(k, m, size, native).encode(data);
        const b = await new ErasureCoder(k, m, size, wasm).encode(data);
        expect(a, `${used} (${k},${m})`).toEqual(b);
        const lost: (Uint8Array | undefined)[] = [...data, ...a];
        for (let i = 0; i < m; i++) lost[(i * 3) % (k + m)] = undefined;
        expect(await new ErasureCoder(k, m, size, wasm).reconstruct(lost)).toEqual([...data, ...a]);
        expect(await new ErasureCoder(k, m, size, jsErasureCodec()).encode(data)).toEqual(a);
        expect(await new ErasureCoder(k, m, size, native).reconstruct(lost)).toEqual([...data, ...a]);
      }
    }
    native.backend();
  });

  it("refuses too many erasures, bad shapes and unsupported parameters with coded errors", async () => {
    for (const codec of codecs) {
      const coder = new ErasureCoder(4, 2, 64, codec);
      const parity = await coder.encode([1, 2, 3, 4].map((i) => new Uint8Array(64).fill(i)));
      const shards: (Uint8Array | undefined)[] = [undefined, undefined, undefined, new Uint8Array(64), ...parity];
      await expect(coder.reconstruct(shards)).rejects.toMatchObject({ code: StorageErrorCode.ERASURE_TOO_FEW });
      await expect(coder.reconstruct(shards.slice(1))).rejects.toMatchObject({ code: StorageErrorCode.ERASURE_SHARDS });
      await expect(
        coder.encode([new Uint8Array(65), new Uint8Array(1), new Uint8Array(1), new Uint8Array(1)]),
      ).rejects.toMatchObject({
        code: StorageErrorCode.ERASURE_SHARDS,
      });
      const tampered = [...[1, 2, 3, 4].map((i) => new Uint8Array(64).fill(i)), ...parity.map((p) => p.slice())];
      tampered[5][3] ^= 1;
      expect(await coder.verify(tampered)).toBe(false);
    }
    if (ronomon)
      expect(() => new ErasureCoder(16, 8, 64, ronomon)).toThrow(
        expect.objectContaining({ code: StorageErrorCode.ERASURE_PARAMS }),
      );
    expect(() => new ErasureCoder(200, 57, 64)).toThrow(expect.objectContaining({ code: StorageErrorCode.ERASURE_UNAVAILABLE }));
    expect(() => new ErasureCoder(0, 2, 64)).toThrow(expect.objectContaining({ code: StorageErrorCode.ERASURE_UNAVAILABLE }));
  });
});
