import type { Log } from "@ethereumjs/evm";
import { RLP } from "@ethereumjs/rlp";
import { bigIntToUnpaddedBytes, bytesToBigInt } from "@ethereumjs/util";

/** What the node stores per transaction after execution (consensus receipt plus the execution facts RPC needs). */
export interface StoredReceipt {
  /** 1 success, 0 failure. */
  status: 0 | 1;
  cumulativeGasUsed: bigint;
  /** Gas charged to this transaction (after refunds). */
  gasUsed: bigint;
  logs: Log[];
  /** 256-byte bloom of this receipt's logs. */
  logsBloom: Uint8Array;
  /** Sender, recorded at execution so reads never recover signatures. */
  from: Uint8Array;
  /** Address created by a contract-creation transaction. */
  contractAddress?: Uint8Array;
  blobGasUsed?: bigint;
  blobGasPrice?: bigint;
  /** Post-transaction state root: pre-Byzantium receipts carry this instead of a status. */
  root?: Uint8Array;
}

const EMPTY = new Uint8Array(0);

/**
 * `bigIntToUnpaddedBytes`: gas figures and statuses fit in a double, and @ethereumjs goes through a hex string
 * for every one (a few per receipt, every block).
 */
export function uintBytes(n: bigint): Uint8Array {
  if (n < 0n || n > 0x1fffffffffffffn) return bigIntToUnpaddedBytes(n);
  let x = Number(n);
  let len = 0;
  for (let y = x; y > 0; y = Math.floor(y / 256)) len++;
  const out = new Uint8Array(len);
  for (let i = len - 1; i >= 0; i--) {
    out[i] = x % 256;
    x = Math.floor(x / 256);
  }
  return out;
}

/** Compact RLP encoding of a block's receipts for storage (not the consensus encoding). */
export function encodeStoredReceipts(receipts: StoredReceipt[]): Uint8Array {
  return RLP.encode(
    receipts.map((r) => [
      uintBytes(BigInt(r.status)),
      uintBytes(r.cumulativeGasUsed),
      uintBytes(r.gasUsed),
      r.logs,
      r.logsBloom,
      r.contractAddress ?? EMPTY,
      r.blobGasUsed === undefined ? EMPTY : uintBytes(r.blobGasUsed),
      r.blobGasPrice === undefined ? EMPTY : uintBytes(r.blobGasPrice),
      r.from,
      r.root ?? EMPTY,
    ]),
  );
}

export function decodeStoredReceipts(bytes: Uint8Array): StoredReceipt[] {
  const rows = RLP.decode(bytes) as unknown as Uint8Array[][];
  return rows.map((row) => {
    const [status, cumulative, gasUsed, logs, bloom, created, blobGasUsed, blobGasPrice, from, root] = row as unknown as [
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Log[],
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Uint8Array | undefined,
    ];
    const r: StoredReceipt = {
      status: bytesToBigInt(status) === 1n ? 1 : 0,
      cumulativeGasUsed: bytesToBigInt(cumulative),
      gasUsed: bytesToBigInt(gasUsed),
      logs,
      logsBloom: bloom,
      from,
    };
    if (created.length > 0) r.contractAddress = created;
    if (root !== undefined && root.length > 0) r.root = root;
    if (blobGasUsed.length > 0 || blobGasPrice.length > 0) {
      r.blobGasUsed = bytesToBigInt(blobGasUsed);
      r.blobGasPrice = bytesToBigInt(blobGasPrice);
    }
    return r;
  });
}
