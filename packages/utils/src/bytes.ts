import { CodedError } from "./errors.ts";

export type Hex = `0x${string}`;

const HEX_RE = /^0x[0-9a-fA-F]*$/;
const hexes = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function isHex(value: unknown): value is Hex {
  return typeof value === "string" && HEX_RE.test(value);
}

export function bytesToHex(bytes: Uint8Array): Hex {
  // Node's Buffer hex encoder is several times faster than a JS loop for large inputs.
  if (bytes.length > 64) return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex")}`;
  let out = "0x";
  for (let i = 0; i < bytes.length; i++) out += hexes[bytes[i]];
  return out as Hex;
}

/** Decodes a 0x-prefixed, even-length hex string. Throws `INVALID_HEX` on anything else. */
export function hexToBytes(hex: string): Uint8Array {
  if (!isHex(hex) || hex.length % 2 !== 0) throw new CodedError("INVALID_HEX", `invalid hex string: ${hex.slice(0, 80)}`);
  const buf = Buffer.from(hex.slice(2), "hex");
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return Buffer.compare(a, b) === 0;
}

export function utf8ToBytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

export function bytesToUtf8(b: Uint8Array): string {
  return new TextDecoder().decode(b);
}

/** A JSON-RPC "quantity": 0x-prefixed hex without leading zeros. */
export function toQuantity(n: bigint | number): Hex {
  return `0x${n.toString(16)}`;
}

/** Big-endian fixed-width encoding of an unsigned integer. */
export function uintToBytes(n: bigint | number, width: number): Uint8Array {
  let v = BigInt(n);
  if (v < 0n) throw new CodedError("INVALID_UINT", "negative value");
  const out = new Uint8Array(width);
  for (let i = width - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  if (v !== 0n) throw new CodedError("INVALID_UINT", `value does not fit in ${width} bytes`);
  return out;
}

export function bytesToBigInt(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt(bytesToHex(b));
}
