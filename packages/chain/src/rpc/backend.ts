import type { Block } from "@ethereumjs/block";
import type { Common, StateManagerInterface } from "@ethereumjs/common";
import type { MerkleStateManager } from "@ethereumjs/statemanager";
import type { TypedTransaction } from "@ethereumjs/tx";
import type { Address } from "@ethereumjs/util";
import type { TxReceipt, VM } from "@ethereumjs/vm";

/**
 * What the Ethereum JSON-RPC table needs from the node, kept narrow so the table can be served over the
 * execution helper's `Chain`/`TxPool`/`LocalSealer` (see `fromChain` adapter) or over any other store
 * that holds @ethereumjs blocks and receipts. All hashes are raw 32-byte values.
 */
export interface EthChainView {
  /** The chain's fork schedule (chain id, hardforks by block/time, blob schedule). */
  readonly common: Common;
  /** The canonical head. Instant finality: also "safe" and "finalized". */
  head(): Block;
  blockByNumber(n: bigint): Promise<Block | undefined>;
  blockByHash(hash: Uint8Array): Promise<Block | undefined>;
  /** The raw receipts of a stored block, one per transaction, in order. */
  receipts(block: Block): Promise<TxReceipt[]>;
  /** Where a mined transaction sits. */
  txLocation(txHash: Uint8Array): Promise<{ blockHash: Uint8Array; index: number } | undefined>;
  /**
   * A throwaway VM whose state is the post-state of `block` (writes never reach the chain). `wrap` puts a state
   * manager of its own over the block's trie-backed one (the RPC's flat call state).
   */
  vmAt(block: Block, wrap?: (sm: MerkleStateManager) => StateManagerInterface): Promise<VM>;
  /** Subscribes to new canonical blocks; returns the unsubscribe function. */
  onBlock(cb: (block: Block, receipts: TxReceipt[]) => void): () => void;
}

export interface EthTxPoolView {
  /** Validates and adds a signed tx; throws an Error with geth's wording on rejection. */
  add(tx: TypedTransaction): Promise<void>;
  /**
   * Decodes, validates and adds raw tx bytes, returning the hash. Optional: a pool that decodes with a shared Common
   * saves the per-tx Common copy the table's own decoder makes (the hot path of eth_sendRawTransaction).
   */
  addRaw?(raw: Uint8Array): Promise<Uint8Array>;
  /** Executable txs by sender (lowercase 0x address), nonce-ordered. */
  pending(): Map<string, TypedTransaction[]>;
  /** Future-nonce txs by sender, nonce-ordered. */
  queued(): Map<string, TypedTransaction[]>;
  get(txHash: Uint8Array): TypedTransaction | undefined;
  /** Next nonce for `address` counting its executable pool txs (the state nonce when it has none). */
  pendingNonce(address: Address): Promise<bigint>;
  onTx(cb: (tx: TypedTransaction) => void): () => void;
}

/** Payload attributes of `testing_buildBlockV1` (engine API naming). */
export interface BuildBlockAttributes {
  parentHash: Uint8Array;
  timestamp: bigint;
  feeRecipient: Address;
  prevRandao: Uint8Array;
  withdrawals: { index: bigint; validatorIndex: bigint; address: Address; amount: bigint }[] | undefined;
  parentBeaconBlockRoot: Uint8Array | undefined;
  extraData: Uint8Array;
  /** undefined = take txs from the pool. */
  txs: TypedTransaction[] | undefined;
}

export interface BuiltBlock {
  block: Block;
  receipts: TxReceipt[];
  /** Sum of priority fees paid to the fee recipient. */
  blockValue: bigint;
  /** EIP-7685 execution requests (type byte || data), non-empty ones only. */
  requests?: Uint8Array[];
}

export interface EthBlockProducerView {
  /** Builds (does not commit) a block on `parentHash`; throws with geth's wording for a bad tx. */
  buildBlock?(attrs: BuildBlockAttributes): Promise<BuiltBlock>;
  /** Seals the pool's txs into a new canonical block now (manual/instant sealer). */
  sealNow?(): Promise<Block | undefined>;
}

/** Node-managed dev keys for eth_accounts / eth_sendTransaction / eth_sign (dev mode only). */
export interface DevSigner {
  accounts(): Address[];
  privateKey(address: Address): Uint8Array | undefined;
}

export interface EthRpcDeps {
  chain: EthChainView;
  pool: EthTxPoolView;
  producer?: EthBlockProducerView;
  signer?: DevSigner;
  /** web3_clientVersion, e.g. "zgnode/v0.1.0/linux-x64/node24". */
  clientVersion?: string;
  /** net_version; defaults to the chain id in decimal. */
  networkId?: bigint;
  /** net_peerCount. */
  peerCount?: () => number;
  /** Filter time-to-live (ms); geth uses 5 minutes. */
  filterTimeoutMs?: number;
  /** eth_getLogs block range cap. */
  maxLogsBlockRange?: number;
  /** eth_call / estimateGas gas cap (geth: 50M). */
  rpcGasCap?: bigint;
  /** Clock, for tests of filter expiry. */
  now?: () => number;
}
