import type { Block } from "@ethereumjs/block";
import type { Common } from "@ethereumjs/common";
import { RLP } from "@ethereumjs/rlp";
import { Capability, createTxFromRLP, type TypedTransaction } from "@ethereumjs/tx";
import { bigIntToUnpaddedBytes, ecrecover, SECP256K1_ORDER_DIV_2 } from "@ethereumjs/util";
import { keccak256 as jsKeccak256 } from "@zgnode/crypto";
import { concatBytes } from "@zgnode/utils";
import { encodeList, lengthPrefix } from "./orderedTrie.ts";

/**
 * One-pass admission of a raw (EIP-2718 / legacy RLP) transaction. @ethereumjs computes a transaction's hash and
 * its signing hash by re-serializing the decoded fields (RLP encode, concat, keccak), and the sender address by a
 * pure-JS keccak of the public key: per admitted transfer that cost more than the signature recovery itself.
 * The raw bytes already hold all of it: a canonical transaction (the decoder rejects anything else) re-serializes
 * to exactly its input, so hash = keccak(raw), and the unsigned payload's fields are a contiguous slice of the
 * signed one. The results go into the transaction's own `cache` (hash, sender public key), the fields @ethereumjs
 * consults first, so nothing downstream recomputes them.
 */

/** The caches a signed @ethereumjs transaction consults before recomputing (not part of its public types). */
interface TxCache {
  hash?: Uint8Array;
  senderPubKey?: Uint8Array;
}

/**
 * A decoded raw transaction with its hash (undefined when unsigned: `tx.hash()` throws then); `sender()` recovers
 * once, on demand, throwing where `tx.getSenderAddress()` would.
 */
export interface RawTx {
  tx: TypedTransaction;
  hash: Uint8Array | undefined;
  sender(): Uint8Array;
}

function keccakOf(common: Common): (m: Uint8Array) => Uint8Array {
  return common.customCrypto.keccak256 ?? jsKeccak256;
}

/**
 * Decodes `raw` like `createTxFromRLP` (same validation, same errors) and fills in its hash. Blob transactions in
 * network form are not handled here (their hash is not keccak(raw)): callers decode those the slow way.
 */
export function decodeRawTx(input: Uint8Array, common: Common): RawTx {
  // A private copy: the transaction's fields, its cached hash and its stored encoding all view these bytes, so a
  // caller reusing its buffer must not be able to change them.
  const raw = input.slice();
  const tx = createTxFromRLP(raw, { common });
  const fields = tx.isSigned() ? fieldBounds(raw) : undefined;
  // Unsigned, or a typed tx whose chain id is not minimally encoded (@ethereumjs accepts leading zeros there and
  // re-encodes it, so its hash is not keccak(raw)): leave everything to @ethereumjs.
  if (fields === undefined || (raw[0] < 0xc0 && !canonicalChainId(raw, fields))) return slowRawTx(tx);
  const keccak = keccakOf(tx.common);
  const hash = keccak(raw);
  (tx as unknown as { cache: TxCache }).cache.hash = hash;
  knownEncodings.set(tx, raw);
  let from: Uint8Array | undefined;
  return {
    tx,
    hash,
    sender() {
      if (from === undefined) {
        from = recoverFromRaw(tx, raw, fields, keccak);
        knownSenders.set(tx, from);
      }
      return from;
    },
  };
}

/**
 * Senders recovered at admission. @ethereumjs caches the public key but derives the address from it again with a
 * pure-JS keccak on every `getSenderAddress()`; block building asks once per transaction more.
 */
const knownSenders = new WeakMap<TypedTransaction, Uint8Array>();

/** `tx.getSenderAddress().bytes`, without the recomputation for transactions admitted through `decodeRawTx`. */
export function senderOf(tx: TypedTransaction): Uint8Array {
  return knownSenders.get(tx) ?? tx.getSenderAddress().bytes;
}

/** Canonical encodings received at admission: equal to `tx.serialize()` (its hash is keccak of them). */
const knownEncodings = new WeakMap<TypedTransaction, Uint8Array>();

/** `tx.serialize()`, without re-encoding transactions admitted through `decodeRawTx` (the transactions root). */
export function encodingOf(tx: TypedTransaction): Uint8Array {
  return knownEncodings.get(tx) ?? tx.serialize();
}

/**
 * `block.serialize()` reusing the encodings transactions arrived in (@ethereumjs re-encodes every transaction's
 * fields). The block list is `[header, txs, uncles, withdrawals?]`; a typed transaction is a byte string there, a
 * legacy one its own RLP list.
 */
export function serializeBlock(block: Block): Uint8Array {
  const txs: Uint8Array[] = [];
  for (const tx of block.transactions) {
    const raw = knownEncodings.get(tx);
    if (raw === undefined) txs.push(RLP.encode(tx.supports(Capability.EIP2718TypedTransaction) ? tx.serialize() : tx.raw()));
    else txs.push(raw[0] < 0xc0 ? RLP.encode(raw) : raw);
  }
  const parts = [RLP.encode(block.header.raw()), encodeList(txs), RLP.encode(block.uncleHeaders.map((h) => h.raw()))];
  if (block.withdrawals) parts.push(RLP.encode(block.withdrawals.map((w) => w.raw())));
  return encodeList(parts);
}

/** The same facts the plain @ethereumjs way (transactions that did not come in as raw bytes). */
export function slowRawTx(tx: TypedTransaction): RawTx {
  return { tx, hash: tx.isSigned() ? tx.hash() : undefined, sender: () => tx.getSenderAddress().bytes };
}

