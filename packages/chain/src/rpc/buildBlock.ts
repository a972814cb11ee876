import type { Block } from "@ethereumjs/block";
import type { TypedTransaction } from "@ethereumjs/tx";
import { toChecksumAddress } from "@ethereumjs/util";
import { buildBlock } from "@ethereumjs/vm";
import { bytesToHex, RpcError, RpcErrorCode } from "@zgnode/utils";
import type { BuildBlockAttributes, BuiltBlock, EthChainView } from "./backend.ts";

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

/** geth's miner gas ceiling. */
export const DEFAULT_GAS_CEIL = 60_000_000n;

/**
 * Block building for `testing_buildBlockV1`: executes a candidate block on any stored parent in a throwaway VM
 * (@ethereumjs BlockBuilder, so system calls, withdrawals and EIP-7685 requests run as in a real block) and
 * returns it without touching the chain. `attrs.txs` undefined = `poolTxs()` (unapplicable ones are skipped);
 * an explicit list fails on the first unapplicable tx with geth's wording.
 */
export async function buildBlockOnParent(
  chain: EthChainView,
  attrs: BuildBlockAttributes,
  poolTxs: () => TypedTransaction[],
  gasCeil: bigint = DEFAULT_GAS_CEIL,
): Promise<BuiltBlock> {
  const parent: Block | undefined = await chain.blockByHash(attrs.parentHash);
  if (parent === undefined) throw new RpcError(RpcErrorCode.SERVER_ERROR, `unknown parent ${bytesToHex(attrs.parentHash)}`);
  const vm = await chain.vmAt(parent);
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
  for (const tx of attrs.txs ?? poolTxs()) {
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
      if (explicit) throw new RpcError(RpcErrorCode.SERVER_ERROR, (err as Error).message.split(" (")[0] ?? "invalid transaction");
    }
  }
  const receipts = builder.transactionReceipts;
  const blockValue = builder.minerValue;
  const { block, requests } = await builder.build();
  return { block, receipts, blockValue, requests: (requests ?? []).filter((r) => r.data.length > 0).map((r) => r.bytes) };
}

/** The pool's executable txs in block order: each sender's in nonce order, senders by their first tx's tip. */
export function poolBlockOrder(pending: Map<string, TypedTransaction[]>, baseFee: bigint): TypedTransaction[] {
  const tip = (tx: TypedTransaction) => tx.getEffectivePriorityFee(baseFee);
  const senders = [...pending.values()].filter((txs) => txs.length > 0);
  senders.sort((a, b) => {
    const ta = tip(a[0]!);
    const tb = tip(b[0]!);
    return ta > tb ? -1 : ta < tb ? 1 : 0;
  });
  return senders.flat();
}
