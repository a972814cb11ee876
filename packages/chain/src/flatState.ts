import type { AccountFields, Common, StateManagerInterface } from "@ethereumjs/common";
import { CODEHASH_PREFIX, type MerkleStateManager, OriginalStorageCache } from "@ethereumjs/statemanager";
import {
  Account,
  type Address,
  bytesToUnprefixedHex,
  concatBytes,
  EthereumJSErrorWithoutCode,
  equalsBytes,
  KECCAK256_NULL,
  KECCAK256_RLP,
  unpadBytes,
} from "@ethereumjs/util";
import { keccak256 } from "@zgnode/crypto";

const EMPTY = new Uint8Array(0);
const DONE = Promise.resolve();

/**
 * The decoded state of one state root, read through from the trie once and shared by every call on that root.
 * A state root is immutable, so nothing here can go stale; the maps are only bounded in size. The trie path
 * decodes an account's RLP on every read and builds a storage trie object per storage access, which cost more
 * than a simple call's execution.
 */
export class FlatStateBase {
  readonly sm: MerkleStateManager;
  /** null: no account at that address. */
  private accounts = new Map<string, Account | null>();
  private storage = new Map<string, Map<string, Uint8Array>>();
  /** Code of the accounts of this state, by address. */
  private code = new Map<string, Uint8Array>();
  /** Code by hash, for accounts whose code hash an overlay changed without putting the code (rare). */
  private codeByHash = new Map<string, Uint8Array>();
  private entries = 0;
  private readonly maxEntries: number;

  /** `sm` must stay at the state root it is at now: this reads through it and never writes. */
  constructor(sm: MerkleStateManager, maxEntries = 100_000) {
    this.sm = sm;
    this.maxEntries = maxEntries;
  }

  private count(): void {
    // Dropping everything is simple and rarely needed: a block's hot set is small.
    if (++this.entries > this.maxEntries) {
      this.accounts = new Map();
      this.storage = new Map();
      this.code = new Map();
      this.codeByHash = new Map();
      this.entries = 0;
    }
  }

  /** The account if already read (null: none), undefined if not read yet. Shared: callers copy it out. */
  peekAccount(key: string): Account | null | undefined {
    return this.accounts.get(key);
  }

  async account(address: Address, key: string): Promise<Account | null> {
    const hit = this.accounts.get(key);
    if (hit !== undefined) return hit;
    const a = (await this.sm.getAccount(address)) ?? null;
    this.count();
    this.accounts.set(key, a);
    return a;
  }

  /** A slot's value with leading zeros stripped (empty when unset), as `getStorage` answers; undefined if not read. */
  peekSlot(key: string, slotKey: string): Uint8Array | undefined {
    return this.storage.get(key)?.get(slotKey);
  }

  async slot(address: Address, key: string, slot: Uint8Array, slotKey: string): Promise<Uint8Array> {
    const v = await this.sm.getStorage(address, slot);
    let slots = this.storage.get(key);
    if (slots === undefined) {
      slots = new Map();
      this.storage.set(key, slots);
    }
    this.count();
    slots.set(slotKey, v);
    return v;
  }

  /** The code of the account at `key` in this state, if already read. */
  peekCode(key: string): Uint8Array | undefined {
    return this.code.get(key);
  }

  /** The code with hash `codeHash`: the code of the account at `address` in this state, in the common case. */
  async codeOf(address: Address, key: string, codeHash: Uint8Array): Promise<Uint8Array> {
    const base = await this.account(address, key);
    if (base !== null && equalsBytes(base.codeHash, codeHash)) {
      const code = await this.sm.getCode(address);
      this.count();
      this.code.set(key, code);
      return code;
    }
    const hashKey = bytesToUnprefixedHex(codeHash);
    const hit = this.codeByHash.get(hashKey);
    if (hit !== undefined) return hit;
    const trie = (this.sm as unknown as { _trie: { database(): { get(k: Uint8Array): Promise<Uint8Array | undefined> } } })._trie;
    const code = (await trie.database().get(concatBytes(CODEHASH_PREFIX, codeHash))) ?? EMPTY;
    this.count();
    this.codeByHash.set(hashKey, code);
    return code;
  }
}

function copyAccount(a: Account): Account {
  return new Account(a.nonce, a.balance, a.storageRoot, a.codeHash);
}

