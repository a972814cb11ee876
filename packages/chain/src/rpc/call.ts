import type { Block } from "@ethereumjs/block";
import { type AccessList, createTx, TransactionType, type TypedTransaction, type TypedTxData } from "@ethereumjs/tx";
import {
  Account,
  type Address,
  bigIntToBytes,
  bytesToBigInt,
  createAddressFromString,
  createZeroAddress,
  equalsBytes,
  KECCAK256_NULL,
  setLengthLeft,
} from "@ethereumjs/util";
import type { RunTxResult, VM } from "@ethereumjs/vm";
import { runTx } from "@ethereumjs/vm";
import { bytesToHex, RpcError, RpcErrorCode } from "@zgnode/utils";
import { parseAddress, parseData, parseFixedData, parseObject, parseOptionalQuantity, parseQuantity } from "./params.ts";

/** A transaction-call object of eth_call / eth_estimateGas / eth_createAccessList. */
export interface CallArgs {
  from: Address;
  to: Address | undefined;
  gas: bigint | undefined;
  gasPrice: bigint | undefined;
  maxFeePerGas: bigint | undefined;
  maxPriorityFeePerGas: bigint | undefined;
  maxFeePerBlobGas: bigint | undefined;
  value: bigint;
  data: Uint8Array;
  nonce: bigint | undefined;
  type: number | undefined;
  accessList: AccessList | undefined;
  blobVersionedHashes: `0x${string}`[] | undefined;
  authorizationList: Record<string, unknown>[] | undefined;
}

export function parseCallArgs(value: unknown, index: number): CallArgs {
  const o = parseObject(value, index);
  if (o.input !== undefined && o.data !== undefined && o.input !== o.data) {
    throw new RpcError(RpcErrorCode.INVALID_PARAMS, 'both "data" and "input" are set and not equal');
  }
  const rawData = o.input ?? o.data;
  const accessList = o.accessList as AccessList | undefined;
  if (accessList !== undefined && !Array.isArray(accessList)) throw new RpcError(RpcErrorCode.INVALID_PARAMS, "bad accessList");
  const blobs = o.blobVersionedHashes;
  if (blobs !== undefined && blobs !== null) {
    if (!Array.isArray(blobs)) throw new RpcError(RpcErrorCode.INVALID_PARAMS, "bad blobVersionedHashes");
    for (const b of blobs) parseFixedData(b, index, 32, "blob hash");
  }
  const auth = o.authorizationList;
  if (auth !== undefined && auth !== null && !Array.isArray(auth)) {
    throw new RpcError(RpcErrorCode.INVALID_PARAMS, "bad authorizationList");
  }
  return {
    from: o.from === undefined || o.from === null ? createZeroAddress() : parseAddress(o.from, index),
    to: o.to === undefined || o.to === null ? undefined : parseAddress(o.to, index),
    gas: parseOptionalQuantity(o.gas, index),
    gasPrice: parseOptionalQuantity(o.gasPrice, index),
    maxFeePerGas: parseOptionalQuantity(o.maxFeePerGas, index),
    maxPriorityFeePerGas: parseOptionalQuantity(o.maxPriorityFeePerGas, index),
    maxFeePerBlobGas: parseOptionalQuantity(o.maxFeePerBlobGas, index),
    value: parseOptionalQuantity(o.value, index) ?? 0n,
    data: rawData === undefined || rawData === null ? new Uint8Array() : parseData(rawData, index),
    nonce: parseOptionalQuantity(o.nonce, index),
    type: o.type === undefined || o.type === null ? undefined : Number(parseQuantity(o.type, index)),
    accessList: accessList ?? undefined,
    blobVersionedHashes: (blobs ?? undefined) as `0x${string}`[] | undefined,
    authorizationList: (auth ?? undefined) as Record<string, unknown>[] | undefined,
  };
}

/** Per-account state override of eth_call / eth_estimateGas (geth's StateOverride). */
export interface AccountOverride {
  balance?: bigint;
  nonce?: bigint;
  code?: Uint8Array;
  state?: Map<Uint8Array, Uint8Array>;
  stateDiff?: Map<Uint8Array, Uint8Array>;
}

