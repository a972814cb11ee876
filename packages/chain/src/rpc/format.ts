import type { Block, BlockHeader } from "@ethereumjs/block";
import type { Log } from "@ethereumjs/evm";
import { Capability, TransactionType, type TypedTransaction } from "@ethereumjs/tx";
import { bigIntToUnpaddedBytes, bytesToBigInt, generateAddress } from "@ethereumjs/util";
import type { TxReceipt } from "@ethereumjs/vm";
import { bytesToHex, type Hex, toQuantity } from "@zgnode/utils";

/**
 * JSON shapes of the execution-apis spec (as geth answers them): quantities without leading zeros, data as
 * even-length hex, addresses lowercase. `blockTimestamp` is set on mined txs and logs; blocks have no
 * `totalDifficulty`. Pure functions over @ethereumjs types.
 */

export type JsonObject = Record<string, unknown>;

/** Where a transaction sits, when mined. */
export interface TxInclusion {
  blockHash: Uint8Array;
  blockNumber: bigint;
  blockTimestamp: bigint;
  index: number;
  baseFeePerGas: bigint | undefined;
}

const q = toQuantity;
const h = bytesToHex;

function quantityBytes(b: Uint8Array): Hex {
  return q(bytesToBigInt(b));
}

/** The price per gas actually paid: min(maxFee, baseFee + tip) for EIP-1559 style txs. */
export function effectiveGasPrice(tx: TypedTransaction, baseFeePerGas: bigint | undefined): bigint {
  if (!tx.supports(Capability.EIP1559FeeMarket)) return (tx as { gasPrice: bigint }).gasPrice;
  const { maxFeePerGas, maxPriorityFeePerGas } = tx as unknown as { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint };
  if (baseFeePerGas === undefined) return maxFeePerGas;
  const tipped = baseFeePerGas + maxPriorityFeePerGas;
  // biome-ignore lint/complexity/useMathMinMax: bigints (Math.min takes numbers)
  return tipped < maxFeePerGas ? tipped : maxFeePerGas;
}

export function formatAccessList(list: [Uint8Array, Uint8Array[]][]): { address: Hex; storageKeys: Hex[] }[] {
  return list.map(([address, keys]) => ({ address: h(address), storageKeys: keys.map(h) }));
}

/** A transaction object; `inclusion` undefined = pending (block fields null). */
export function formatTransaction(tx: TypedTransaction, inclusion: TxInclusion | undefined, hash?: Uint8Array): JsonObject {
  const out: JsonObject = {
    blockHash: inclusion ? h(inclusion.blockHash) : null,
    blockNumber: inclusion ? q(inclusion.blockNumber) : null,
    blockTimestamp: inclusion ? q(inclusion.blockTimestamp) : null,
    from: h(tx.getSenderAddress().bytes),
    gas: q(tx.gasLimit),
  };
  const type = tx.type;
  if (type === TransactionType.Legacy || type === TransactionType.AccessListEIP2930) {
    out.gasPrice = q((tx as { gasPrice: bigint }).gasPrice);
  } else {
    const fm = tx as unknown as { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint };
    out.gasPrice = q(inclusion ? effectiveGasPrice(tx, inclusion.baseFeePerGas) : fm.maxFeePerGas);
    out.maxFeePerGas = q(fm.maxFeePerGas);
    out.maxPriorityFeePerGas = q(fm.maxPriorityFeePerGas);
  }
  if (type === TransactionType.BlobEIP4844) {
    out.maxFeePerBlobGas = q((tx as unknown as { maxFeePerBlobGas: bigint }).maxFeePerBlobGas);
  }
  // Unsigned txs (eth_simulateV1) have no hash() of their own; the caller passes keccak(serialized).
  out.hash = h(hash ?? tx.hash());
  out.input = h(tx.data);
  out.nonce = q(tx.nonce);
  out.to = tx.to ? h(tx.to.bytes) : null;
  out.transactionIndex = inclusion ? q(inclusion.index) : null;
  out.value = q(tx.value);
  out.type = q(type);
  const v = tx.v ?? 0n;
  if (type === TransactionType.Legacy) {
    // Only EIP-155 protected legacy txs carry a chain id (v = chainId * 2 + 35/36).
    if (v >= 35n) out.chainId = q((v - 35n) / 2n);
  } else {
    const typed = tx as unknown as { accessList: [Uint8Array, Uint8Array[]][]; chainId: bigint };
    out.accessList = formatAccessList(typed.accessList);
    out.chainId = q(typed.chainId);
  }
  if (type === TransactionType.BlobEIP4844) {
    out.blobVersionedHashes = (tx as unknown as { blobVersionedHashes: Hex[] }).blobVersionedHashes;
  }
  if (type === TransactionType.EOACodeEIP7702) {
    const list = (tx as unknown as { authorizationList: Uint8Array[][] }).authorizationList;
    out.authorizationList = list.map(([chainId, address, nonce, yParity, r, s]) => ({
      chainId: quantityBytes(chainId!),
      address: h(address!),
      nonce: quantityBytes(nonce!),
      yParity: quantityBytes(yParity!),
      r: quantityBytes(r!),
      s: quantityBytes(s!),
    }));
  }
  out.v = q(v);
  out.r = q(tx.r ?? 0n);
  out.s = q(tx.s ?? 0n);
  if (type !== TransactionType.Legacy) out.yParity = q(v);
  return out;
}

