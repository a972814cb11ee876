import { Address } from "@ethereumjs/util";
import { hexToBytes, invalidParams } from "@zgnode/utils";

/**
 * Strict parsers for JSON-RPC parameters. The server validates schemas first; these re-check so the table is
 * safe on its own and answers -32602 with geth-like messages ("hex string without 0x prefix", ...).
 */

const HEX_RE = /^0x[0-9a-fA-F]*$/;

function argError(index: number, message: string): Error {
  return invalidParams(`invalid argument ${index}: ${message}`);
}

function requireHexString(value: unknown, index: number): string {
  if (typeof value !== "string") throw argError(index, "json: cannot unmarshal non-string into hex value");
  if (!value.startsWith("0x") && !value.startsWith("0X")) throw argError(index, "hex string without 0x prefix");
  if (!HEX_RE.test(value)) throw argError(index, "invalid hex string");
  return value;
}

export function parseQuantity(value: unknown, index: number): bigint {
  const s = requireHexString(value, index);
  if (s.length === 2) throw argError(index, 'hex string "0x"');
  if (s.length > 66) throw argError(index, "hex number > 256 bits");
  return BigInt(s);
}

export function parseOptionalQuantity(value: unknown, index: number): bigint | undefined {
  return value === undefined || value === null ? undefined : parseQuantity(value, index);
}

export function parseData(value: unknown, index: number): Uint8Array {
  const s = requireHexString(value, index);
  if (s.length % 2 !== 0) throw argError(index, "hex string of odd length");
  return hexToBytes(s);
}

export function parseFixedData(value: unknown, index: number, length: number, what: string): Uint8Array {
  const s = requireHexString(value, index);
  if (s.length !== 2 + length * 2) throw argError(index, `${what} must be ${length} bytes`);
  return hexToBytes(s);
}

export function parseAddress(value: unknown, index: number): Address {
  return new Address(parseFixedData(value, index, 20, "address"));
}

export function parseHash(value: unknown, index: number): Uint8Array {
  if (typeof value === "string" && !value.startsWith("0x")) {
    throw argError(index, "json: cannot unmarshal hex string without 0x prefix into Go value of type common.Hash");
  }
  return parseFixedData(value, index, 32, "hash");
}

/** geth's storage-key rules: up to 32 bytes, left-padded. */
export function parseStorageKey(value: unknown): Uint8Array {
  if (typeof value !== "string" || !HEX_RE.test(value)) {
    throw invalidParams(`invalid hex in storage key: ${JSON.stringify(value)}`);
  }
  let hex = value.slice(2);
  if (hex.length > 64) throw invalidParams(`storage key too long (want at most 32 bytes): ${JSON.stringify(value)}`);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  const out = new Uint8Array(32);
  out.set(hexToBytes(`0x${hex}`), 32 - hex.length / 2);
  return out;
}

export type BlockTag = "latest" | "earliest" | "pending" | "safe" | "finalized";

/** A block reference: tag, number, or hash (EIP-1898). */
export type BlockRef =
  | { kind: "tag"; tag: BlockTag }
  | { kind: "number"; number: bigint }
  | { kind: "hash"; hash: Uint8Array; requireCanonical: boolean };

const TAGS = new Set(["latest", "earliest", "pending", "safe", "finalized"]);

/** Parses a block number or tag; undefined/null = latest. */
export function parseBlockNumberOrTag(value: unknown, index: number): BlockRef {
  if (value === undefined || value === null) return { kind: "tag", tag: "latest" };
  if (typeof value === "string" && TAGS.has(value)) return { kind: "tag", tag: value as BlockTag };
  const s = requireHexString(value, index);
  if (s.length > 18) throw argError(index, "hex number > 64 bits");
  return { kind: "number", number: parseQuantity(s, index) };
}

/** Parses a block number, tag, hash, or {blockHash|blockNumber, requireCanonical}; undefined = latest. */
export function parseBlockId(value: unknown, index: number): BlockRef {
  if (typeof value === "string" && value.length === 66 && value.startsWith("0x")) {
    return { kind: "hash", hash: parseHash(value, index), requireCanonical: false };
  }
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    if (o.blockHash !== undefined && o.blockNumber !== undefined) {
      throw argError(index, "cannot specify both BlockHash and BlockNumber, choose one or the other");
    }
    if (o.blockHash !== undefined) {
      return { kind: "hash", hash: parseHash(o.blockHash, index), requireCanonical: o.requireCanonical === true };
    }
    if (o.blockNumber !== undefined) return parseBlockNumberOrTag(o.blockNumber, index);
    throw argError(index, "invalid block reference");
  }
  return parseBlockNumberOrTag(value, index);
}

export function parseBool(value: unknown, index: number, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "boolean") throw argError(index, "json: cannot unmarshal into Go value of type bool");
  return value;
}

export function parseObject(value: unknown, index: number): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw argError(index, "expected an object");
  return value as Record<string, unknown>;
}