export function parseStateOverrides(value: unknown, index: number): Map<string, AccountOverride> {
  const out = new Map<string, AccountOverride>();
  if (value === undefined || value === null) return out;
  const o = parseObject(value, index);
  for (const [addr, raw] of Object.entries(o)) {
    parseAddress(addr, index);
    const ov = parseObject(raw, index);
    if (ov.state !== undefined && ov.stateDiff !== undefined) {
      throw new RpcError(RpcErrorCode.INVALID_PARAMS, `account ${addr} has both 'state' and 'stateDiff'`);
    }
    const slots = (m: unknown) => {
      const r = new Map<Uint8Array, Uint8Array>();
      for (const [k, v] of Object.entries(parseObject(m, index))) {
        r.set(parseFixedData(k, index, 32, "storage key"), parseFixedData(v, index, 32, "storage value"));
      }
      return r;
    };
    out.set(addr.toLowerCase(), {
      balance: parseOptionalQuantity(ov.balance, index),
      nonce: parseOptionalQuantity(ov.nonce, index),
      code: ov.code === undefined ? undefined : parseData(ov.code, index),
      state: ov.state === undefined ? undefined : slots(ov.state),
      stateDiff: ov.stateDiff === undefined ? undefined : slots(ov.stateDiff),
    });
  }
  return out;
}

export async function applyStateOverrides(vm: VM, overrides: Map<string, AccountOverride>): Promise<void> {
  const sm = vm.stateManager;
  for (const [addr, ov] of overrides) {
    // An override that sets nothing (e.g. only eth_simulateV1's movePrecompileToAddress) leaves the state alone.
    if (Object.values(ov).every((v) => v === undefined)) continue;
    const address = createAddressFromString(addr);
    if ((await sm.getAccount(address)) === undefined) await sm.modifyAccountFields(address, {});
    if (ov.balance !== undefined) await sm.modifyAccountFields(address, { balance: ov.balance });
    if (ov.nonce !== undefined) await sm.modifyAccountFields(address, { nonce: ov.nonce });
    if (ov.code !== undefined) await sm.putCode(address, ov.code);
    if (ov.state !== undefined) {
      await sm.clearStorage(address);
      for (const [k, v] of ov.state) await sm.putStorage(address, k, v);
    }
    if (ov.stateDiff !== undefined) for (const [k, v] of ov.stateDiff) await sm.putStorage(address, k, v);
  }
}

function hasFees(args: CallArgs): boolean {
  return (
    (args.gasPrice !== undefined && args.gasPrice > 0n) ||
    (args.maxFeePerGas !== undefined && args.maxFeePerGas > 0n) ||
    (args.maxPriorityFeePerGas !== undefined && args.maxPriorityFeePerGas > 0n)
  );
}

/**
 * The block context a call runs in: the referenced block's header. Like geth, when the call names no fee the
 * base fee is zeroed so a zero-priced call is valid (BASEFEE then reads 0).
 */
export function callBlock(block: Block, args: CallArgs, _vm: VM): Block {
  if (hasFees(args) || block.header.baseFeePerGas === undefined) return block;
  let view = zeroFeeViews.get(block);
  if (view === undefined) {
    // A view of the block whose header reads baseFeePerGas = 0 (everything else, methods included, inherited):
    // building a real header per call costs more than the call itself. Blocks are immutable, so one view per
    // block serves every call on it.
    const header = Object.create(block.header, { baseFeePerGas: { value: 0n, enumerable: true } }) as Block["header"];
    view = Object.create(block, { header: { value: header, enumerable: true } }) as Block;
    zeroFeeViews.set(block, view);
  }
  return view;
}

const zeroFeeViews = new WeakMap<Block, Block>();

