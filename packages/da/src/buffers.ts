/** Many equal-size byte arrays ⇄ one flat buffer: the shape in which cells and proofs cross thread boundaries. */
export function flatten(parts: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(parts.length * size);
  for (let i = 0; i < parts.length; i++) out.set(parts[i], i * size);
  return out;
}

/** Views (no copies) of consecutive `size`-byte pieces of `flat`. */
export function split(flat: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < flat.length; o += size) out.push(flat.subarray(o, o + size));
  return out;
}
