import type { Block } from "@ethereumjs/block";
import { Common } from "@ethereumjs/common";
import {
  type CustomPrecompile,
  type EVMMockBlockchainInterface,
  type EVMResult,
  getActivePrecompiles,
  type InterpreterStep,
  type Log,
  type Message,
  type PrecompileFunc,
} from "@ethereumjs/evm";
import { RLP } from "@ethereumjs/rlp";
import { TransactionType, type TypedTransaction } from "@ethereumjs/tx";
import { createAddressFromString, hexToBytes, setLengthLeft } from "@ethereumjs/util";
import { buildBlock, type RunTxResult, type VM } from "@ethereumjs/vm";
import { keccak256 } from "@zgnode/crypto";
import { bytesToHex, type Hex, RpcError, RpcErrorCode, toQuantity, uintToBytes } from "@zgnode/utils";
import {
  type AccountOverride,
  applyStateOverrides,
  type CallArgs,
  callTransaction,
  parseCallArgs,
  parseStateOverrides,
  revertError,
  withoutEoaCheck,
} from "./call.ts";
import { formatHeaderFields, formatTransaction, type JsonObject } from "./format.ts";
import { parseAddress, parseHash, parseObject, parseOptionalQuantity } from "./params.ts";

/**
 * eth_simulateV1: executes a sequence of blocks of calls on top of a stored block, each with optional block and
 * state overrides, and answers with the resulting blocks (as eth_getBlockByNumber would) plus per-call results.
 * Blocks are assembled by @ethereumjs's BlockBuilder on a throwaway VM (system calls, roots, requests), the calls
 * are unsigned transactions sent as `from`, as in geth.
 */

/** execution-apis error codes of eth_simulateV1. */
export const SimulateErrorCode = {
  NONCE_TOO_LOW: -38010,
  NONCE_TOO_HIGH: -38011,
  BASE_FEE_TOO_LOW: -38012,
  INTRINSIC_GAS: -38013,
  INSUFFICIENT_FUNDS: -38014,
  BLOCK_GAS_LIMIT: -38015,
  BLOCK_NUMBER_ORDER: -38020,
  BLOCK_TIMESTAMP_ORDER: -38021,
  TOO_MANY_CALLS: -38026,
  VM_ERROR: -32015,
  CLIENT_LIMIT: -38026,
} as const;

const MAX_BLOCKS = 256;
const TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";
const TRANSFER_ADDRESS = `0x${"ee".repeat(20)}`;
const ZERO32 = new Uint8Array(32);
const MAX_U64 = (1n << 64n) - 1n;

interface BlockOverrides {
  number?: bigint;
  time?: bigint;
  gasLimit?: bigint;
  feeRecipient?: string;
  prevRandao?: Uint8Array;
  baseFeePerGas?: bigint;
  blobBaseFee?: bigint;
}

function parseBlockOverrides(value: unknown): BlockOverrides {
  if (value === undefined || value === null) return {};
  const o = parseObject(value, 0);
  return {
    number: parseOptionalQuantity(o.number, 0),
    time: parseOptionalQuantity(o.time, 0),
    gasLimit: parseOptionalQuantity(o.gasLimit, 0),
    feeRecipient: o.feeRecipient === undefined ? undefined : parseAddress(o.feeRecipient, 0).toString(),
    prevRandao: o.prevRandao === undefined ? undefined : parseHash(o.prevRandao, 0),
    baseFeePerGas: parseOptionalQuantity(o.baseFeePerGas, 0),
    blobBaseFee: parseOptionalQuantity(o.blobBaseFee, 0),
  };
}

function simError(code: number, message: string): RpcError {
  return new RpcError(code, message);
}