/** Builds an unsigned tx that runTx executes as if sent by `args.from`. */
export async function callTransaction(
  vm: VM,
  block: Block,
  args: CallArgs,
  gasLimit: bigint,
  /** The type when the call names no fee fields (geth: legacy for eth_call, EIP-1559 for eth_simulateV1). */
  defaultType: number = TransactionType.Legacy,
  /** False builds the tx with createTx even where the template path applies (the differential test's reference). */
  useTemplate = true,
): Promise<TypedTransaction> {
  const account = await vm.stateManager.getAccount(args.from);
  const nonce = args.nonce ?? account?.nonce ?? 0n;
  let type = args.type;
  if (type === undefined) {
    if (args.authorizationList !== undefined) type = TransactionType.EOACodeEIP7702;
    else if (args.blobVersionedHashes !== undefined) type = TransactionType.BlobEIP4844;
    else if (args.maxFeePerGas !== undefined || args.maxPriorityFeePerGas !== undefined) type = TransactionType.FeeMarketEIP1559;
    else if (args.gasPrice !== undefined)
      type = args.accessList !== undefined ? TransactionType.AccessListEIP2930 : TransactionType.Legacy;
    else if (args.accessList !== undefined && defaultType === TransactionType.Legacy) type = TransactionType.AccessListEIP2930;
    else type = defaultType;
  }
  const baseFee = block.header.baseFeePerGas ?? 0n;
  const data: Record<string, unknown> = {
    type,
    nonce,
    gasLimit,
    to: args.to,
    value: args.value,
    data: args.data,
  };
  if (type === TransactionType.Legacy || type === TransactionType.AccessListEIP2930) {
    data.gasPrice = args.gasPrice ?? 0n;
  } else {
    // No fee given: a zero-priced call against a zero base fee (see callBlock).
    const maxFee = args.maxFeePerGas ?? args.gasPrice ?? (hasFees(args) ? baseFee + (args.maxPriorityFeePerGas ?? 0n) : 0n);
    data.maxFeePerGas = maxFee;
    data.maxPriorityFeePerGas = args.maxPriorityFeePerGas ?? (args.gasPrice !== undefined ? args.gasPrice : 0n);
  }
  if (type !== TransactionType.Legacy) data.accessList = args.accessList ?? [];
  if (type === TransactionType.BlobEIP4844) {
    data.blobVersionedHashes = args.blobVersionedHashes ?? [];
    data.maxFeePerBlobGas = args.maxFeePerBlobGas ?? 0n;
  }
  if (type === TransactionType.EOACodeEIP7702) {
    data.authorizationList = (args.authorizationList ?? []).map((a) => ({ ...a }));
  }
  const fast = useTemplate ? fastCallTx(vm, type, data, args) : undefined;
  if (fast !== undefined) return fast;
  const common = vm.common.copy();
  // eth_simulateV1 defaults a call's gas to the RPC cap, above EIP-7825's per-tx limit, and geth hashes that tx
  // as is: build it under the last fork without the limit (execution checks only intrinsic gas against it).
  if (common.isActivatedEIP(7825) && gasLimit > common.param("maxTransactionGasLimit")) common.setHardfork("prague");
  let tx: TypedTransaction;
  try {
    tx = createTx(data as TypedTxData, { common, freeze: false, allowUnlimitedInitCodeSize: false });
  } catch (err) {
    throw new RpcError(RpcErrorCode.INVALID_PARAMS, (err as Error).message.split(" (")[0] ?? "invalid transaction");
  }
  const from = args.from;
  (tx as { getSenderAddress: () => Address }).getSenderAddress = () => from;
  return tx;
}

/**
 * Legacy and EIP-1559 call txs without access lists are made from a per-VM template by overriding the value
 * fields: @ethereumjs copies the Common and rebuilds its parameter cache in every tx constructor, which costs
 * more than a simple call's execution. Returns undefined when the template path does not apply.
 */
const templates = new WeakMap<VM, Map<number, TypedTransaction>>();

function fastCallTx(vm: VM, type: number, data: Record<string, unknown>, args: CallArgs): TypedTransaction | undefined {
  if (type !== TransactionType.Legacy && type !== TransactionType.FeeMarketEIP1559) return undefined;
  if (args.accessList !== undefined && args.accessList.length > 0) return undefined;
  const gasLimit = data.gasLimit as bigint;
  const fields = [data.nonce, gasLimit, data.value, data.gasPrice, data.maxFeePerGas, data.maxPriorityFeePerGas];
  if (fields.some((v) => v !== undefined && (v as bigint) >= 1n << 256n)) return undefined;
  let byType = templates.get(vm);
  if (byType === undefined) {
    byType = new Map();
    templates.set(vm, byType);
  }
  let template = byType.get(type);
  if (template === undefined) {
    const base =
      type === TransactionType.Legacy
        ? { type, gasPrice: 0n }
        : { type, maxFeePerGas: 0n, maxPriorityFeePerGas: 0n, accessList: [] };
    template = createTx(base as TypedTxData, { common: vm.common.copy(), freeze: false });
    byType.set(type, template);
  }
  const from = args.from;
  const own: PropertyDescriptorMap = {
    nonce: { value: data.nonce },
    gasLimit: { value: gasLimit },
    to: { value: args.to },
    value: { value: data.value },
    data: { value: data.data },
    cache: { value: {}, writable: true },
    getSenderAddress: { value: () => from },
  };
  if (type === TransactionType.Legacy) own.gasPrice = { value: data.gasPrice };
  else {
    own.maxFeePerGas = { value: data.maxFeePerGas };
    own.maxPriorityFeePerGas = { value: data.maxPriorityFeePerGas };
  }
  const tx = Object.create(template, own) as TypedTransaction;
  if (type === TransactionType.FeeMarketEIP1559 && (data.maxPriorityFeePerGas as bigint) > (data.maxFeePerGas as bigint)) {
    throw new RpcError(RpcErrorCode.SERVER_ERROR, "max priority fee per gas higher than max fee per gas");
  }
  return tx;
}