/** One undo record: `map` had `prev` under `key` (or nothing, when `had` is false). */
interface Undo {
  map: Map<string, unknown>;
  key: string;
  had: boolean;
  prev: unknown;
}

/**
 * A state manager for read-only execution (eth_call, eth_estimateGas, eth_createAccessList): reads come from a
 * shared {@link FlatStateBase}, writes go to a private overlay of plain maps with an undo log for
 * checkpoint/commit/revert. It implements what the EVM and `runTx` use; it has no state root (callers that need
 * one, such as pre-Byzantium receipts or simulated blocks, keep the trie-backed state manager).
 *
 * Semantics follow @ethereumjs's MerkleStateManager: accounts are copied in and out (callers mutate them),
 * storage values are stored with leading zeros stripped, `clearStorage` creates a missing account, `putStorage`
 * on a missing account throws.
 */
export class FlatStateManager implements StateManagerInterface {
  readonly base: FlatStateBase;
  readonly common: Common | undefined;
  /** null marks an account deleted in the overlay. */
  private readonly accounts = new Map<string, Account | null>();
  private readonly code = new Map<string, Uint8Array>();
  private readonly storage = new Map<string, Map<string, Uint8Array>>();
  /** Accounts whose base storage is hidden (cleared or deleted in the overlay). */
  private readonly cleared = new Map<string, true>();
  private readonly undo: Undo[] = [];
  private readonly checkpoints: number[] = [];
  private readonly keccak: (data: Uint8Array) => Uint8Array;
  originalStorageCache: OriginalStorageCache;

  constructor(base: FlatStateBase, common?: Common) {
    this.base = base;
    this.common = common;
    this.keccak = common?.customCrypto.keccak256 ?? keccak256;
    this.originalStorageCache = new OriginalStorageCache(this.getStorage.bind(this));
  }

  private set<V>(map: Map<string, V>, key: string, value: V): void {
    if (this.checkpoints.length > 0) {
      const had = map.has(key);
      this.undo.push({ map: map as Map<string, unknown>, key, had, prev: had ? map.get(key) : undefined });
    }
    map.set(key, value);
  }

  /** The current account, not copied (internal reads only): null if none, undefined if not read from the trie yet. */
  private peek(key: string): Account | null | undefined {
    const own = this.accounts.get(key);
    return own !== undefined ? own : this.base.peekAccount(key);
  }

  private async current(address: Address, key: string): Promise<Account | null> {
    const a = this.peek(key);
    return a !== undefined ? a : this.base.account(address, key);
  }

  // The hot reads answer from the maps without an async function frame: a call makes dozens of them.
  getAccount(address: Address): Promise<Account | undefined> {
    const key = address.toString();
    const a = this.peek(key);
    if (a !== undefined) return Promise.resolve(a === null ? undefined : copyAccount(a));
    return this.base.account(address, key).then((b) => (b === null ? undefined : copyAccount(b)));
  }

  putAccount(address: Address, account?: Account): Promise<void> {
    this.set(this.accounts, address.toString(), account === undefined ? null : copyAccount(account));
    return DONE;
  }

  async deleteAccount(address: Address): Promise<void> {
    const key = address.toString();
    this.set(this.accounts, key, null);
    this.set(this.code, key, EMPTY);
    this.set(this.storage, key, new Map());
    this.set(this.cleared, key, true);
  }

  async modifyAccountFields(address: Address, fields: AccountFields): Promise<void> {
    const account = (await this.getAccount(address)) ?? new Account();
    account.nonce = fields.nonce ?? account.nonce;
    account.balance = fields.balance ?? account.balance;
    account.storageRoot = fields.storageRoot ?? account.storageRoot;
    account.codeHash = fields.codeHash ?? account.codeHash;
    account.codeSize = fields.codeSize ?? account.codeSize;
    await this.putAccount(address, account);
  }

  async putCode(address: Address, value: Uint8Array): Promise<void> {
    this.set(this.code, address.toString(), value);
    if ((await this.getAccount(address)) === undefined) await this.putAccount(address, new Account());
    await this.modifyAccountFields(address, { codeHash: this.keccak(value) });
  }

