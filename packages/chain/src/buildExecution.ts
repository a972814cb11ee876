import { createHash } from "node:crypto";
import type { Block } from "@ethereumjs/block";
import { genRequestsRoot } from "@ethereumjs/block";
import type { EVMInterface } from "@ethereumjs/evm";
import type { TypedTransaction } from "@ethereumjs/tx";
import { type Address, type CLRequest, type CLRequestType, GWEI_TO_WEI } from "@ethereumjs/util";
import { Bloom, encodeReceipt, type RunTxResult, runTx, type TxReceipt, type VM } from "@ethereumjs/vm";
import { orderedTrieRoot } from "./orderedTrie.ts";
import { encodingOf } from "./rawTx.ts";
import { TransferExecutor } from "./transferExecution.ts";

/**
 * The parts of @ethereumjs/vm's block processing that are not in its public exports (system calls of EIP-4788 and
 * EIP-2935, EIP-7685 request collection, reward crediting). Loaded from the same module files the package's entry
 * point uses, so these are the very functions `runBlock` calls, not copies.
 */
interface VmInternals {
  accumulateParentBeaconBlockRoot(vm: VM, root: Uint8Array, timestamp: bigint): Promise<void>;
  accumulateParentBlockHash(vm: VM, number: bigint, parentHash: Uint8Array): Promise<void>;
  rewardAccount(evm: EVMInterface, address: Address, reward: bigint, common: unknown): Promise<unknown>;
  accumulateRequests(vm: VM, results: RunTxResult[], gasLimit: bigint, generate: boolean): Promise<CLRequest<CLRequestType>[]>;
}

let internals: Promise<VmInternals | undefined> | undefined;

function loadInternals(): Promise<VmInternals | undefined> {
  internals ??= (async () => {
    try {
      const entry = import.meta.resolve("@ethereumjs/vm");
      const runBlockModule = await import(new URL("./runBlock.js", entry).href);
      const requestsModule = await import(new URL("./requests.js", entry).href);
      const api: VmInternals = {
        accumulateParentBeaconBlockRoot: runBlockModule.accumulateParentBeaconBlockRoot,
        accumulateParentBlockHash: runBlockModule.accumulateParentBlockHash,
        rewardAccount: runBlockModule.rewardAccount,
        accumulateRequests: requestsModule.accumulateRequests,
      };
      return Object.values(api).every((f) => typeof f === "function") ? api : undefined;
    } catch {
      return undefined;
    }
  })();
  return internals;
}

/** Whether the one-pass build path can run here (the VM internals it calls are loadable). */
export async function fastBuildAvailable(): Promise<boolean> {
  return (await loadInternals()) !== undefined;
}

export interface BuildExecution {
  stateRoot: Uint8Array;
  receiptsRoot: Uint8Array;
  transactionsRoot: Uint8Array;
  logsBloom: Uint8Array;
  gasUsed: bigint;
  requestsHash: Uint8Array | undefined;
  requests: CLRequest<CLRequestType>[] | undefined;
  receipts: TxReceipt[];
  results: RunTxResult[];
}

/** EIPs whose block processing this path does not reproduce; blocks under them take `runBlock`. */
const UNSUPPORTED_EIPS = [7864, 7928, 8037, 8282];

/**
 * Executes a block being built (the proposer's side) the way `runBlock` in generate mode does, in the same order
 * (system calls, transactions, withdrawals, requests), but computes the transactions and receipts tries in one pass
 * (`orderedTrieRoot`) instead of one trie insertion per transaction, which was a third of block building time.
 * Returns undefined when it cannot apply (pre-merge rules, newer EIPs, internals not loadable): callers then use
 * `runBlock`. When building, plain value transfers skip `runTx` (`transferExecution.ts`); imported blocks run every
 * transaction through `runTx`, so a divergence in that shortcut would make our own blocks fail validation on every
 * other node and in our tests (built blocks are re-imported there), never pass silently.
 */