export interface CallOutcome {
  result: RunTxResult;
  /** Revert or halt reason, undefined on success. */
  error: string | undefined;
  reverted: boolean;
}

const PANIC_REASONS: Record<number, string> = {
  0: "generic panic",
  1: "assert(false)",
  17: "arithmetic underflow or overflow",
  18: "division or modulo by zero",
  33: "enum overflow",
  34: "invalid encoded storage byte array accessed",
  49: "out-of-bounds array access; popping on an empty array",
  50: "out-of-bounds access of an array or bytesN",
  65: "out of memory",
  81: "uninitialized function",
};

/** Decodes Solidity `Error(string)` / `Panic(uint256)` revert data, as geth's "execution reverted: ..." does. */
export function decodeRevertReason(data: Uint8Array): string | undefined {
  if (data.length < 4) return undefined;
  const selector = bytesToHex(data.subarray(0, 4));
  if (selector === "0x08c379a0" && data.length >= 68) {
    const offset = Number(bytesToBigInt(data.subarray(4, 36)));
    const start = 4 + offset;
    if (start + 32 > data.length) return undefined;
    const len = Number(bytesToBigInt(data.subarray(start, start + 32)));
    if (start + 32 + len > data.length) return undefined;
    return new TextDecoder().decode(data.subarray(start + 32, start + 32 + len));
  }
  if (selector === "0x4e487b71" && data.length === 36) {
    const code = Number(bytesToBigInt(data.subarray(4, 36)));
    return PANIC_REASONS[code] ?? `unknown panic code: 0x${code.toString(16)}`;
  }
  return undefined;
}

/** The JSON-RPC error for a reverted call: code 3, "execution reverted[: reason]", data = revert bytes. */
export function revertError(returnValue: Uint8Array): RpcError {
  const reason = decodeRevertReason(returnValue);
  return new RpcError(
    RpcErrorCode.EXECUTION_REVERTED,
    reason === undefined ? "execution reverted" : `execution reverted: ${reason}`,
    bytesToHex(returnValue),
  );
}