  getCode(address: Address): Promise<Uint8Array> {
    const key = address.toString();
    const own = this.code.get(key);
    if (own !== undefined) return Promise.resolve(own);
    const a = this.peek(key);
    if (a === null) return Promise.resolve(EMPTY);
    if (a !== undefined) {
      if (equalsBytes(a.codeHash, KECCAK256_NULL)) return Promise.resolve(EMPTY);
      const b = this.base.peekAccount(key);
      // The account's code unchanged by the overlay (the same hash object or equal bytes): the base's code.
      if (b !== undefined && b !== null && (b.codeHash === a.codeHash || equalsBytes(b.codeHash, a.codeHash))) {
        const code = this.base.peekCode(key);
        if (code !== undefined) return Promise.resolve(code);
      }
    }
    return this.loadCode(address, key);
  }

  private async loadCode(address: Address, key: string): Promise<Uint8Array> {
    const a = await this.current(address, key);
    if (a === null || equalsBytes(a.codeHash, KECCAK256_NULL)) return EMPTY;
    return this.base.codeOf(address, key, a.codeHash);
  }

  async getCodeSize(address: Address): Promise<number> {
    return (await this.getCode(address)).length;
  }

  getStorage(address: Address, slot: Uint8Array): Promise<Uint8Array> {
    if (slot.length !== 32) return Promise.reject(EthereumJSErrorWithoutCode("Storage key must be 32 bytes long"));
    const key = address.toString();
    const slotKey = bytesToUnprefixedHex(slot);
    const own = this.storage.get(key)?.get(slotKey);
    if (own !== undefined) return Promise.resolve(own);
    if (this.cleared.has(key)) return Promise.resolve(EMPTY);
    const a = this.peek(key);
    if (a === null) return Promise.resolve(EMPTY);
    if (a !== undefined) {
      const v = this.base.peekSlot(key, slotKey);
      if (v !== undefined) return Promise.resolve(v);
    }
    return this.loadSlot(address, key, slot, slotKey);
  }

  private async loadSlot(address: Address, key: string, slot: Uint8Array, slotKey: string): Promise<Uint8Array> {
    if ((await this.current(address, key)) === null) return EMPTY;
    return this.base.peekSlot(key, slotKey) ?? this.base.slot(address, key, slot, slotKey);
  }

  async putStorage(address: Address, slot: Uint8Array, value: Uint8Array): Promise<void> {
    if (slot.length !== 32) throw EthereumJSErrorWithoutCode("Storage key must be 32 bytes long");
    if (value.length > 32) throw EthereumJSErrorWithoutCode("Storage value cannot be longer than 32 bytes");
    const key = address.toString();
    if ((await this.current(address, key)) === null) {
      throw EthereumJSErrorWithoutCode("putStorage() called on non-existing account");
    }
    let slots = this.storage.get(key);
    if (slots === undefined) {
      slots = new Map();
      this.set(this.storage, key, slots);
    }
    this.set(slots, bytesToUnprefixedHex(slot), unpadBytes(value).slice());
  }

  async clearStorage(address: Address): Promise<void> {
    const key = address.toString();
    const account = (await this.getAccount(address)) ?? new Account();
    this.set(this.storage, key, new Map());
    this.set(this.cleared, key, true);
    account.storageRoot = KECCAK256_RLP;
    await this.putAccount(address, account);
  }

  async checkpoint(): Promise<void> {
    this.checkpoints.push(this.undo.length);
  }

  async commit(): Promise<void> {
    this.checkpoints.pop();
    // Outside every checkpoint nothing can be reverted any more.
    if (this.checkpoints.length === 0) this.undo.length = 0;
  }

  async revert(): Promise<void> {
    const to = this.checkpoints.pop() ?? 0;
    for (let i = this.undo.length - 1; i >= to; i--) {
      const u = this.undo[i]!;
      if (u.had) u.map.set(u.key, u.prev);
      else u.map.delete(u.key);
    }
    this.undo.length = to;
  }

  getStateRoot(): Promise<Uint8Array> {
    throw EthereumJSErrorWithoutCode("FlatStateManager has no state root");
  }

  setStateRoot(): Promise<void> {
    throw EthereumJSErrorWithoutCode("FlatStateManager has no state root");
  }

  hasStateRoot(): Promise<boolean> {
    throw EthereumJSErrorWithoutCode("FlatStateManager has no state root");
  }

  clearCaches(): void {}

  /** A fresh overlay over the same base (the overlay's writes are not copied). */
  shallowCopy(): FlatStateManager {
    return new FlatStateManager(this.base, this.common);
  }
}
