import { Counter, Gauge, Histogram, type Registry } from "@zgnode/utils";

export interface ChainMetrics {
  headNumber: Gauge;
  blocksImported: Counter;
  blocksRejected: Counter;
  /** Imports committed from a kept execution (`keep`) instead of executing the block again. */
  blocksKeptImported: Counter;
  txsIncluded: Counter;
  blockSeconds: Histogram;
  poolPending: Gauge;
  poolQueued: Gauge;
  poolRejected: Counter<"reason">;
}

/** The chain's metrics, registered in the node's registry. */
export function createChainMetrics(registry: Registry): ChainMetrics {
  return {
    headNumber: new Gauge({ name: "zgnode_chain_head_number", help: "Canonical head block number", registers: [registry] }),
    blocksImported: new Counter({
      name: "zgnode_chain_blocks_total",
      help: "Blocks added to the chain (built or imported)",
      registers: [registry],
    }),
    blocksRejected: new Counter({
      name: "zgnode_chain_blocks_rejected_total",
      help: "Blocks rejected by validation",
      registers: [registry],
    }),
    blocksKeptImported: new Counter({
      name: "zgnode_chain_blocks_kept_imported_total",
      help: "Imported blocks committed from the execution kept when this node built or validated them",
      registers: [registry],
    }),
    txsIncluded: new Counter({ name: "zgnode_chain_txs_total", help: "Transactions included in blocks", registers: [registry] }),
    blockSeconds: new Histogram({
      name: "zgnode_chain_block_seconds",
      help: "Time to execute and store one block",
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
      registers: [registry],
    }),
    poolPending: new Gauge({ name: "zgnode_txpool_pending", help: "Executable pool transactions", registers: [registry] }),
    poolQueued: new Gauge({ name: "zgnode_txpool_queued", help: "Future-nonce pool transactions", registers: [registry] }),
    poolRejected: new Counter({
      name: "zgnode_txpool_rejected_total",
      help: "Transactions refused by the pool",
      labelNames: ["reason"],
      registers: [registry],
    }),
  };
}
