import { RLP } from "@ethereumjs/rlp";

/**
 * Root of the Merkle-Patricia trie mapping rlp(i) -> values[i] (the transactions and receipts tries of a block),
 * computed in one pass: every node is encoded and hashed once, instead of once per insertion as incremental puts
 * into a trie do. Same result as inserting into an empty @ethereumjs MerklePatriciaTrie (tested against it).
 */
export function orderedTrieRoot(values: Uint8Array[], keccak: (m: Uint8Array) => Uint8Array): Uint8Array {
  if (values.length === 0) return keccak(EMPTY_STRING);
  const items = values.map((value, i) => ({ key: toNibbles(RLP.encode(i)), value }));
  items.sort((a, b) => compareNibbles(a.key, b.key));
  return keccak(encodeNode(items, 0, keccak));
}

interface Item {
  key: Uint8Array;
  value: Uint8Array;
}

const EMPTY_STRING = new Uint8Array([0x80]);

function toNibbles(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length * 2);
  for (let i = 0; i < bytes.length; i++) {
    out[2 * i] = bytes[i] >> 4;
    out[2 * i + 1] = bytes[i] & 0x0f;
  }
  return out;
}

function compareNibbles(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** Hex-prefix encoding of a nibble path (yellow paper appendix C). */
function hexPrefix(nibbles: Uint8Array, leaf: boolean): Uint8Array {
  const odd = nibbles.length % 2;
  const out = new Uint8Array(1 + (nibbles.length >> 1));
  const flag = leaf ? 2 : 0;
  let i = 0;
  if (odd) {
    out[0] = ((flag + 1) << 4) | nibbles[0];
    i = 1;
  } else {
    out[0] = flag << 4;
  }
  for (let j = 1; i < nibbles.length; i += 2, j++) out[j] = (nibbles[i] << 4) | nibbles[i + 1];
  return out;
}

/** RLP list from already-encoded items. */
export function encodeList(encodedItems: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const e of encodedItems) len += e.length;
  const prefix = lengthPrefix(len, 0xc0);
  const out = new Uint8Array(prefix.length + len);
  out.set(prefix, 0);
  let off = prefix.length;
  for (const e of encodedItems) {
    out.set(e, off);
    off += e.length;
  }
  return out;
}

/** RLP length prefix of a payload of `len` bytes: `offset` 0x80 for a string, 0xc0 for a list. */
export function lengthPrefix(len: number, offset: number): Uint8Array {
  if (len < 56) return new Uint8Array([offset + len]);
  const bytes: number[] = [];
  for (let l = len; l > 0; l = Math.floor(l / 256)) bytes.unshift(l & 0xff);
  return new Uint8Array([offset + 55 + bytes.length, ...bytes]);
}

const encodeBytes = (b: Uint8Array): Uint8Array => RLP.encode(b);

/** How a child node appears inside its parent: inline when its encoding is shorter than 32 bytes, else its hash. */
function reference(encoded: Uint8Array, keccak: (m: Uint8Array) => Uint8Array): Uint8Array {
  return encoded.length < 32 ? encoded : encodeBytes(keccak(encoded));
}

/** Encodes the (sub)trie holding `items` (sorted, distinct keys), all sharing their first `depth` nibbles. */
function encodeNode(items: Item[], depth: number, keccak: (m: Uint8Array) => Uint8Array): Uint8Array {
  if (items.length === 1) {
    const { key, value } = items[0];
    return encodeList([encodeBytes(hexPrefix(key.subarray(depth), true)), encodeBytes(value)]);
  }
  // Longest common prefix beyond `depth` (sorted input: compare first and last).
  const first = items[0].key;
  const last = items[items.length - 1].key;
  let p = depth;
  while (p < first.length && p < last.length && first[p] === last[p]) p++;
  if (p > depth) {
    const child = encodeNode(items, p, keccak);
    return encodeList([encodeBytes(hexPrefix(first.subarray(depth, p), false)), reference(child, keccak)]);
  }
  const slots: Uint8Array[] = new Array(17).fill(EMPTY_STRING);
  let i = 0;
  if (items[0].key.length === depth) {
    slots[16] = encodeBytes(items[0].value);
    i = 1;
  }
  while (i < items.length) {
    const nibble = items[i].key[depth];
    let j = i;
    while (j < items.length && items[j].key[depth] === nibble) j++;
    slots[nibble] = reference(encodeNode(items.slice(i, j), depth + 1, keccak), keccak);
    i = j;
  }
  return encodeList(slots);
}