export function inclusionOf(block: Block, index: number): TxInclusion {
  return {
    blockHash: block.hash(),
    blockNumber: block.header.number,
    blockTimestamp: block.header.timestamp,
    index,
    baseFeePerGas: block.header.baseFeePerGas,
  };
}

export function formatHeaderFields(header: BlockHeader): JsonObject {
  const out: JsonObject = {};
  if (header.baseFeePerGas !== undefined) out.baseFeePerGas = q(header.baseFeePerGas);
  if (header.blobGasUsed !== undefined) out.blobGasUsed = q(header.blobGasUsed);
  out.difficulty = q(header.difficulty);
  if (header.excessBlobGas !== undefined) out.excessBlobGas = q(header.excessBlobGas);
  out.extraData = h(header.extraData);
  out.gasLimit = q(header.gasLimit);
  out.gasUsed = q(header.gasUsed);
  out.hash = h(header.hash());
  out.logsBloom = h(header.logsBloom);
  out.miner = h(header.coinbase.bytes);
  out.mixHash = h(header.mixHash);
  out.nonce = h(header.nonce);
  out.number = q(header.number);
  if (header.parentBeaconBlockRoot !== undefined) out.parentBeaconBlockRoot = h(header.parentBeaconBlockRoot);
  out.parentHash = h(header.parentHash);
  out.receiptsRoot = h(header.receiptTrie);
  if (header.requestsHash !== undefined) out.requestsHash = h(header.requestsHash);
  out.sha3Uncles = h(header.uncleHash);
  out.stateRoot = h(header.stateRoot);
  out.timestamp = q(header.timestamp);
  out.transactionsRoot = h(header.transactionsTrie);
  if (header.withdrawalsRoot !== undefined) out.withdrawalsRoot = h(header.withdrawalsRoot);
  return out;
}

export function formatBlock(block: Block, fullTransactions: boolean): JsonObject {
  const out = formatHeaderFields(block.header);
  out.size = q(block.serialize().length);
  out.transactions = fullTransactions
    ? block.transactions.map((tx, i) => formatTransaction(tx, inclusionOf(block, i)))
    : block.transactions.map((tx) => h(tx.hash()));
  out.uncles = block.uncleHeaders.map((u) => h(u.hash()));
  if (block.withdrawals !== undefined) {
    out.withdrawals = block.withdrawals.map((w) => ({
      index: q(w.index),
      validatorIndex: q(w.validatorIndex),
      address: h(w.address.bytes),
      amount: q(w.amount),
    }));
  }
  return out;
}

/** `logIndexBase` = number of logs in the block before this tx's logs. */
export function formatLog(log: Log, inclusion: TxInclusion, txHash: Uint8Array, logIndex: number): JsonObject {
  const [address, topics, data] = log;
  return {
    address: h(address),
    topics: topics.map(h),
    data: h(data),
    blockNumber: q(inclusion.blockNumber),
    transactionHash: h(txHash),
    transactionIndex: q(inclusion.index),
    blockHash: h(inclusion.blockHash),
    blockTimestamp: q(inclusion.blockTimestamp),
    logIndex: q(logIndex),
    removed: false,
  };
}

/** Formats every receipt of a block (geth's eth_getBlockReceipts order). */
export function formatBlockReceipts(block: Block, receipts: TxReceipt[]): JsonObject[] {
  const out: JsonObject[] = [];
  let logIndex = 0;
  let prevCumulative = 0n;
  for (let i = 0; i < block.transactions.length; i++) {
    const tx = block.transactions[i]!;
    const receipt = receipts[i];
    if (receipt === undefined) break;
    const formatted = formatReceipt(tx, receipt, inclusionOf(block, i), prevCumulative, logIndex);
    prevCumulative = receipt.cumulativeBlockGasUsed;
    logIndex += receipt.logs.length;
    out.push(formatted);
  }
  return out;
}

export function formatReceipt(
  tx: TypedTransaction,
  receipt: TxReceipt,
  inclusion: TxInclusion,
  prevCumulativeGas: bigint,
  firstLogIndex: number,
): JsonObject {
  const from = tx.getSenderAddress();
  const txHash = tx.hash();
  const out: JsonObject = {};
  if ("blobGasUsed" in receipt && tx.type === TransactionType.BlobEIP4844) {
    out.blobGasPrice = q(receipt.blobGasPrice);
    out.blobGasUsed = q(receipt.blobGasUsed);
  }
  out.blockHash = h(inclusion.blockHash);
  out.blockNumber = q(inclusion.blockNumber);
  out.contractAddress = tx.to === undefined ? h(generateAddress(from.bytes, bigIntToUnpaddedBytes(tx.nonce))) : null;
  out.cumulativeGasUsed = q(receipt.cumulativeBlockGasUsed);
  out.effectiveGasPrice = q(effectiveGasPrice(tx, inclusion.baseFeePerGas));
  out.from = h(from.bytes);
  out.gasUsed = q(receipt.cumulativeBlockGasUsed - prevCumulativeGas);
  out.logs = receipt.logs.map((log, i) => formatLog(log, inclusion, txHash, firstLogIndex + i));
  out.logsBloom = h(receipt.bitvector);
  if ("stateRoot" in receipt) out.root = h(receipt.stateRoot);
  else out.status = q(receipt.status);
  out.to = tx.to ? h(tx.to.bytes) : null;
  out.transactionHash = h(txHash);
  out.transactionIndex = q(inclusion.index);
  out.type = q(tx.type);
  return out;
}
