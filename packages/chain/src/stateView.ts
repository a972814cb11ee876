import type { Block } from "@ethereumjs/block";
import type { Common, Proof } from "@ethereumjs/common";
import { MerklePatriciaTrie } from "@ethereumjs/mpt";
import { Caches, getMerkleStateProof, MerkleStateManager } from "@ethereumjs/statemanager";
import { Address, type DB, setLengthLeft, ValueEncoding } from "@ethereumjs/util";
import { OverlayNodeDb } from "./stateDb.ts";

export interface AccountInfo {
  nonce: bigint;
  balance: bigint;
  codeHash: Uint8Array;
  storageRoot: Uint8Array;
}

/** Read-only state of one stored block. Cheap to create; each view has its own small caches. */
export class StateView {
  readonly root: Uint8Array;
  readonly block: Block;
  /** The underlying state manager (a private copy: callers may mutate it, e.g. for call overrides). */
  readonly stateManager: MerkleStateManager;

  private constructor(block: Block, stateManager: MerkleStateManager) {
    this.block = block;
    this.root = block.header.stateRoot;
    this.stateManager = stateManager;
  }

  /** A view of `block`'s state over `nodes` (the chain's node store); the view's own writes stay private. */
  static async open(nodes: DB<string, string | Uint8Array>, block: Block, common: Common): Promise<StateView> {
    const c = common.copy();
    c.setHardforkBy({ blockNumber: block.header.number, timestamp: block.header.timestamp });
    const trie = new MerklePatriciaTrie({
      db: new OverlayNodeDb(nodes),
      useKeyHashing: true,
      valueEncoding: ValueEncoding.Bytes,
      common: c,
      cacheSize: 2_000,
    });
    const sm = new MerkleStateManager({
      common: c,
      trie,
      caches: new Caches({ account: { size: 2_000 }, storage: { size: 2_000 }, code: { size: 200 } }),
    });
    await sm.setStateRoot(block.header.stateRoot, true);
    return new StateView(block, sm);
  }

  async getAccount(address: Uint8Array): Promise<AccountInfo | undefined> {
    const a = await this.stateManager.getAccount(new Address(address));
    return a ? { nonce: a.nonce, balance: a.balance, codeHash: a.codeHash, storageRoot: a.storageRoot } : undefined;
  }

  async getBalance(address: Uint8Array): Promise<bigint> {
    return (await this.stateManager.getAccount(new Address(address)))?.balance ?? 0n;
  }

  async getNonce(address: Uint8Array): Promise<bigint> {
    return (await this.stateManager.getAccount(new Address(address)))?.nonce ?? 0n;
  }

  async getCode(address: Uint8Array): Promise<Uint8Array> {
    return this.stateManager.getCode(new Address(address));
  }

  /** The 32-byte value of a storage slot (slot given as up to 32 bytes). */
  async getStorage(address: Uint8Array, slot: Uint8Array): Promise<Uint8Array> {
    const addr = new Address(address);
    if ((await this.stateManager.getAccount(addr)) === undefined) return new Uint8Array(32);
    const v = await this.stateManager.getStorage(addr, setLengthLeft(slot, 32));
    return setLengthLeft(v, 32);
  }

  /** EIP-1186 account and storage proof (the eth_getProof result, hex-encoded). */
  async getProof(address: Uint8Array, slots: Uint8Array[]): Promise<Proof> {
    return getMerkleStateProof(
      this.stateManager,
      new Address(address),
      slots.map((s) => setLengthLeft(s, 32)),
    );
  }
}
