/**
 * GF(2^8) arithmetic and the systematic Vandermonde code in plain TypeScript (polynomial 0x11D, generator 2):
 * the same construction as `native/reed_solomon.c`, used where neither the addon nor a working WASM routine
 * is available (it is an order of magnitude slower; see the benchmark).
 */
const EXP = new Uint8Array(512);
const LOG = new Uint8Array(256);
const MUL = new Uint8Array(256 * 256);
{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= 0x11d;
  }
  for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255];
  for (let a = 1; a < 256; a++) for (let b = 1; b < 256; b++) MUL[a * 256 + b] = EXP[LOG[a] + LOG[b]];
}

export function gfMul(a: number, b: number): number {
  return MUL[a * 256 + b];
}

function gfPow(a: number, n: number): number {
  if (n === 0) return 1;
  if (a === 0) return 0;
  return EXP[(LOG[a] * n) % 255];
}

/** Inverse of an n x n matrix (row-major); undefined when singular. */
export function gfInvert(a: Uint8Array, n: number): Uint8Array | undefined {
  const w = new Uint8Array(n * 2 * n);
  for (let r = 0; r < n; r++) {
    w.set(a.subarray(r * n, (r + 1) * n), r * 2 * n);
    w[r * 2 * n + n + r] = 1;
  }
  for (let c = 0; c < n; c++) {
    let p = c;
    while (p < n && w[p * 2 * n + c] === 0) p++;
    if (p === n) return undefined;
    if (p !== c) {
      const tmp = w.slice(c * 2 * n, (c + 1) * 2 * n);
      w.copyWithin(c * 2 * n, p * 2 * n, (p + 1) * 2 * n);
      w.set(tmp, p * 2 * n);
    }
    const s = EXP[255 - LOG[w[c * 2 * n + c]]];
    for (let j = 0; j < 2 * n; j++) w[c * 2 * n + j] = gfMul(w[c * 2 * n + j], s);
    for (let r = 0; r < n; r++) {
      const f = w[r * 2 * n + c];
      if (r === c || f === 0) continue;
      for (let j = 0; j < 2 * n; j++) w[r * 2 * n + j] ^= gfMul(f, w[c * 2 * n + j]);
    }
  }
  const out = new Uint8Array(n * n);
  for (let r = 0; r < n; r++) out.set(w.subarray(r * 2 * n + n, (r + 1) * 2 * n), r * n);
  return out;
}

/** The (k+m) x k systematic encoding matrix: Vandermonde V[r][c] = r^c times the inverse of its top k x k block. */
export function encodingMatrix(k: number, m: number): Uint8Array {
  const n = k + m;
  const v = new Uint8Array(n * k);
  for (let r = 0; r < n; r++) for (let c = 0; c < k; c++) v[r * k + c] = gfPow(r, c);
  const topInv = gfInvert(v.subarray(0, k * k), k);
  if (topInv === undefined) throw new Error("Vandermonde top block is singular");
  const out = new Uint8Array(n * k);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < k; c++) {
      let acc = 0;
      for (let j = 0; j < k; j++) acc ^= gfMul(v[r * k + j], topInv[j * k + c]);
      out[r * k + c] = acc;
    }
  }
  return out;
}

/** outputs[r] = XOR_c coef[r][c] * inputs[c], bytewise over `len` bytes. */
export function gfMatMul(coef: Uint8Array, inputs: readonly Uint8Array[], outputs: readonly Uint8Array[], len: number): void {
  const cols = inputs.length;
  for (let r = 0; r < outputs.length; r++) {
    const out = outputs[r];
    out.fill(0, 0, len);
    for (let c = 0; c < cols; c++) {
      const f = coef[r * cols + c];
      if (f === 0) continue;
      const src = inputs[c];
      if (f === 1) {
        for (let x = 0; x < len; x++) out[x] ^= src[x];
        continue;
      }
      const row = MUL.subarray(f * 256, f * 256 + 256);
      for (let x = 0; x < len; x++) out[x] ^= row[src[x]];
    }
  }
}

/** Rebuilds missing shards of a contiguous stripe in place (first k present shards as the basis). */
export function gfReconstruct(shards: Uint8Array, k: number, m: number, shardSize: number, present: readonly boolean[]): void {
  const n = k + m;
  const matrix = encodingMatrix(k, m);
  const chosen: number[] = [];
  for (let i = 0; i < n && chosen.length < k; i++) if (present[i]) chosen.push(i);
  const shard = (i: number) => shards.subarray(i * shardSize, (i + 1) * shardSize);
  const missingData = [...Array(k).keys()].filter((i) => !present[i]);
  if (missingData.length > 0) {
    const sub = new Uint8Array(k * k);
    for (let r = 0; r < k; r++) sub.set(matrix.subarray(chosen[r] * k, (chosen[r] + 1) * k), r * k);
    const dec = gfInvert(sub, k);
    if (dec === undefined) throw new Error("decoding matrix is singular");
    const rows = new Uint8Array(missingData.length * k);
    for (let o = 0; o < missingData.length; o++) rows.set(dec.subarray(missingData[o] * k, (missingData[o] + 1) * k), o * k);
    gfMatMul(rows, chosen.map(shard), missingData.map(shard), shardSize);
  }
  const missingParity = [...Array(m).keys()].map((i) => k + i).filter((i) => !present[i]);
  if (missingParity.length > 0) {
    const rows = new Uint8Array(missingParity.length * k);
    for (let o = 0; o < missingParity.length; o++)
      rows.set(matrix.subarray(missingParity[o] * k, (missingParity[o] + 1) * k), o * k);
    gfMatMul(rows, [...Array(k).keys()].map(shard), missingParity.map(shard), shardSize);
  }
}