/** Maps a pre-execution failure (nonce, fees, funds, gas) to the simulate error codes. */
function txError(err: unknown): RpcError {
  // @ethereumjs appends "(tx type=… baseFeePerGas=…)" context: match on the message before it.
  const msg = (err instanceof Error ? err.message : String(err)).replace(/ \((vm hf|tx type|block number)=.*$/s, "");
  const short = msg;
  if (/nonce/i.test(msg) && /account has nonce of: (\d+) tx has nonce of: (\d+)/.test(msg)) {
    const [, state, tx] = /account has nonce of: (\d+) tx has nonce of: (\d+)/.exec(msg)!;
    return BigInt(tx!) < BigInt(state!)
      ? simError(SimulateErrorCode.NONCE_TOO_LOW, `nonce too low: tx ${tx} state ${state}`)
      : simError(SimulateErrorCode.NONCE_TOO_HIGH, `nonce too high: tx ${tx} state ${state}`);
  }
  if (/baseFeePerGas|base fee/i.test(msg))
    return simError(SimulateErrorCode.BASE_FEE_TOO_LOW, "max fee per gas less than block base fee");
  if (/enough funds|insufficient/i.test(msg))
    return simError(SimulateErrorCode.INSUFFICIENT_FUNDS, "insufficient funds for gas * price + value");
  if (/intrinsic|gas limit is too low/i.test(msg)) return simError(SimulateErrorCode.INTRINSIC_GAS, "intrinsic gas too low");
  if (/higher gas limit than|remaining gas/i.test(msg))
    return simError(SimulateErrorCode.BLOCK_GAS_LIMIT, "block gas limit reached");
  return simError(RpcErrorCode.SERVER_ERROR, short);
}

interface SimContext {
  /** A throwaway VM at the base block's post-state. */
  vm: VM;
  /** Default gas of a call without `gas` (geth: min(remaining block gas, RPC gas cap)). */
  gasCap: bigint;
}

/** A value transfer as an ERC-20 style Transfer log from 0xeee…e (traceTransfers). */
function transferLog(from: Uint8Array, to: Uint8Array, value: bigint): Log {
  return [
    createAddressFromString(TRANSFER_ADDRESS).bytes,
    [hexToBytes(TRANSFER_TOPIC), setLengthLeft(from, 32), setLengthLeft(to, 32)],
    uintToBytes(value, 32),
  ];
}

type Precompiles = Map<string, PrecompileFunc>;

/**
 * A copy of `common` for a simulated block's builder (copies made from it, as headers and txs do, keep this):
 * EIP-7825's per-tx gas limit is 2^64 - 1, as geth's simulate calls skip the transaction checks; with
 * `blobBaseFee`, a header's blob gas price is that fee.
 */
function simCommon(common: Common, blobBaseFee?: bigint): Common {
  const copy = common.copy();
  const param = Common.prototype.param;
  copy.param = function (this: Common, name: string) {
    if (name === "maxTransactionGasLimit") return MAX_U64;
    if (blobBaseFee !== undefined) {
      // The blob gas price is fakeExponential(minBlobGas, excessBlobGas, fraction): with a fraction this large it
      // is minBlobGas itself.
      if (name === "minBlobGas") return blobBaseFee;
      if (name === "blobGasPriceUpdateFraction") return 1n << 512n;
    }
    return param.call(this, name);
  };
  return copy;
}

/**
 * A block's precompiles after its state overrides, in geth's order: an overridden precompile address stops being
 * a precompile (whatever the override sets), `movePrecompileToAddress` makes it answer at the target instead.
 */
export function overridePrecompiles(
  pristine: Precompiles,
  state: Map<string, AccountOverride>,
  moves: Map<string, string>,
): Precompiles {
  const key = (a: string) => a.slice(2).toLowerCase();
  const active = new Map(pristine);
  const targets = new Set<string>();
  for (const addr of state.keys()) {
    if (targets.has(addr)) {
      throw new RpcError(RpcErrorCode.SERVER_ERROR, `account ${addr} has already been overridden by a precompile`);
    }
    const fn = active.get(key(addr));
    const to = moves.get(addr);
    if (to !== undefined) {
      if (fn === undefined) throw new RpcError(RpcErrorCode.SERVER_ERROR, `account ${addr} is not a precompile`);
      if (state.has(to)) throw new RpcError(RpcErrorCode.SERVER_ERROR, `account ${to} is already overridden`);
      active.set(key(to), fn);
      targets.add(to);
    }
    if (fn !== undefined) active.delete(key(addr));
  }
  return active;
}

export interface TracedLog {
  log: Log;
  /** The block-wide log index. */
  index: number;
}

/**
 * The logs of a simulated block's calls, as geth's simulate tracer records them: EVM logs and (with
 * traceTransfers) value transfers in execution order, one list per call frame, a failed frame's list dropped.
 * Indices come from one block-wide counter that is bumped when a log is recorded and never given back, so the
 * logs of failed calls still use up indices (the fixtures' geth numbers a block's logs that way).
 */
export class SimLogTracer {
  private count = 0;
  private frames: TracedLog[][] = [];
  /** Per open frame: its last step recorded a log whose opcode may still fail (then the index is given back). */
  private pending: boolean[] = [];
  private done: TracedLog[] = [];
  private readonly traceTransfers: boolean;

  constructor(traceTransfers: boolean) {
    this.traceTransfers = traceTransfers;
  }

  beginTx(): void {
    this.frames = [];
    this.pending = [];
    this.done = [];
  }

  /** The surviving logs of the last call. */
  txLogs(): TracedLog[] {
    return this.done;
  }

  enter(msg: Message): void {
    this.frames.push([]);
    this.pending.push(false);
    if (this.traceTransfers && msg.value > 0n && msg.to !== undefined && !msg.delegatecall) {
      this.record(transferLog(msg.caller.bytes, msg.to.bytes, msg.value));
    }
  }

  exit(res: EVMResult): void {
    const frame = this.frames.pop() ?? [];
    const pending = this.pending.pop() ?? false;
    if (res.execResult.exceptionError !== undefined) {
      // A frame fails in its last step: a log recorded there was never emitted.
      if (pending) this.count--;
      if (this.frames.length === 0) this.done = [];
      return;
    }
    const parent = this.frames[this.frames.length - 1];
    if (parent === undefined) this.done = frame;
    else parent.push(...frame);
  }

  async step(step: InterpreterStep): Promise<void> {
    const top = this.pending.length - 1;
    // A further step in the same frame: the frame's previous log opcode succeeded.
    if (top >= 0) this.pending[top] = false;
    const name = step.opcode.name;
    if (name.startsWith("LOG")) {
      const stack = step.stack;
      const n = stack.length;
      const topicCount = Number(name.slice(3));
      // A stack underflow or data the gas cannot pay for (8 per byte) fails the opcode: nothing is logged.
      if (n < 2 + topicCount || stack[n - 2]! * 8n > step.gasLeft) return;
      const offset = Number(stack[n - 1]!);
      const size = Number(stack[n - 2]!);
      const topics: Uint8Array[] = [];
      for (let i = 0; i < topicCount; i++) topics.push(uintToBytes(stack[n - 3 - i]!, 32));
      // Memory the opcode expands into reads as zeros.
      const data = new Uint8Array(size);
      if (offset < step.memory.length) data.set(step.memory.subarray(offset, Math.min(offset + size, step.memory.length)));
      this.record([step.address.bytes, topics, data]);
      this.pending[top] = true;
    } else if (name === "SELFDESTRUCT" && this.traceTransfers) {
      // SELFDESTRUCT moves the whole balance to the beneficiary: a transfer log too.
      const beneficiary = uintToBytes(step.stack[step.stack.length - 1]!, 32).subarray(12);
      const acc = await step.stateManager.getAccount(step.address);
      if (acc !== undefined && acc.balance > 0n) {
        this.record(transferLog(step.address.bytes, beneficiary, acc.balance));
        this.pending[top] = true;
      }
    }
  }

  private record(log: Log): void {
    this.frames[this.frames.length - 1]?.push({ log, index: this.count++ });
  }
}

export async function simulateV1(base: Block, ctx: SimContext, optsRaw: unknown): Promise<JsonObject[]> {
  const opts = parseObject(optsRaw, 0);
  const calls = opts.blockStateCalls;
  if (!Array.isArray(calls)) throw new RpcError(RpcErrorCode.INVALID_PARAMS, "blockStateCalls must be an array");
  if (calls.length > MAX_BLOCKS) throw simError(SimulateErrorCode.CLIENT_LIMIT, "too many blocks");
  const validation = opts.validation === true;
  const traceTransfers = opts.traceTransfers === true;
  const fullTx = opts.returnFullTransactions === true;
  const vm = ctx.vm;
  const out: JsonObject[] = [];
  let parent = base;
  // geth's gas budget: the RPC gas cap shared by every call of the request; a call without `gas` gets
  // min(remaining block gas, remaining budget).
  let budget = ctx.gasCap;

  // Parse everything first: bad input fails before any execution.
  const plan = calls.map((raw) => {
    const bsc = raw === null || raw === undefined ? {} : parseObject(raw, 0);
    const callList = bsc.calls === undefined || bsc.calls === null ? [] : bsc.calls;
    if (!Array.isArray(callList)) throw new RpcError(RpcErrorCode.INVALID_PARAMS, "calls must be an array");
    const moves = new Map<string, string>();
    if (bsc.stateOverrides !== undefined && bsc.stateOverrides !== null) {
      for (const [addr, ov] of Object.entries(parseObject(bsc.stateOverrides, 0))) {
        const target = (ov as { movePrecompileToAddress?: unknown } | null)?.movePrecompileToAddress;
        if (target !== undefined && target !== null) moves.set(addr.toLowerCase(), parseAddress(target, 0).toString());
      }
    }
    return {
      overrides: parseBlockOverrides(bsc.blockOverrides),
      state: parseStateOverrides(bsc.stateOverrides, 0),
      moves,
      calls: callList.map((c) => parseCallArgs(c, 0)),
    };
  });

  // Expand block-number gaps into empty blocks, as geth does.
  const blocks: typeof plan = [];
  let prevNumber = base.header.number;
  let prevTime = base.header.timestamp;
  for (const p of plan) {
    const number = p.overrides.number ?? prevNumber + 1n;
    if (number <= prevNumber)
      throw simError(SimulateErrorCode.BLOCK_NUMBER_ORDER, `block numbers must be in order: ${number} <= ${prevNumber}`);
    for (let n = prevNumber + 1n; n < number; n++) {
      prevTime += 12n;
      blocks.push({ overrides: { number: n, time: prevTime }, state: new Map(), moves: new Map(), calls: [] });
    }
    const time = p.overrides.time ?? prevTime + 12n;
    if (time <= prevTime)
      throw simError(SimulateErrorCode.BLOCK_TIMESTAMP_ORDER, `block timestamps must be in order: ${time} <= ${prevTime}`);
    blocks.push({ ...p, overrides: { ...p.overrides, number, time } });
    prevNumber = number;
    prevTime = time;
  }
  if (blocks.length > MAX_BLOCKS) throw simError(SimulateErrorCode.CLIENT_LIMIT, "too many blocks");

  // BLOCKHASH of a simulated block answers the simulated hash; older numbers go to the chain.
  const simulated = new Map<bigint, Block>();
  const evm = vm.evm as unknown as { blockchain: EVMMockBlockchainInterface };
  const chainBlocks = evm.blockchain;
  evm.blockchain = {
    ...chainBlocks,
    getBlock: async (n: number | bigint | Uint8Array) => {
      const b = typeof n === "object" ? undefined : simulated.get(BigInt(n));
      return b ?? chainBlocks.getBlock(n as number);
    },
    shallowCopy: () => evm.blockchain,
  } as EVMMockBlockchainInterface;

  const evmx = vm.evm as unknown as { _precompiles: Precompiles; _customPrecompiles: CustomPrecompile[] | undefined };
  for (const b of blocks) {
    const number = b.overrides.number!;
    const timestamp = b.overrides.time!;
    vm.common.setHardforkBy({ blockNumber: number, timestamp });
    // Each block starts from the fork's own precompiles (geth), then its state overrides move or replace them.
    const pristine = getActivePrecompiles(vm.common, evmx._customPrecompiles);
    const active = overridePrecompiles(pristine, b.state, b.moves);
    evmx._precompiles = active;
    await applyStateOverrides(vm, b.state);
    // Write the overrides through to the trie now: cache entries that no transaction touches would otherwise be
    // left out of the block's state root.
    await (vm.stateManager as unknown as { flush(): Promise<void> }).flush();
    const gasLimit = b.overrides.gasLimit ?? parent.header.gasLimit;
    const headerData: Record<string, unknown> = {
      number,
      timestamp,
      gasLimit,
      coinbase: b.overrides.feeRecipient ?? parent.header.coinbase,
      mixHash: b.overrides.prevRandao ?? ZERO32,
      extraData: new Uint8Array(),
      // geth carries the base block's difficulty into every simulated header (non-zero below the merge).
      difficulty: parent.header.difficulty,
    };
    if (vm.common.isActivatedEIP(1559)) {
      headerData.baseFeePerGas = b.overrides.baseFeePerGas ?? (validation ? parent.header.calcNextBaseFee() : 0n);
    }
    if (vm.common.isActivatedEIP(4788)) headerData.parentBeaconBlockRoot = ZERO32;
    const builder = await buildBlock(vm, {
      parentBlock: parent,
      headerData: headerData as never,
      withdrawals: vm.common.isActivatedEIP(4895) ? [] : undefined,
      blockOpts: { putBlockIntoBlockchain: false, common: vm.common, skipConsensusFormatValidation: true },
    });
    // The builder runs each tx in a block made with its blockOpts' Common (the blob base fee override applies
    // there) and re-creates a blob tx under it (without EIP-7825's limit); the built header then takes a Common
    // without the fee override, so the next block's excess blob gas comes from the real price, as in geth.
    const builderOpts = builder as unknown as { blockOpts: { common: Common } };
    builderOpts.blockOpts = { ...builderOpts.blockOpts, common: simCommon(vm.common, b.overrides.blobBaseFee) };
    const envBlock = { header: { ...headerData, baseFeePerGas: headerData.baseFeePerGas } } as unknown as Block;
    const txs: TypedTransaction[] = [];
    const tracer = new SimLogTracer(traceTransfers);
    const results: { result: RunTxResult; logs: TracedLog[] }[] = [];
    let gasUsed = 0n;
    for (const args of b.calls) {
      const remaining = gasLimit - gasUsed;
      // biome-ignore lint/complexity/useMathMinMax: bigints
      const gas = args.gas ?? (remaining < budget ? remaining : budget);
      const callArgs: CallArgs = validation ? args : { ...args };
      let tx: TypedTransaction;
      try {
        tx = await callTransaction(vm, envBlock, callArgs, gas, TransactionType.FeeMarketEIP1559);
      } catch (err) {
        throw txError(err);
      }
      tracer.beginTx();
      const events = vm.evm.events!;
      const onMessage = (msg: Message) => {
        // The call itself runs with the block's overridden precompiles (see the warm set below).
        if (msg.depth === 0) evmx._precompiles = active;
        tracer.enter(msg);
      };
      const onAfter = (res: EVMResult) => tracer.exit(res);
      const onStep = (step: InterpreterStep, resolve?: (r?: unknown) => void) => {
        tracer.step(step).then(
          () => resolve?.(),
          () => resolve?.(),
        );
      };
      events.on("step", onStep);
      events.on("beforeMessage", onMessage);
      events.on("afterMessage", onAfter);
      // Without validation geth skips the nonce check but still bumps the state nonce by one: run the tx at the
      // state's nonce view, then set the nonce geth would leave.
      const sender = tx.getSenderAddress();
      const stateNonce = (await vm.stateManager.getAccount(sender))?.nonce ?? 0n;
      // geth's state nonce is a uint64: the bump wraps at 2^64 (its nonce-has-max-value check is a validation one).
      const nextNonce = (stateNonce + 1n) & MAX_U64;
      const fixNonce = !validation && (tx.nonce !== stateNonce || nextNonce !== stateNonce + 1n);
      if (fixNonce) await vm.stateManager.modifyAccountFields(sender, { nonce: tx.nonce });
      let result: RunTxResult;
      const headerData0 = (builder as unknown as { headerData: { baseFeePerGas?: bigint } }).headerData.baseFeePerGas;
      try {
        if (validation && tx.nonce === stateNonce && stateNonce === MAX_U64) {
          throw new RpcError(RpcErrorCode.INTERNAL_ERROR, `nonce has max value: address ${sender}, nonce: ${stateNonce}`);
        }
        // Without validation geth does not enforce the base fee on a zero-priced call (NoBaseFee): run such a tx
        // against the builder's header with a zero base fee (the block itself keeps its base fee).
        const headerData = (builder as unknown as { headerData: { baseFeePerGas?: bigint } }).headerData;
        const realBaseFee = headerData.baseFeePerGas;
        const zeroPriced =
          !validation && args.gasPrice === undefined && !(args.maxFeePerGas ?? 0n) && !(args.maxPriorityFeePerGas ?? 0n);
        if (zeroPriced && realBaseFee !== undefined) headerData.baseFeePerGas = 0n;
        // runTx warms the EVM's precompile addresses (EIP-2929); geth warms the fork's precompiles whatever the
        // overrides did, so an overridden address stays warm and a move target does not become warm.
        evmx._precompiles = pristine;
        result = await withoutEoaCheck(vm, sender, () =>
          builder.addTransaction(tx, { skipHardForkValidation: true, allowNoBlobs: true }),
        );
        if (fixNonce) await vm.stateManager.modifyAccountFields(sender, { nonce: nextNonce });
      } catch (err) {
        if (err instanceof RpcError) throw err;
        throw txError(err);
      } finally {
        const hd = (builder as unknown as { headerData: { baseFeePerGas?: bigint } }).headerData;
        if (headerData0 !== undefined) hd.baseFeePerGas = headerData0;
        events.off("step", onStep);
        evmx._precompiles = active;
        events.off("beforeMessage", onMessage);
        events.off("afterMessage", onAfter);
      }
      gasUsed += result.totalGasSpent;
      budget = budget > result.totalGasSpent ? budget - result.totalGasSpent : 0n;
      txs.push(tx);
      results.push({ result, logs: tracer.txLogs() });
    }
    builderOpts.blockOpts = { ...builderOpts.blockOpts, common: simCommon(vm.common) };
    const { block } = await builder.build();
    const blockHash = block.hash();
    const txHashes = txs.map((tx) => keccak256(tx.serialize()));
    const json = formatHeaderFields(block.header);
    // The size of the block as geth assembles it (header, these txs, no uncles, withdrawals from Shanghai on).
    const body: unknown[] = [
      block.header.raw(),
      txs.map((tx) => (tx.type === TransactionType.Legacy ? (tx.raw() as Uint8Array[]) : tx.serialize())),
      [],
    ];
    if (block.withdrawals !== undefined) body.push(block.withdrawals.map((w) => w.raw()));
    json.size = toQuantity(RLP.encode(body as never).length);
    json.uncles = [];
    if (block.withdrawals !== undefined) json.withdrawals = [];
    const inclusion = (i: number) => ({
      blockHash,
      blockNumber: number,
      blockTimestamp: timestamp,
      index: i,
      baseFeePerGas: block.header.baseFeePerGas,
    });
    json.transactions = fullTx
      ? txs.map((tx, i) => formatTransaction(tx, inclusion(i), txHashes[i]))
      : txHashes.map((h) => bytesToHex(h));
    json.calls = results.map(({ result, logs: traced }, i) => {
      const ex = result.execResult;
      const logs = traced.map(({ log, index }) => ({
        address: bytesToHex(log[0]),
        topics: log[1].map((t) => bytesToHex(t)),
        data: bytesToHex(log[2]),
        blockNumber: toQuantity(number),
        transactionHash: bytesToHex(txHashes[i]!),
        transactionIndex: toQuantity(i),
        blockHash: bytesToHex(blockHash),
        blockTimestamp: toQuantity(timestamp),
        logIndex: toQuantity(index),
        removed: false,
      }));
      const call: JsonObject = {
        // geth: a failed call returns no data; revert bytes go to error.data.
        returnData: ex.exceptionError === undefined ? bytesToHex(ex.returnValue) : "0x",
        logs,
        gasUsed: toQuantity(result.totalGasSpent),
        maxUsedGas: toQuantity(result.totalGasSpent + result.gasRefund),
        status: ex.exceptionError === undefined ? "0x1" : "0x0",
      };
      if (ex.exceptionError !== undefined) {
        call.error =
          ex.exceptionError.error === "revert"
            ? { code: 3, message: revertError(ex.returnValue).message, data: bytesToHex(ex.returnValue) }
            : { code: SimulateErrorCode.VM_ERROR, message: ex.exceptionError.error };
      }
      return call;
    });
    out.push(json);
    simulated.set(number, block);
    parent = block;
  }
  return out;
}

export type { Hex };
