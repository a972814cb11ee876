import type { Block } from "@ethereumjs/block";
import { RLP } from "@ethereumjs/rlp";
import { bytesToBigInt } from "@ethereumjs/util";
import type { BatchOp, KeyValueStore } from "@zgnode/db";
import { bytesToHex, concatBytes, uintToBytes } from "@zgnode/utils";
import { serializeBlock } from "./rawTx.ts";
import { decodeStoredReceipts, encodeStoredReceipts, type StoredReceipt } from "./receipts.ts";

const P = {
  block: new Uint8Array([0x62]), // "b" + hash -> block RLP
  receipts: new Uint8Array([0x72]), // "r" + hash -> stored receipts
  canonical: new Uint8Array([0x6e]), // "n" + uint64 number -> hash
  txIndex: new Uint8Array([0x74]), // "t" + tx hash -> RLP [block hash, index]
  head: new Uint8Array([0x48]), // "H" -> head hash
  genesis: new Uint8Array([0x47]), // "G" -> genesis hash
  chainId: new Uint8Array([0x49]), // "I" -> chain id (the genesis hash does not cover it)
};

export interface TxLocation {
  blockHash: Uint8Array;
  index: number;
}

/**
 * Blocks, receipts and indexes (number -> hash, tx hash -> location, head) in the node's key-value store.
 * Reads go through a small cache of recently used blocks; all writes are returned as batch operations so the
 * chain commits a block, its receipts, its state nodes and the new head in one atomic batch.
 */
export class ChainStore {
  readonly db: KeyValueStore;
  private readonly blockCache = new Map<string, Block>();
  private readonly receiptCache = new Map<string, StoredReceipt[]>();
  private readonly cacheSize: number;
  private readonly decode: (bytes: Uint8Array) => Block;

  constructor(db: KeyValueStore, cacheSize: number, decode: (bytes: Uint8Array) => Block) {
    this.db = db;
    this.cacheSize = cacheSize;
    this.decode = decode;
  }

  async getHeadHash(): Promise<Uint8Array | undefined> {
    return this.db.get(P.head);
  }

  async getGenesisHash(): Promise<Uint8Array | undefined> {
    return this.db.get(P.genesis);
  }

  async getBlock(hash: Uint8Array): Promise<Block | undefined> {
    const key = bytesToHex(hash);
    const cached = this.blockCache.get(key);
    if (cached) return cached;
    const raw = await this.db.get(concatBytes(P.block, hash));
    if (raw === undefined) return undefined;
    const block = this.decode(raw);
    this.remember(this.blockCache, key, block);
    return block;
  }

  async hasBlock(hash: Uint8Array): Promise<boolean> {
    if (this.blockCache.has(bytesToHex(hash))) return true;
    return (await this.db.get(concatBytes(P.block, hash))) !== undefined;
  }

  async getCanonicalHash(n: bigint): Promise<Uint8Array | undefined> {
    return this.db.get(concatBytes(P.canonical, uintToBytes(n, 8)));
  }

  async getReceipts(hash: Uint8Array): Promise<StoredReceipt[] | undefined> {
    const key = bytesToHex(hash);
    const cached = this.receiptCache.get(key);
    if (cached) return cached;
    const raw = await this.db.get(concatBytes(P.receipts, hash));
    if (raw === undefined) return undefined;
    const receipts = decodeStoredReceipts(raw);
    this.remember(this.receiptCache, key, receipts);
    return receipts;
  }

  async getTxLocation(txHash: Uint8Array): Promise<TxLocation | undefined> {
    const raw = await this.db.get(concatBytes(P.txIndex, txHash));
    if (raw === undefined) return undefined;
    const [blockHash, index] = RLP.decode(raw) as Uint8Array[];
    return { blockHash, index: Number(bytesToBigInt(index)) };
  }

  /** Operations storing a block body and its receipts (not yet canonical). */
  putBlockOps(block: Block, receipts: StoredReceipt[]): BatchOp[] {
    const hash = block.hash();
    this.remember(this.blockCache, bytesToHex(hash), block);
    this.remember(this.receiptCache, bytesToHex(hash), receipts);
    return [
      { type: "put", key: concatBytes(P.block, hash), value: serializeBlock(block) },
      { type: "put", key: concatBytes(P.receipts, hash), value: encodeStoredReceipts(receipts) },
    ];
  }

  /** Operations making `block` the canonical block at its height (number and tx indexes). */
  canonicalOps(block: Block): BatchOp[] {
    const hash = block.hash();
    const ops: BatchOp[] = [{ type: "put", key: concatBytes(P.canonical, uintToBytes(block.header.number, 8)), value: hash }];
    block.transactions.forEach((tx, i) => {
      ops.push({ type: "put", key: concatBytes(P.txIndex, tx.hash()), value: RLP.encode([hash, i]) });
    });
    return ops;
  }

  /** Operations undoing `canonicalOps` for a block leaving the canonical chain. */
  uncanonicalOps(block: Block, keepNumber: boolean): BatchOp[] {
    const ops: BatchOp[] = keepNumber
      ? []
      : [{ type: "del", key: concatBytes(P.canonical, uintToBytes(block.header.number, 8)) }];
    for (const tx of block.transactions) ops.push({ type: "del", key: concatBytes(P.txIndex, tx.hash()) });
    return ops;
  }

  headOps(hash: Uint8Array): BatchOp[] {
    return [{ type: "put", key: P.head, value: hash }];
  }

  genesisOps(hash: Uint8Array, chainId: bigint): BatchOp[] {
    return [
      { type: "put", key: P.genesis, value: hash },
      { type: "put", key: P.chainId, value: uintToBytes(chainId, 32) },
    ];
  }

  async getChainId(): Promise<bigint | undefined> {
    const raw = await this.db.get(P.chainId);
    return raw === undefined ? undefined : bytesToBigInt(raw);
  }

  private remember<V>(map: Map<string, V>, key: string, value: V): void {
    if (map.has(key)) map.delete(key);
    map.set(key, value);
    if (map.size > this.cacheSize) map.delete(map.keys().next().value as string);
  }
}
