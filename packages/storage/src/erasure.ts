import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { StorageError, StorageErrorCode } from "./errors.ts";
import { encodingMatrix, gfMatMul, gfReconstruct } from "./gf256.ts";

/**
 * A Reed-Solomon erasure code over GF(2^8): `k` data shards and `m` parity shards of equal size, laid out
 * contiguously (`(k + m) * shardSize` bytes, data first). Codecs of the same `family` produce identical parity
 * and can reconstruct each other's stripes; different families cannot.
 */
export interface ErasureCodec {
  readonly name: string;
  readonly family: ErasureFamily;
  supports(k: number, m: number, shardSize: number): boolean;
  /** Fills the m parity shards from the k data shards, in place. */
  encode(shards: Uint8Array, k: number, m: number, shardSize: number): Promise<void>;
  /** Rebuilds, in place, every shard whose `present` flag is false; needs at least k present shards. */
  reconstruct(shards: Uint8Array, k: number, m: number, shardSize: number, present: readonly boolean[]): Promise<void>;
}

/**
 * `vandermonde-gf256`: systematic Vandermonde code over GF(2^8) with polynomial 0x11D (Backblaze /
 * `reed-solomon-erasure` construction). `ronomon-cauchy`: @ronomon/reed-solomon's own code.
 */
export type ErasureFamily = "vandermonde-gf256" | "ronomon-cauchy";

const require = createRequire(import.meta.url);

/** Any GF(2^8) Vandermonde code: whole positive shard counts with k + m <= 256 (the field's size). */
function gf256Supports(k: number, m: number, shardSize: number): boolean {
  return (
    Number.isInteger(k) && Number.isInteger(m) && k >= 1 && m >= 1 && k + m <= 256 && Number.isInteger(shardSize) && shardSize > 0
  );
}

function checkShape(codec: ErasureCodec, shards: Uint8Array, k: number, m: number, shardSize: number): void {
  if (!codec.supports(k, m, shardSize)) {
    throw new StorageError(
      StorageErrorCode.ERASURE_PARAMS,
      `${codec.name} does not support k=${k}, m=${m}, shard size ${shardSize}`,
    );
  }
  if (shards.length !== (k + m) * shardSize) {
    throw new StorageError(
      StorageErrorCode.ERASURE_SHARDS,
      `stripe holds ${shards.length} bytes, expected ${(k + m) * shardSize}`,
    );
  }
}

function checkPresent(present: readonly boolean[], k: number, m: number): void {
  if (present.length !== k + m)
    throw new StorageError(StorageErrorCode.ERASURE_SHARDS, `present has ${present.length} flags, expected ${k + m}`);
  const have = present.filter(Boolean).length;
  if (have < k) throw new StorageError(StorageErrorCode.ERASURE_TOO_FEW, `only ${have} of ${k + m} shards present, need ${k}`);
}

interface NativeRs {
  encode(shards: Uint8Array, k: number, m: number, shardSize: number): void;
  reconstruct(shards: Uint8Array, k: number, m: number, shardSize: number, present: Uint8Array): void;
  setBackend(name?: string): string;
}

/** Our own C codec (`native/reed_solomon.c`): GFNI, AVX2 or scalar kernels chosen at run time. */
export class NativeErasureCodec implements ErasureCodec {
  readonly name = "zg-native";
  readonly family = "vandermonde-gf256" as const;
  readonly addon: NativeRs;

  constructor(addon: NativeRs) {
    this.addon = addon;
  }

  /** The SIMD kernel in use ("gfni" | "avx2" | "scalar"); pass a name to force a lesser one (tests, benchmarks). */
  backend(force?: "gfni" | "avx2" | "scalar"): string {
    return this.addon.setBackend(force);
  }

  supports(k: number, m: number, shardSize: number): boolean {
    return gf256Supports(k, m, shardSize);
  }