/** Where the signed list's fields start and each one ends. */
interface FieldBounds {
  first: number;
  ends: number[];
}

function fieldBounds(raw: Uint8Array): FieldBounds {
  const listAt = raw[0] < 0xc0 ? 1 : 0;
  const first = itemStart(raw, listAt);
  const listEnd = itemEnd(raw, listAt);
  const ends: number[] = [];
  for (let pos = first; pos < listEnd; ) {
    pos = itemEnd(raw, pos);
    ends.push(pos);
  }
  return { first, ends };
}

/** The typed tx's chain id has no leading zero byte (its value already matched the Common's in the decoder). */
function canonicalChainId(raw: Uint8Array, f: FieldBounds): boolean {
  const id = fieldPayload(raw, f, 0);
  return id.length === 0 || id[0] !== 0;
}

/** `tx.getSenderAddress().bytes` with the signing hash cut from `raw`; caches the public key in `tx`. */
function recoverFromRaw(
  tx: TypedTransaction,
  raw: Uint8Array,
  fields: FieldBounds,
  keccak: (m: Uint8Array) => Uint8Array,
): Uint8Array {
  const cache = (tx as unknown as { cache: TxCache }).cache;
  let pub = cache.senderPubKey;
  if (pub === undefined) {
    // The checks of @ethereumjs' Legacy.getSenderPublicKey, in its order (the pool maps any failure to
    // INVALID_SENDER, as it did for @ethereumjs' own errors).
    const { v, s } = tx as { v: bigint; s: bigint };
    if (tx.common.gteHardfork("homestead") && s > SECP256K1_ORDER_DIV_2) {
      throw new Error(`Invalid Signature: s-values greater than secp256k1n/2 are considered invalid (tx type=${tx.type})`);
    }
    const msgHash = keccak(signingPayload(tx, raw, fields));
    const eip155 = tx.supports(Capability.EIP155ReplayProtection);
    try {
      // r and s as the raw holds them: minimal big-endian (the decoder rejects leading zeros), which is what
      // bigIntToUnpaddedBytes(r / s) gives back.
      const n = fields.ends.length;
      pub = (tx.common.customCrypto.ecrecover ?? ecrecover)(
        msgHash,
        v,
        fieldPayload(raw, fields, n - 2),
        fieldPayload(raw, fields, n - 1),
        eip155 ? tx.common.chainId() : undefined,
      );
    } catch {
      throw new Error(`Invalid Signature (tx type=${tx.type})`);
    }
    cache.senderPubKey = pub;
  }
  return keccak(pub).subarray(12);
}

/**
 * The bytes a sender signs, cut from the signed encoding: typed `type || rlp([fields without v, r, s])`; legacy
 * `rlp([nonce, gasPrice, gasLimit, to, value, data])`, plus `chainId, 0, 0` under EIP-155.
 */
function signingPayload(tx: TypedTransaction, raw: Uint8Array, { first, ends }: FieldBounds): Uint8Array {
  if (raw[0] < 0xc0) {
    const body = raw.subarray(first, ends[ends.length - 4]);
    return concatBytes(raw.subarray(0, 1), lengthPrefix(body.length, 0xc0), body);
  }
  const body = raw.subarray(first, ends[5]);
  if (!tx.supports(Capability.EIP155ReplayProtection)) return concatBytes(lengthPrefix(body.length, 0xc0), body);
  const chainId = encodeBytes(bigIntToUnpaddedBytes(tx.common.chainId()));
  return concatBytes(lengthPrefix(body.length + chainId.length + 2, 0xc0), body, chainId, EMPTY_PAIR);
}

const EMPTY_PAIR = new Uint8Array([0x80, 0x80]);

/** The payload of field `i` of the signed list. */
function fieldPayload(raw: Uint8Array, f: FieldBounds, i: number): Uint8Array {
  return raw.subarray(itemStart(raw, i === 0 ? f.first : f.ends[i - 1]), f.ends[i]);
}

/** Offset of the payload of the RLP item at `pos` (input already validated by a full decode). */
function itemStart(b: Uint8Array, pos: number): number {
  const p = b[pos];
  if (p < 0x80) return pos;
  if (p <= 0xb7) return pos + 1;
  if (p < 0xc0) return pos + 1 + (p - 0xb7);
  if (p <= 0xf7) return pos + 1;
  return pos + 1 + (p - 0xf7);
}

/** Offset just past the RLP item at `pos`. */
function itemEnd(b: Uint8Array, pos: number): number {
  const p = b[pos];
  if (p < 0x80) return pos + 1;
  if (p <= 0xb7) return pos + 1 + (p - 0x80);
  if (p <= 0xbf) return pos + 1 + (p - 0xb7) + readLength(b, pos + 1, p - 0xb7);
  if (p <= 0xf7) return pos + 1 + (p - 0xc0);
  return pos + 1 + (p - 0xf7) + readLength(b, pos + 1, p - 0xf7);
}

function readLength(b: Uint8Array, pos: number, n: number): number {
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + b[pos + i];
  return len;
}

/** RLP of a short byte string (a chain id: at most 32 bytes). */
function encodeBytes(b: Uint8Array): Uint8Array {
  if (b.length === 1 && b[0] < 0x80) return b;
  return concatBytes(new Uint8Array([0x80 + b.length]), b);
}
