/** Options of a `Chain` (block building defaults and caches). */
export interface ChainOptions {
  /** Fee recipient of locally built blocks (20-byte hex). */
  coinbase: string;
  /** Gas limit of locally built blocks; 0 keeps the parent's. */
  blockGasLimit: bigint;
  /** Extra data of locally built blocks (hex, at most 32 bytes). */
  extraData: string;
  /** How many recent blocks (with receipts) stay decoded in memory. */
  blockCacheSize: number;
  /** Gas cap for `call`/`estimateGas` (geth `--rpc.gascap`). */
  rpcGasCap: bigint;
  /** Build blocks with the one-pass trie path (`buildExecution.ts`) instead of `runBlock` in generate mode. */
  fastBuild: boolean;
}

export const defaultChainOptions: ChainOptions = {
  coinbase: "0x0000000000000000000000000000000000000000",
  blockGasLimit: 0n,
  extraData: "0x",
  blockCacheSize: 256,
  rpcGasCap: 50_000_000n,
  fastBuild: true,
};

/** Options of the `TxPool` (geth's legacypool defaults, scaled for a dev node). */
export interface TxPoolOptions {
  /** Maximum executable + queued transactions in total (geth GlobalSlots + GlobalQueue). */
  maxSize: number;
  /** Maximum transactions per sender (pending + queued). */
  maxPerAccount: number;
  /** Maximum queued (future-nonce) transactions per sender. */
  maxQueuedPerAccount: number;
  /** Nonces further than this above the account nonce are refused with "nonce too high"; 0 = no cap. */
  maxNonceGap: number;
  /** Minimum tip (wei) to enter the pool (geth `--txpool.pricelimit`, 1 wei on dev). */
  priceLimit: bigint;
  /** Replacement needs this percentage bump of both fee cap and tip (geth `--txpool.pricebump`). */
  priceBump: number;
  /** Maximum encoded transaction size in bytes (geth txMaxSize = 4 slots of 32 KiB). */
  maxTxBytes: number;
}

export const defaultTxPoolOptions: TxPoolOptions = {
  maxSize: 20_000,
  maxPerAccount: 5_000,
  maxQueuedPerAccount: 1_024,
  maxNonceGap: 0,
  priceLimit: 1n,
  priceBump: 10,
  maxTxBytes: 128 * 1024,
};

export type SealMode = "instant" | "interval" | "manual";

/** Options of the `LocalSealer`. */
export interface SealerOptions {
  mode: SealMode;
  /** Block time in ms for `interval` mode. */
  blockTimeMs: number;
  /** Most transactions put into one block. */
  maxTxsPerBlock: number;
  /**
   * In `instant` mode, wait this long (ms) after the first tx arrives so a burst lands in one block. 5 ms costs a
   * dev user nothing noticeable and, under a stream of txs, fills blocks instead of sealing one per handful of txs
   * (bench:rpc: ~1,000-1,100 mined tx/s in ~75 blocks with 5 ms vs 535-1,456 in 18-220 blocks with 0).
   */
  instantDelayMs: number;
  /**
   * In `instant` mode, the wait before the next block while a stream keeps the pool non-empty right after a
   * non-empty block. Longer than `instantDelayMs` so streams fill fewer, fuller blocks (per-block work: system
   * calls, state root, batch write); a lone tx after an idle pool still waits only `instantDelayMs`.
   * bench:rpc --txs 4000, instant, three alternating pairs: 3,386-3,659 mined tx/s in 70-79 blocks at 5 ms vs
   * 3,902-4,072 in 30-32 blocks at 20 ms.
   */
  instantStreamDelayMs: number;
}

export const defaultSealerOptions: SealerOptions = {
  mode: "instant",
  blockTimeMs: 1000,
  maxTxsPerBlock: 5_000,
  instantDelayMs: 5,
  instantStreamDelayMs: 20,
};
