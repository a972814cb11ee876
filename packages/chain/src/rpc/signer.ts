import type { Common } from "@ethereumjs/common";
import { createTx, type TypedTransaction, type TypedTxData } from "@ethereumjs/tx";
import type { Address } from "@ethereumjs/util";
import { keccak256, secp256k1 } from "@zgnode/crypto";
import { bytesToHex, concatBytes, hexToBytes, RpcError, RpcErrorCode, uintToBytes, utf8ToBytes } from "@zgnode/utils";
import type { DevSigner } from "./backend.ts";

/** eth_sign / personal_sign / eth_signTypedData_v4 / eth_sendTransaction for node-managed dev keys. */

function keyOf(signer: DevSigner, address: Address): Uint8Array {
  const key = signer.privateKey(address);
  if (key === undefined) throw new RpcError(RpcErrorCode.SERVER_ERROR, "unknown account");
  return key;
}

/** 65-byte r || s || v (v = 27 + recovery), as geth returns. */
export function signHash(hash: Uint8Array, key: Uint8Array): `0x${string}` {
  const raw = secp256k1.sign(hash, key, { prehash: false, format: "recovered" });
  const sig = secp256k1.Signature.fromBytes(raw, "recovered");
  return bytesToHex(concatBytes(uintToBytes(sig.r, 32), uintToBytes(sig.s, 32), new Uint8Array([27 + (sig.recovery ?? 0)])));
}

/** EIP-191 personal message hash: keccak("\x19Ethereum Signed Message:\n" + len + message). */
export function personalMessageHash(message: Uint8Array): Uint8Array {
  return keccak256(concatBytes(utf8ToBytes(`\x19Ethereum Signed Message:\n${message.length}`), message));
}

export function signDevMessage(signer: DevSigner, address: Address, message: Uint8Array): `0x${string}` {
  return signHash(personalMessageHash(message), keyOf(signer, address));
}

// ---- EIP-712 ----

type TypedField = { name: string; type: string };
type TypedTypes = Record<string, TypedField[]>;

interface TypedData {
  types: TypedTypes;
  primaryType: string;
  domain: Record<string, unknown>;
  message: Record<string, unknown>;
}

function dependencies(types: TypedTypes, primary: string, found = new Set<string>()): Set<string> {
  const base = primary.replace(/\[.*$/, "");
  if (found.has(base) || types[base] === undefined) return found;
  found.add(base);
  for (const f of types[base]) dependencies(types, f.type, found);
  return found;
}

export function encodeType(types: TypedTypes, primary: string): string {
  const deps = [...dependencies(types, primary)].filter((d) => d !== primary).sort();
  return [primary, ...deps].map((t) => `${t}(${types[t]!.map((f) => `${f.type} ${f.name}`).join(",")})`).join("");
}

function toBigInt(v: unknown): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number") return BigInt(v);
  if (typeof v === "string") return BigInt(v);
  if (typeof v === "boolean") return v ? 1n : 0n;
  throw new RpcError(RpcErrorCode.INVALID_PARAMS, `invalid typed data value ${String(v)}`);
}

function encodeValue(types: TypedTypes, type: string, value: unknown): Uint8Array {
  if (types[type] !== undefined) return hashStruct(types, type, value as Record<string, unknown>);
  if (type.endsWith("]")) {
    const inner = type.slice(0, type.lastIndexOf("["));
    const items = (value as unknown[]).map((v) => encodeValue(types, inner, v));
    return keccak256(concatBytes(...items));
  }
  if (type === "string") return keccak256(utf8ToBytes(String(value)));
  if (type === "bytes") return keccak256(hexToBytes(String(value)));
  if (type === "bool") return uintToBytes(value === true || value === "true" ? 1n : 0n, 32);
  if (type === "address") {
    const out = new Uint8Array(32);
    out.set(hexToBytes(String(value)), 12);
    return out;
  }
  if (type.startsWith("bytes")) {
    const out = new Uint8Array(32);
    out.set(hexToBytes(String(value)));
    return out;
  }
  if (type.startsWith("uint")) return uintToBytes(toBigInt(value), 32);
  if (type.startsWith("int")) {
    const n = toBigInt(value);
    return uintToBytes(n < 0n ? (1n << 256n) + n : n, 32);
  }
  throw new RpcError(RpcErrorCode.INVALID_PARAMS, `unsupported typed data type ${type}`);
}

export function hashStruct(types: TypedTypes, primary: string, data: Record<string, unknown>): Uint8Array {
  const typeHash = keccak256(utf8ToBytes(encodeType(types, primary)));
  const fields = types[primary]!.map((f) => encodeValue(types, f.type, data[f.name]));
  return keccak256(concatBytes(typeHash, ...fields));
}

export function typedDataHash(data: TypedData): Uint8Array {
  const types = { ...data.types };
  const domainHash = hashStruct(types, "EIP712Domain", data.domain);
  const messageHash = hashStruct(types, data.primaryType, data.message);
  return keccak256(concatBytes(new Uint8Array([0x19, 0x01]), domainHash, messageHash));
}

export function signDevTypedData(signer: DevSigner, address: Address, data: unknown): `0x${string}` {
  const td = data as TypedData;
  if (td === null || typeof td !== "object" || td.types === undefined || td.primaryType === undefined) {
    throw new RpcError(RpcErrorCode.INVALID_PARAMS, "invalid typed data");
  }
  return signHash(typedDataHash(td), keyOf(signer, address));
}

export interface SendTxContext {
  common: Common;
  chainId: bigint;
  nonce(from: Address): Promise<bigint>;
  baseFee: bigint;
  tip: bigint;
  estimate(args: Record<string, unknown>): Promise<bigint>;
}

/** Fills and signs an eth_sendTransaction request (EIP-1559 unless gasPrice is given). */
export async function signDevTransaction(
  signer: DevSigner,
  args: Record<string, unknown>,
  ctx: SendTxContext,
): Promise<TypedTransaction> {
  if (typeof args.from !== "string") throw new RpcError(RpcErrorCode.INVALID_PARAMS, "missing from");
  const from = signer.accounts().find((a) => a.toString() === String(args.from).toLowerCase());
  if (from === undefined) throw new RpcError(RpcErrorCode.SERVER_ERROR, "unknown account");
  const key = keyOf(signer, from);
  const q = (v: unknown) => (v === undefined || v === null ? undefined : BigInt(String(v)));
  const data = (args.input ?? args.data ?? "0x") as string;
  const nonce = q(args.nonce) ?? (await ctx.nonce(from));
  const gasLimit = q(args.gas) ?? (await ctx.estimate({ ...args, nonce: undefined }));
  const txData: Record<string, unknown> = {
    nonce,
    gasLimit,
    to: args.to ?? undefined,
    value: q(args.value) ?? 0n,
    data,
    chainId: ctx.chainId,
  };
  if (args.gasPrice !== undefined && args.maxFeePerGas === undefined) {
    txData.type = 0;
    txData.gasPrice = q(args.gasPrice);
  } else {
    txData.type = 2;
    txData.maxPriorityFeePerGas = q(args.maxPriorityFeePerGas) ?? ctx.tip;
    txData.maxFeePerGas = q(args.maxFeePerGas) ?? ctx.baseFee * 2n + (txData.maxPriorityFeePerGas as bigint);
    txData.accessList = args.accessList ?? [];
  }
  return createTx(txData as TypedTxData, { common: ctx.common }).sign(key);
}
