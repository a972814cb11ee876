import type { BatchDBOp, DB } from "@ethereumjs/util";
import type { BatchOp, KeyValueStore } from "@zgnode/db";
import { concatBytes, hexToBytes } from "@zgnode/utils";

/** Key prefix of state (account and storage trie) nodes and contract code in the node's store. */
export const STATE_PREFIX = new Uint8Array([0x73]); // "s"

/** keccak256(rlp("")) as the trie keys nodes: unprefixed hex. */
const EMPTY_TRIE_ROOT_KEY = "56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421";

/**
 * The Merkle-Patricia trie's node database over the node's key-value store. Writes are buffered in memory and
 * leave only through `takeWrites()`, which the chain puts into the same atomic batch as the block that produced
 * them: a crash can never persist state nodes of a block that is not stored, or a block whose state is missing.
 * Nodes are content-addressed and never deleted (no pruning), so every stored block's state stays readable.
 */
export class StateNodeDb implements DB<string, string | Uint8Array> {
  private readonly store: KeyValueStore;
  /** Nodes written since the last `takeWrites()`, and those whose batch is still in flight. */
  private pending = new Map<string, Uint8Array>();
  private inFlight = new Map<string, Uint8Array>();
  /**
   * Recently read or written nodes. Nodes are content-addressed and never rewritten, so a cached node can never be
   * stale; the cache spares the hot read paths (eth_call, tx admission) a LevelDB read and a thread-pool hop per node.
   */
  private readonly cache: NodeCache;

  constructor(store: KeyValueStore, cacheBytes = 64 * 1024 * 1024) {
    this.store = store;
    this.cache = new NodeCache(cacheBytes);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const p = this.pending.get(key) ?? this.inFlight.get(key) ?? this.cache.get(key);
    if (p !== undefined) return p;
    // The empty trie's root is never stored, yet the trie looks it up for every account without storage: answer
    // the miss without a LevelDB read (the profile of eth_call showed it as the top cost).
    if (key === EMPTY_TRIE_ROOT_KEY) return undefined;
    const value = await this.store.get(this.dbKey(key));
    if (value !== undefined) this.cache.set(key, value);
    return value;
  }

  async put(key: string, value: string | Uint8Array): Promise<void> {
    this.pending.set(key, typeof value === "string" ? hexToBytes(`0x${value}`) : value);
  }

  async del(_key: string): Promise<void> {
    // No pruning: a node may be shared by other (older) state roots that must stay readable.
  }

  async batch(ops: BatchDBOp<string, string | Uint8Array>[]): Promise<void> {
    for (const op of ops) if (op.type === "put") await this.put(op.key, op.value);
  }

  shallowCopy(): DB<string, string | Uint8Array> {
    return this;
  }

  async open(): Promise<void> {}

  /** Number of buffered node writes. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * Hands the buffered writes to the caller as batch operations; they stay readable until `writesDone()`.
   */
  takeWrites(): BatchOp[] {
    const ops: BatchOp[] = [];
    for (const [k, v] of this.pending) {
      ops.push({ type: "put", key: this.dbKey(k), value: v });
      this.inFlight.set(k, v);
    }
    this.pending = new Map();
    return ops;
  }

  /** The batch with the taken writes has landed (or failed: then they go back to pending). */
  writesDone(ok: boolean): void {
    if (ok) for (const [k, v] of this.inFlight) this.cache.set(k, v);
    else for (const [k, v] of this.inFlight) if (!this.pending.has(k)) this.pending.set(k, v);
    this.inFlight = new Map();
  }

  /** Cached node count and bytes, for tests and metrics. */
  get cacheStats(): { entries: number; bytes: number } {
    return { entries: this.cache.size, bytes: this.cache.bytes };
  }

  private dbKey(key: string): Uint8Array {
    return concatBytes(STATE_PREFIX, hexToBytes(`0x${key}`));
  }
}

/** A byte-bounded LRU of trie nodes (Map iteration order is insertion order: re-inserting on a hit refreshes it). */
class NodeCache {
  private readonly map = new Map<string, Uint8Array>();
  private readonly maxBytes: number;
  bytes = 0;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  get size(): number {
    return this.map.size;
  }

  get(key: string): Uint8Array | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  set(key: string, value: Uint8Array): void {
    if (this.maxBytes <= 0 || this.map.has(key)) return;
    this.map.set(key, value);
    this.bytes += value.length + key.length;
    for (const [k, v] of this.map) {
      if (this.bytes <= this.maxBytes) break;
      this.map.delete(k);
      this.bytes -= v.length + k.length;
    }
  }
}

/**
 * A private write layer over the node store for read-only views (eth_call, tracing, simulations): reads fall
 * through, writes (a view may flush a scratch state root) stay in memory and vanish with the view, so nothing a
 * view computes ever reaches the chain's database.
 */
export class OverlayNodeDb implements DB<string, string | Uint8Array> {
  private readonly base: DB<string, string | Uint8Array>;
  private readonly local = new Map<string, string | Uint8Array>();

  constructor(base: DB<string, string | Uint8Array>) {
    this.base = base;
  }

  async get(key: string): Promise<string | Uint8Array | undefined> {
    return this.local.get(key) ?? this.base.get(key);
  }

  async put(key: string, value: string | Uint8Array): Promise<void> {
    this.local.set(key, value);
  }

  async del(_key: string): Promise<void> {}

  async batch(ops: BatchDBOp<string, string | Uint8Array>[]): Promise<void> {
    for (const op of ops) if (op.type === "put") this.local.set(op.key, op.value);
  }

  shallowCopy(): DB<string, string | Uint8Array> {
    return this;
  }

  async open(): Promise<void> {}
}
