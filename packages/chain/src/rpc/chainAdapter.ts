import type { Block } from "@ethereumjs/block";
import type { StateManagerInterface } from "@ethereumjs/common";
import type { MerkleStateManager } from "@ethereumjs/statemanager";
import type { TypedTransaction } from "@ethereumjs/tx";
import { createVM, type TxReceipt, type VM } from "@ethereumjs/vm";
import type { Chain, NewBlockEvent, ReceiptInfo } from "../chain.ts";
import type { PoolTx, TxPool } from "../txPool.ts";
import type { BuildBlockAttributes, BuiltBlock, EthBlockProducerView, EthChainView, EthTxPoolView } from "./backend.ts";
import { buildBlockOnParent, DEFAULT_GAS_CEIL } from "./buildBlock.ts";

/** The consensus receipt the RPC formatters and `debug_getRawReceipts` work from. */
export function toTxReceipt(r: ReceiptInfo): TxReceipt {
  const base = {
    cumulativeBlockGasUsed: r.cumulativeGasUsed,
    bitvector: r.logsBloom,
    logs: r.logs.map((l) => [l.address, l.topics, l.data] as [Uint8Array, Uint8Array[], Uint8Array]),
  };
  const root = (r as { root?: Uint8Array }).root;
  if (root !== undefined) return { ...base, stateRoot: root };
  if (r.blobGasUsed !== undefined) {
    return { ...base, status: r.status, blobGasUsed: r.blobGasUsed, blobGasPrice: r.blobGasPrice ?? 0n };
  }
  return { ...base, status: r.status };
}

/** Serves the execution `Chain` through the narrow view the eth_* table reads. */
export function chainView(chain: Chain): EthChainView {
  return {
    common: chain.common,
    head: () => chain.head,
    blockByNumber: (n) => chain.getBlockByNumber(n),
    blockByHash: (h) => chain.getBlockByHash(h),
    async receipts(block: Block) {
      const infos = await chain.getReceipts(block.hash());
      return (infos ?? []).map(toTxReceipt);
    },
    async txLocation(hash) {
      const found = await chain.getTransaction(hash);
      return found === undefined ? undefined : { blockHash: found.block.hash(), index: found.index };
    },
    async vmAt(block: Block, wrap?: (sm: MerkleStateManager) => StateManagerInterface): Promise<VM> {
      const view = await chain.stateAt(block);
      // A private state manager over the same trie nodes: overrides and traced writes never reach the chain.
      const sm = (view.stateManager as MerkleStateManager).shallowCopy(false);
      await sm.setStateRoot(block.header.stateRoot);
      const common = sm.common;
      common.setHardforkBy({ blockNumber: block.header.number, timestamp: block.header.timestamp });
      const blockchain = {
        getBlock: async (n: number | bigint) => {
          const b = await chain.getBlockByNumber(BigInt(n));
          if (b === undefined) throw new Error(`block ${n} not found`);
          return b;
        },
        putBlock: async () => {},
        shallowCopy() {
          return this;
        },
        validateHeader: async () => {},
      };
      return createVM({ common, stateManager: wrap?.(sm) ?? sm, blockchain: blockchain as never });
    },
    onBlock(cb) {
      const listener = (ev: NewBlockEvent) => cb(ev.block, ev.receipts.map(toTxReceipt));
      chain.on("block", listener);
      return () => {
        chain.off("block", listener);
      };
    },
  };
}

/** Serves the `TxPool` through the view the eth_* table reads. */
export function txPoolView(pool: TxPool): EthTxPoolView {
  const txsOf = (m: Map<string, PoolTx[]>) => new Map([...m].map(([k, v]) => [k.toLowerCase(), v.map((p) => p.tx)]));
  return {
    async add(tx) {
      await pool.add(tx);
    },
    addRaw: (raw) => pool.addRaw(raw),
    pending: () => txsOf(pool.content().pending),
    queued: () => txsOf(pool.content().queued),
    get: (hash) => pool.get(hash)?.tx,
    pendingNonce: (address) => pool.getPendingNonce(address.bytes),
    onTx(cb) {
      const listener = (p: PoolTx) => cb(p.tx);
      pool.on("pending", listener);
      pool.on("queued", listener);
      return () => {
        pool.off("pending", listener);
        pool.off("queued", listener);
      };
    },
  };
}

export interface ProducerViewOptions {
  /** Executable pool txs in block order (testing_buildBlockV1 with `null` transactions). */
  poolTxs?: () => TypedTransaction[];
  /** Seals the pool into a new canonical block (the node's LocalSealer). */
  sealNow?: () => Promise<Block | undefined>;
  /** Gas limit the builder steers toward (geth's miner gas ceiling, 60M). */
  gasCeil?: bigint;
}

/** A producer view over the chain: non-committing `buildBlock` for testing_buildBlockV1, plus the sealer's sealNow. */
export function producerView(chain: Chain, opts: ProducerViewOptions = {}): EthBlockProducerView {
  const view = chainView(chain);
  return {
    sealNow: opts.sealNow,
    buildBlock: (attrs: BuildBlockAttributes): Promise<BuiltBlock> =>
      buildBlockOnParent(view, attrs, opts.poolTxs ?? (() => []), opts.gasCeil ?? DEFAULT_GAS_CEIL),
  };
}