  async encode(shards: Uint8Array, k: number, m: number, shardSize: number): Promise<void> {
    checkShape(this, shards, k, m, shardSize);
    this.addon.encode(shards, k, m, shardSize);
  }

  async reconstruct(shards: Uint8Array, k: number, m: number, shardSize: number, present: readonly boolean[]): Promise<void> {
    checkShape(this, shards, k, m, shardSize);
    checkPresent(present, k, m);
    this.addon.reconstruct(
      shards,
      k,
      m,
      shardSize,
      Uint8Array.from(present, (p) => (p ? 1 : 0)),
    );
  }
}

interface WasmRs {
  encode(shards: Uint8Array, dataShards: number, parityShards: number): number;
}

/** `@digitaldefiance/reed-solomon-erasure.wasm` (Rust `reed-solomon-erasure` in WASM): the portable fallback. */
export class WasmErasureCodec implements ErasureCodec {
  readonly name = "wasm";
  readonly family = "vandermonde-gf256" as const;
  readonly rs: WasmRs;

  constructor(rs: WasmRs) {
    this.rs = rs;
  }

  supports(k: number, m: number, shardSize: number): boolean {
    return gf256Supports(k, m, shardSize);
  }

  async encode(shards: Uint8Array, k: number, m: number, shardSize: number): Promise<void> {
    checkShape(this, shards, k, m, shardSize);
    const r = this.rs.encode(shards, k, m);
    if (r !== 0) throw new StorageError(StorageErrorCode.ERASURE_PARAMS, `wasm encode failed with code ${r}`);
  }

  /**
   * Decoding runs in TypeScript (`gf256.ts`), not in the WASM module: its `reconstruct` export reports
   * "too few shards" for valid inputs (e.g. k=4, m=2 with shards 1 and 2 missing) and can trap afterwards.
   */
  async reconstruct(shards: Uint8Array, k: number, m: number, shardSize: number, present: readonly boolean[]): Promise<void> {
    checkShape(this, shards, k, m, shardSize);
    checkPresent(present, k, m);
    gfReconstruct(shards, k, m, shardSize, present);
  }
}

/** Pure TypeScript codec of the same family: the last resort, and the reference in tests. */
export class JsErasureCodec implements ErasureCodec {
  readonly name = "js";
  readonly family = "vandermonde-gf256" as const;

  supports(k: number, m: number, shardSize: number): boolean {
    return gf256Supports(k, m, shardSize);
  }

  async encode(shards: Uint8Array, k: number, m: number, shardSize: number): Promise<void> {
    checkShape(this, shards, k, m, shardSize);
    const matrix = encodingMatrix(k, m);
    const shard = (i: number) => shards.subarray(i * shardSize, (i + 1) * shardSize);
    gfMatMul(
      matrix.subarray(k * k),
      [...Array(k).keys()].map(shard),
      [...Array(m).keys()].map((i) => shard(k + i)),
      shardSize,
    );
  }

  async reconstruct(shards: Uint8Array, k: number, m: number, shardSize: number, present: readonly boolean[]): Promise<void> {
    checkShape(this, shards, k, m, shardSize);
    checkPresent(present, k, m);
    gfReconstruct(shards, k, m, shardSize, present);
  }
}

interface RonomonRs {
  MAX_K: number;
  MAX_M: number;
  create(k: number, m: number): unknown;
  encode(
    ctx: unknown,
    sources: number,
    targets: number,
    buffer: Uint8Array,
    bufferOffset: number,
    bufferSize: number,
    parity: Uint8Array,
    parityOffset: number,
    paritySize: number,
    cb: (err?: Error) => void,
  ): void;
}

/**
 * `@ronomon/reed-solomon` (native, runs in the libuv pool): its own code family, k <= 24, m <= 6, shard size a
 * multiple of 8. Kept for comparison in the benchmark; stripes it encodes are only decodable by it.
 */
