import type { Block } from "@ethereumjs/block";
import type { MerkleStateManager } from "@ethereumjs/statemanager";
import type { TypedTransaction } from "@ethereumjs/tx";
import { toChecksumAddress } from "@ethereumjs/util";
import { buildBlock, createVM, type TxReceipt, type VM } from "@ethereumjs/vm";
import { bytesToHex, RpcError, RpcErrorCode } from "@zgnode/utils";
import type { Chain, NewBlockEvent, ReceiptInfo } from "../chain.ts";
import type { PoolTx, TxPool } from "../txPool.ts";
import type { BuildBlockAttributes, BuiltBlock, EthBlockProducerView, EthChainView, EthTxPoolView } from "./backend.ts";

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
    async vmAt(block: Block): Promise<VM> {
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
      return createVM({ common, stateManager: sm, blockchain: blockchain as never });
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

/** geth's CalcGasLimit: move from the parent's limit toward `desired` by at most parent/1024 - 1 per block. */
export function nextGasLimit(parentGasLimit: bigint, desired: bigint): bigint {
  const delta = parentGasLimit / 1024n - 1n;
  if (parentGasLimit < desired) {
    const up = parentGasLimit + delta;
    return up > desired ? desired : up;
  }
  if (parentGasLimit > desired) {
    const down = parentGasLimit - delta;
    return down < desired ? desired : down;
  }
  return parentGasLimit;
}

export interface ProducerViewOptions {
  /** Executable pool txs in block order (testing_buildBlockV1 with `null` transactions). */
  poolTxs?: () => TypedTransaction[];
  /** Seals the pool into a new canonical block (the node's LocalSealer). */
  sealNow?: () => Promise<Block | undefined>;
  /** Gas limit the builder steers toward (geth's miner gas ceiling, 60M). */
  gasCeil?: bigint;
}

/**
 * Block building for `testing_buildBlockV1`: executes a candidate block on any stored parent in a throwaway VM
 * (@ethereumjs BlockBuilder, so system calls, withdrawals and EIP-7685 requests run as in a real block) and
 * returns it without touching the chain.
 */
export function producerView(chain: Chain, opts: ProducerViewOptions = {}): EthBlockProducerView {
  const view = chainView(chain);
  const gasCeil = opts.gasCeil ?? 60_000_000n;
  return {
    sealNow: opts.sealNow,
    async buildBlock(attrs: BuildBlockAttributes): Promise<BuiltBlock> {
      const parent = await chain.getBlockByHash(attrs.parentHash);
      if (parent === undefined) throw new RpcError(RpcErrorCode.SERVER_ERROR, `unknown parent ${bytesToHex(attrs.parentHash)}`);
      const vm = await view.vmAt(parent);
      const number = parent.header.number + 1n;
      vm.common.setHardforkBy({ blockNumber: number, timestamp: attrs.timestamp });
      const builder = await buildBlock(vm, {
        parentBlock: parent,
        headerData: {
          number,
          timestamp: attrs.timestamp,
          coinbase: attrs.feeRecipient,
          mixHash: attrs.prevRandao,
          parentBeaconBlockRoot: attrs.parentBeaconBlockRoot,
          extraData: attrs.extraData,
          gasLimit: nextGasLimit(parent.header.gasLimit, gasCeil),
        },
        withdrawals: attrs.withdrawals?.map((w) => ({ ...w })),
        blockOpts: { putBlockIntoBlockchain: false, common: vm.common },
      });
      const explicit = attrs.txs !== undefined;
      for (const tx of attrs.txs ?? opts.poolTxs?.() ?? []) {
        const from = tx.getSenderAddress();
        const stateNonce = (await vm.stateManager.getAccount(from))?.nonce ?? 0n;
        if (tx.nonce !== stateNonce) {
          if (!explicit) continue;
          const which = tx.nonce > stateNonce ? "too high" : "too low";
          throw new RpcError(
            RpcErrorCode.SERVER_ERROR,
            `nonce ${which}: address ${toChecksumAddress(from.toString())}, tx: ${tx.nonce} state: ${stateNonce}`,
          );
        }
        try {
          await builder.addTransaction(tx);
        } catch (err) {
          if (explicit)
            throw new RpcError(RpcErrorCode.SERVER_ERROR, (err as Error).message.split(" (")[0] ?? "invalid transaction");
        }
      }
      const receipts = builder.transactionReceipts;
      const blockValue = builder.minerValue;
      const { block, requests } = await builder.build();
      return { block, receipts, blockValue, requests: (requests ?? []).filter((r) => r.data.length > 0).map((r) => r.bytes) };
    },
  };
}