export async function executeForBuild(
  vm: VM,
  block: Block,
  root: Uint8Array | undefined,
  opts: {
    validate?: (exec: BuildExecution) => void;
    skipHardForkValidation?: boolean;
    /**
     * Execute plain value transfers without `runTx` (`transferExecution.ts`). Default: only when building (no
     * `validate`), so that an imported block, ours included, is still checked by the general path.
     */
    fastTransfers?: boolean;
  } = {},
): Promise<BuildExecution | undefined> {
  const common = vm.common;
  common.setHardforkBy({ blockNumber: block.header.number, timestamp: block.header.timestamp });
  if (common.consensusType() !== "pos" || UNSUPPORTED_EIPS.some((e) => common.isActivatedEIP(e))) return undefined;
  if (block.uncleHeaders.length > 0) return undefined;
  const api = await loadInternals();
  if (!api) return undefined;
  const keccak = common.customCrypto.keccak256;
  if (!keccak) return undefined;

  const header = block.header;
  const skipHardForkValidation = opts.skipHardForkValidation ?? true;
  const transfers = (opts.fastTransfers ?? opts.validate === undefined) ? TransferExecutor.create(vm, block) : undefined;
  if (root) await vm.stateManager.setStateRoot(root, true);
  await vm.evm.journal.checkpoint();
  const receipts: TxReceipt[] = [];
  const results: RunTxResult[] = [];
  const encodedReceipts: Uint8Array[] = [];
  const bloom = new Bloom(undefined, common);
  let gasUsed = 0n;
  let receiptGasUsed = 0n;
  let requests: CLRequest<CLRequestType>[] | undefined;
  let requestsHash: Uint8Array | undefined;
  try {
    if (common.isActivatedEIP(4788)) {
      await api.accumulateParentBeaconBlockRoot(vm, header.parentBeaconBlockRoot as Uint8Array, header.timestamp);
    }
    if (common.isActivatedEIP(2935)) await api.accumulateParentBlockHash(vm, header.number, header.parentHash);
    for (const tx of block.transactions) {
      if (header.gasLimit < tx.gasLimit + gasUsed) {
        throw new Error(`tx has a higher gas limit than the block (hash=${txHashHex(tx)})`);
      }
      let res = await transfers?.execute(tx, receiptGasUsed, skipHardForkValidation);
      if (res === undefined) {
        await transfers?.flush(); // runTx must see the state the transfers so far left
        res = await runTx(vm, { tx, block, skipHardForkValidation, blockGasUsed: receiptGasUsed });
      }
      results.push(res);
      gasUsed += res.blockGasSpent;
      receiptGasUsed += res.totalGasSpent;
      // A transaction without logs has an all-zero bloom.
      if (res.receipt.logs.length > 0) bloom.or(res.bloom);
      receipts.push(res.receipt);
      encodedReceipts.push(encodeReceiptFast(res.receipt, tx.type));
    }
    await transfers?.flush();
    if (common.isActivatedEIP(4895)) {
      for (const w of block.withdrawals ?? []) {
        if (w.amount === 0n) continue;
        await api.rewardAccount(vm.evm, w.address, w.amount * GWEI_TO_WEI, common);
      }
      await vm.evm.journal.cleanup();
    }
    if (common.isActivatedEIP(7685)) {
      requests = await api.accumulateRequests(vm, results, header.gasLimit, true);
      requestsHash = genRequestsRoot(requests, common.customCrypto.sha256 ?? sha256);
    }
    const exec: BuildExecution = {
      stateRoot: await vm.stateManager.getStateRoot(),
      receiptsRoot: orderedTrieRoot(encodedReceipts, keccak),
      transactionsRoot: orderedTrieRoot(block.transactions.map(encodingOf), keccak),
      logsBloom: bloom.bitvector,
      gasUsed,
      requestsHash,
      requests,
      receipts,
      results,
    };
    // An imported block is checked before its state is committed (a mismatch reverts everything).
    opts.validate?.(exec);
    await vm.evm.journal.commit();
    return exec;
  } catch (err) {
    await vm.evm.journal.revert();
    throw err;
  }
}

/** The checks runBlock applies to an imported block's execution results, in its order. */
export function checkImportedExecution(block: Block, exec: BuildExecution): void {
  const h = block.header;
  const eq = (a: Uint8Array | undefined, b: Uint8Array | undefined) =>
    a !== undefined && b !== undefined && Buffer.compare(a, b) === 0;
  if (block.common.isActivatedEIP(7685) && !eq(h.requestsHash, exec.requestsHash)) throw new Error("invalid requestsHash");
  if (!eq(exec.receiptsRoot, h.receiptTrie)) throw new Error("invalid receiptTrie");
  if (!eq(exec.logsBloom, h.logsBloom)) throw new Error("invalid bloom");
  if (exec.gasUsed !== h.gasUsed) throw new Error(`invalid gasUsed: got ${exec.gasUsed}, header ${h.gasUsed}`);
  if (!eq(exec.stateRoot, h.stateRoot)) throw new Error("invalid block stateRoot");
}

/**
 * `encodeReceipt` (@ethereumjs/vm runBlock.js) without the generic RLP encoder for the common receipt: a status, no
 * logs, a 256-byte bloom. Byte for byte the same (`test/transferExecution.test.ts` compares them); anything else
 * goes to `encodeReceipt`.
 */
export function encodeReceiptFast(receipt: TxReceipt, txType: TypedTransaction["type"]): Uint8Array {
  const status = (receipt as { status?: number }).status;
  const bloom = receipt.bitvector;
  const gas = receipt.cumulativeBlockGasUsed;
  if (receipt.logs.length > 0 || "stateRoot" in receipt || (status !== 0 && status !== 1)) {
    return encodeReceipt(receipt, txType);
  }
  if (bloom.length !== 256 || txType > 0x7f || gas < 0x80n || gas >= 1n << 256n) {
    return encodeReceipt(receipt, txType);
  }
  // cumulativeBlockGasUsed as minimal big-endian bytes (>= 0x80, so always a length-prefixed string)
  const gasHex = gas.toString(16);
  const gasLen = (gasHex.length + 1) >> 1;
  const payload = 1 + 1 + gasLen + 3 + 256 + 1;
  const prefix = txType === 0 ? 0 : 1;
  const out = new Uint8Array(prefix + 3 + payload);
  let i = 0;
  if (prefix) out[i++] = txType;
  out[i++] = 0xf9; // list, two length bytes (payload is 263..294 bytes)
  out[i++] = payload >> 8;
  out[i++] = payload & 0xff;
  out[i++] = status === 1 ? 0x01 : 0x80;
  out[i++] = 0x80 + gasLen;
  for (let k = gasLen - 1, g = gas; k >= 0; k--, g >>= 8n) out[i + k] = Number(g & 0xffn);
  i += gasLen;
  out[i++] = 0xb9;
  out[i++] = 0x01;
  out[i++] = 0x00;
  out.set(bloom, i);
  i += 256;
  out[i] = 0xc0;
  return out;
}

function sha256(m: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(m).digest());
}

function txHashHex(tx: TypedTransaction): string {
  try {
    return `0x${Buffer.from(tx.hash()).toString("hex")}`;
  } catch {
    return "unsigned";
  }
}
