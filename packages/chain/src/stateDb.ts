import type { BatchDBOp, DB } from "@ethereumjs/util";
import type { BatchOp, KeyValueStore } from "@zgnode/db";
import { concatBytes, hexToBytes } from "@zgnode/utils";

/** Key prefix of state (account and storage trie) nodes and contract code in the node's store. */
export const STATE_PREFIX = new Uint8Array([0x73]); // "s"

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

  constructor(store: KeyValueStore) {
    this.store = store;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const p = this.pending.get(key) ?? this.inFlight.get(key);
    if (p !== undefined) return p;
    return this.store.get(this.dbKey(key));
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
    if (!ok) for (const [k, v] of this.inFlight) if (!this.pending.has(k)) this.pending.set(k, v);
    this.inFlight = new Map();
  }

  private dbKey(key: string): Uint8Array {
    return concatBytes(STATE_PREFIX, hexToBytes(`0x${key}`));
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