/** Maps @ethereumjs pre-execution failures to geth wording (nonce, funds, intrinsic gas). */
export function preCheckError(err: unknown): RpcError {
  const msg = err instanceof Error ? err.message : String(err);
  let text = msg.replace(/ \(tx type=.*$/s, "").replace(/ -> .*$/s, "");
  if (/sender doesn't have enough funds|insufficient balance/i.test(msg)) text = "insufficient funds for gas * price + value";
  else if (/gas limit is too low|intrinsic/i.test(msg)) text = "intrinsic gas too low";
  else if (/nonce/i.test(msg) && /lower|too low/i.test(msg)) text = "nonce too low";
  return new RpcError(RpcErrorCode.SERVER_ERROR, text);
}

/**
 * Runs `fn` (which runs one tx from `caller`) with EIP-3607's "sender must not have code" check bypassed, as geth
 * does for eth_call, eth_estimateGas and eth_simulateV1: @ethereumjs has no switch for it, so the sender's first
 * account read answers a copy without code, and every write of the sender's account restores the real code hash
 * (the code stays callable during execution and the post-state is exact).
 */
export async function withoutEoaCheck<T>(vm: VM, caller: Address, fn: () => Promise<T>): Promise<T> {
  const sm = vm.stateManager;
  const account = await sm.getAccount(caller);
  if (account === undefined || equalsBytes(account.codeHash, KECCAK256_NULL)) return fn();
  const realCodeHash = account.codeHash;
  const journal = vm.evm.journal as unknown as { putAccount(a: Address, acc: Account | undefined): Promise<void> };
  const origGet = sm.getAccount;
  const origPut = journal.putAccount;
  let pending = true;
  sm.getAccount = async (address: Address) => {
    const a = await origGet.call(sm, address);
    if (pending && a !== undefined && address.equals(caller)) {
      pending = false;
      return new Account(a.nonce, a.balance, a.storageRoot, KECCAK256_NULL);
    }
    return a;
  };
  journal.putAccount = async (address: Address, acc: Account | undefined) => {
    if (acc !== undefined && address.equals(caller) && equalsBytes(acc.codeHash, KECCAK256_NULL)) acc.codeHash = realCodeHash;
    return origPut.call(journal, address, acc);
  };
  try {
    return await fn();
  } finally {
    sm.getAccount = origGet;
    journal.putAccount = origPut;
  }
}

export interface RunCallOptions {
  gasLimit: bigint;
  reportAccessList?: boolean;
}

/** Runs a call on `vm` (state changes discarded) and returns the outcome; throws on pre-execution failure. */
export async function runCall(vm: VM, block: Block, args: CallArgs, opts: RunCallOptions): Promise<CallOutcome> {
  const tx = await callTransaction(vm, block, args, opts.gasLimit);
  await vm.stateManager.checkpoint();
  try {
    const result = await withoutEoaCheck(vm, args.from, () =>
      runTx(vm, {
        tx,
        block,
        skipNonce: args.nonce === undefined,
        skipBalance: !hasFees(args) && args.value === 0n,
        skipBlockGasLimitValidation: true,
        skipHardForkValidation: true,
        reportAccessList: opts.reportAccessList === true,
      }),
    );
    const ex = result.execResult.exceptionError;
    return { result, error: ex?.error, reverted: ex?.error === "revert" };
  } catch (err) {
    throw preCheckError(err);
  } finally {
    await vm.stateManager.revert();
  }
}

/** eth_call result: the return data, or code 3 on revert, -32000 on other halts. */
export function callResultOrThrow(outcome: CallOutcome): Uint8Array {
  const ret = outcome.result.execResult.returnValue;
  if (outcome.reverted) throw revertError(ret);
  if (outcome.error !== undefined) throw new RpcError(RpcErrorCode.SERVER_ERROR, outcome.error);
  return ret;
}

/**
 * geth's estimateGas search: run at the cap; fail like eth_call if that fails; else binary-search the lowest
 * gas limit that succeeds, starting from gasUsed (and trying gasUsed * 64/63 first, which almost always fits).
 */
export async function estimateGas(vm: VM, block: Block, args: CallArgs, cap: bigint): Promise<bigint> {
  let hi = args.gas !== undefined && args.gas < cap ? args.gas : cap;
  const first = await runCall(vm, block, args, { gasLimit: hi });
  callResultOrThrow(first);
  const used = first.result.totalGasSpent;
  // Refund-free upper bound: gas used before refunds also has to fit.
  let lo = used - 1n;
  const optimistic = ((used + first.result.gasRefund) * 64n) / 63n;
  if (optimistic < hi) {
    const o = await runCall(vm, block, args, { gasLimit: optimistic });
    if (o.error === undefined) hi = optimistic;
    else lo = optimistic;
  }
  while (lo + 1n < hi) {
    const mid = (lo + hi) / 2n;
    let ok: boolean;
    try {
      ok = (await runCall(vm, block, args, { gasLimit: mid })).error === undefined;
    } catch {
      ok = false;
    }
    if (ok) hi = mid;
    else lo = mid;
  }
  return hi;
}

export interface AccessListResult {
  accessList: { address: string; storageKeys: string[] }[];
  gasUsed: bigint;
  error: string | undefined;
}

/** eth_createAccessList: run with access tracking until the list is stable (geth iterates the same way). */
export async function createAccessList(vm: VM, block: Block, args: CallArgs, cap: bigint): Promise<AccessListResult> {
  const gasLimit = args.gas ?? cap;
  let list: AccessList = args.accessList ?? [];
  const excluded = new Set<string>([args.from.toString()]);
  if (args.to !== undefined) excluded.add(args.to.toString());
  for (const addr of vm.evm.precompiles.keys()) excluded.add(`0x${addr}`.toLowerCase());
  for (let i = 0; i < 8; i++) {
    const outcome = await runCall(
      vm,
      block,
      { ...args, accessList: list, type: args.type },
      { gasLimit, reportAccessList: true },
    );
    const generated = (outcome.result.accessList ?? [])
      .map((e) => ({
        address: e.address.toLowerCase() as `0x${string}`,
        storageKeys: e.storageKeys.map((k) => k.toLowerCase() as `0x${string}`),
      }))
      .filter((e) => !excluded.has(e.address) || e.storageKeys.length > 0);
    const stable = JSON.stringify(generated) === JSON.stringify(list);
    list = generated;
    if (stable || i === 7) {
      const final = await runCall(vm, block, { ...args, accessList: list }, { gasLimit });
      let error: string | undefined;
      if (final.reverted) error = "execution reverted";
      else if (final.error !== undefined) error = final.error;
      return { accessList: list, gasUsed: final.result.totalGasSpent, error };
    }
  }
  throw new RpcError(RpcErrorCode.INTERNAL_ERROR, "access list did not converge");
}

export function padStorageValue(value: Uint8Array): Uint8Array {
  return setLengthLeft(value, 32);
}

export function quantityBytes(n: bigint): Uint8Array {
  return bigIntToBytes(n);
}