export class RonomonErasureCodec implements ErasureCodec {
  readonly name = "ronomon";
  readonly family = "ronomon-cauchy" as const;
  readonly rs: RonomonRs;
  private readonly contexts = new Map<string, unknown>();

  constructor(rs: RonomonRs) {
    this.rs = rs;
  }

  supports(k: number, m: number, shardSize: number): boolean {
    return k >= 1 && m >= 1 && k <= this.rs.MAX_K && m <= this.rs.MAX_M && shardSize > 0 && shardSize % 8 === 0;
  }

  private run(shards: Uint8Array, k: number, m: number, shardSize: number, sources: number, targets: number): Promise<void> {
    const key = `${k}/${m}`;
    let ctx = this.contexts.get(key);
    if (ctx === undefined) {
      ctx = this.rs.create(k, m);
      this.contexts.set(key, ctx);
    }
    const data = shards.subarray(0, k * shardSize);
    const parity = shards.subarray(k * shardSize);
    return new Promise((resolve, reject) =>
      this.rs.encode(ctx, sources, targets, data, 0, data.length, parity, 0, parity.length, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  }

  async encode(shards: Uint8Array, k: number, m: number, shardSize: number): Promise<void> {
    checkShape(this, shards, k, m, shardSize);
    const sources = 2 ** k - 1;
    const targets = (2 ** m - 1) * 2 ** k;
    await this.run(Buffer.from(shards.buffer, shards.byteOffset, shards.byteLength), k, m, shardSize, sources, targets);
  }

  async reconstruct(shards: Uint8Array, k: number, m: number, shardSize: number, present: readonly boolean[]): Promise<void> {
    checkShape(this, shards, k, m, shardSize);
    checkPresent(present, k, m);
    let sources = 0;
    let targets = 0;
    present.forEach((p, i) => {
      if (p) sources += 2 ** i;
      else targets += 2 ** i;
    });
    if (targets === 0) return;
    await this.run(Buffer.from(shards.buffer, shards.byteOffset, shards.byteLength), k, m, shardSize, sources, targets);
  }
}

const jsCodec = new JsErasureCodec();

/** The pure TypeScript codec. */
export function jsErasureCodec(): JsErasureCodec {
  return jsCodec;
}

let nativeCodec: NativeErasureCodec | null | undefined;
let wasmCodec: WasmErasureCodec | null | undefined;
let ronomonCodec: RonomonErasureCodec | null | undefined;

/** Our native codec, or undefined when the addon was not built (no compiler at install). */
export function nativeErasureCodec(): NativeErasureCodec | undefined {
  if (nativeCodec === undefined) {
    try {
      nativeCodec = new NativeErasureCodec(require("../build/Release/zg_reed_solomon.node") as NativeRs);
    } catch {
      nativeCodec = null;
    }
  }
  return nativeCodec ?? undefined;
}

/** The WASM codec (always available: the module ships its .wasm). */
export function wasmErasureCodec(): WasmErasureCodec | undefined {
  if (wasmCodec === undefined) {
    try {
      const mod = require("@digitaldefiance/reed-solomon-erasure.wasm") as {
        ReedSolomonErasure: { fromBytes(b: Uint8Array): WasmRs };
      };
      // Load the .wasm by path: the package's own ESM loader trips over __dirname under Node 24.
      const wasmPath = join(
        dirname(require.resolve("@digitaldefiance/reed-solomon-erasure.wasm")),
        "reed_solomon_erasure_bg.wasm",
      );
      wasmCodec = new WasmErasureCodec(mod.ReedSolomonErasure.fromBytes(readFileSync(wasmPath)));
    } catch {
      wasmCodec = null;
    }
  }
  return wasmCodec ?? undefined;
}

/** @ronomon/reed-solomon, when its optional native build is present. */
export function ronomonErasureCodec(): RonomonErasureCodec | undefined {
  if (ronomonCodec === undefined) {
    try {
      ronomonCodec = new RonomonErasureCodec(require("@ronomon/reed-solomon") as RonomonRs);
    } catch {
      ronomonCodec = null;
    }
  }
  return ronomonCodec ?? undefined;
}

/**
 * The codec to use for (k, m): our native codec when built (fastest in `pnpm bench:storage` for every shape),
 * else the WASM codec, which produces the same parity, so stripes stay readable whichever one wrote them.
 */
export function selectErasureCodec(k: number, m: number, shardSize: number): ErasureCodec {
  for (const c of [nativeErasureCodec(), wasmErasureCodec(), jsCodec]) if (c?.supports(k, m, shardSize)) return c;
  throw new StorageError(
    StorageErrorCode.ERASURE_UNAVAILABLE,
    `no erasure codec supports k=${k}, m=${m}, shard size ${shardSize}`,
  );
}

/**
 * Stripes of segments: k data segments (each at most `shardSize` bytes, zero-padded to it) plus m parity
 * segments. Any k of the k + m shards rebuild the rest.
 */
export class ErasureCoder {
  readonly k: number;
  readonly m: number;
  readonly shardSize: number;
  readonly codec: ErasureCodec;

  constructor(k: number, m: number, shardSize: number, codec: ErasureCodec = selectErasureCodec(k, m, shardSize)) {
    if (!codec.supports(k, m, shardSize)) {
      throw new StorageError(
        StorageErrorCode.ERASURE_PARAMS,
        `${codec.name} does not support k=${k}, m=${m}, shard size ${shardSize}`,
      );
    }
    this.k = k;
    this.m = m;
    this.shardSize = shardSize;
    this.codec = codec;
  }

  private stripe(shards: readonly (Uint8Array | undefined)[], count: number): Uint8Array {
    if (shards.length !== count) {
      throw new StorageError(StorageErrorCode.ERASURE_SHARDS, `expected ${count} shards, got ${shards.length}`);
    }
    const buf = new Uint8Array((this.k + this.m) * this.shardSize);
    shards.forEach((s, i) => {
      if (s === undefined) return;
      if (s.length > this.shardSize || (i >= this.k && s.length !== this.shardSize)) {
        throw new StorageError(
          StorageErrorCode.ERASURE_SHARDS,
          `shard ${i} has ${s.length} bytes (shard size ${this.shardSize})`,
        );
      }
      buf.set(s, i * this.shardSize);
    });
    return buf;
  }

  private split(buf: Uint8Array, from: number, to: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let i = from; i < to; i++) out.push(buf.slice(i * this.shardSize, (i + 1) * this.shardSize));
    return out;
  }

  /** The m parity shards of k data shards. */
  async encode(data: readonly Uint8Array[]): Promise<Uint8Array[]> {
    const buf = this.stripe([...data, ...new Array<undefined>(this.m)], this.k + this.m);
    await this.codec.encode(buf, this.k, this.m, this.shardSize);
    return this.split(buf, this.k, this.k + this.m);
  }

  /** True when the m parity shards are exactly those of the k data shards. */
  async verify(shards: readonly Uint8Array[]): Promise<boolean> {
    if (shards.length !== this.k + this.m) {
      throw new StorageError(StorageErrorCode.ERASURE_SHARDS, `expected ${this.k + this.m} shards, got ${shards.length}`);
    }
    const parity = await this.encode(shards.slice(0, this.k));
    return parity.every((p, i) => {
      const q = shards[this.k + i];
      return q.length === p.length && Buffer.compare(p, q) === 0;
    });
  }

  /** All k + m shards from any k of them (missing ones `undefined`). Data shards come back padded to shardSize. */
  async reconstruct(shards: readonly (Uint8Array | undefined)[]): Promise<Uint8Array[]> {
    const buf = this.stripe(shards, this.k + this.m);
    const present = shards.map((s) => s !== undefined);
    await this.codec.reconstruct(buf, this.k, this.m, this.shardSize, present);
    return this.split(buf, 0, this.k + this.m);
  }
}
