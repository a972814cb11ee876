import { type Block, createBlock } from "@ethereumjs/block";
import type { Common } from "@ethereumjs/common";
import type { Log } from "@ethereumjs/evm";
import type { MerkleStateManager } from "@ethereumjs/statemanager";
import { createTx, type TypedTransaction } from "@ethereumjs/tx";
import { Address, createAccount, type DB, setLengthLeft } from "@ethereumjs/util";
import { createVM, type RunTxResult, runTx, type VM } from "@ethereumjs/vm";
import { bytesToHex, hexToBytes } from "@zgnode/utils";
import { ExecutionError, ExecutionErrorCode } from "./errors.ts";
import { StateView } from "./stateView.ts";

/** An eth_call / eth_estimateGas request (decoded: bytes and bigints). */
export interface CallRequest {
  from?: Uint8Array;
  /** Undefined: contract creation. */
  to?: Uint8Array;
  gas?: bigint;
  gasPrice?: bigint;
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
  value?: bigint;
  data?: Uint8Array;
  accessList?: { address: string; storageKeys: string[] }[];
}

/** geth-style state override for one account (eth_call's third parameter). */
export interface AccountOverride {
  balance?: bigint;
  nonce?: bigint;
  code?: Uint8Array;
  /** Replaces the whole storage: slot (hex) -> value (hex). */
  state?: Record<string, string>;
  /** Changes only these slots. */
  stateDiff?: Record<string, string>;
}
/** hex address -> override. */
export type StateOverrides = Record<string, AccountOverride>;

export interface CallResult {
  success: boolean;
  returnData: Uint8Array;
  /** Gas the transaction would be charged (intrinsic + execution - refund). */
  gasUsed: bigint;
  /** EVM error when not successful ("revert", "out of gas", ...). */
  error?: string;
  logs: Log[];
}

export interface CallEnv {
  /** The chain's trie node store (views layer their own writes over it). */
  nodes: DB<string, string | Uint8Array>;
  common: Common;
  block: Block;
  gasCap: bigint;
  blockHash: (n: bigint) => Promise<Block>;
}

interface Prepared {
  vm: VM;
  sm: MerkleStateManager;
  envBlock: Block;
  common: Common;
}

async function prepare(env: CallEnv, req: CallRequest, overrides?: StateOverrides): Promise<Prepared> {
  const view = await StateView.open(env.nodes, env.block, env.common);
  const sm = view.stateManager;
  if (overrides) await applyOverrides(sm, overrides);
  const common = sm.common;
  const h = env.block.header;
  // Like geth: with no fee fields the base fee is not enforced (a zero-price call must not fail on it).
  const noFee = !req.gasPrice && !req.maxFeePerGas && !req.maxPriorityFeePerGas;
  const envBlock = createBlock(
    {
      header: {
        number: h.number,
        timestamp: h.timestamp,
        gasLimit: h.gasLimit,
        coinbase: h.coinbase,
        difficulty: h.difficulty,
        mixHash: h.mixHash,
        parentHash: h.parentHash,
        baseFeePerGas: h.baseFeePerGas === undefined ? undefined : noFee ? 0n : h.baseFeePerGas,
        excessBlobGas: h.excessBlobGas,
        blobGasUsed: h.blobGasUsed,
        parentBeaconBlockRoot: h.parentBeaconBlockRoot,
        withdrawalsRoot: h.withdrawalsRoot,
        requestsHash: h.requestsHash,
      },
    },
    { common, skipConsensusFormatValidation: true },
  );
  const blockchain = {
    getBlock: (n: number) => env.blockHash(BigInt(n)),
    putBlock: async () => {},
    shallowCopy() {
      return this;
    },
    validateHeader: async () => {},
  };
  const vm = await createVM({ common, stateManager: sm, blockchain: blockchain as never });
  return { vm, sm, envBlock, common };
}

async function applyOverrides(sm: MerkleStateManager, overrides: StateOverrides): Promise<void> {
  for (const [addrHex, o] of Object.entries(overrides)) {
    const addr = new Address(hexToBytes(addrHex));
    const acct = (await sm.getAccount(addr)) ?? createAccount({});
    if (o.balance !== undefined) acct.balance = o.balance;
    if (o.nonce !== undefined) acct.nonce = o.nonce;
    await sm.putAccount(addr, acct);
    if (o.code !== undefined) await sm.putCode(addr, o.code);
    if (o.state !== undefined) {
      await sm.clearStorage(addr);
      for (const [k, v] of Object.entries(o.state)) await sm.putStorage(addr, setLengthLeft(hexToBytes(k), 32), trim(v));
    }
    if (o.stateDiff !== undefined) {
      for (const [k, v] of Object.entries(o.stateDiff)) await sm.putStorage(addr, setLengthLeft(hexToBytes(k), 32), trim(v));
    }
  }
}

function trim(hex: string): Uint8Array {
  const b = hexToBytes(hex);
  let i = 0;
  while (i < b.length && b[i] === 0) i++;
  return b.subarray(i);
}

function makeTx(req: CallRequest, common: Common, gasLimit: bigint): TypedTransaction {
  const base = {
    to: req.to,
    value: req.value ?? 0n,
    data: req.data ?? new Uint8Array(0),
    gasLimit,
    nonce: 0n,
  };
  let tx: TypedTransaction;
  if (req.maxFeePerGas !== undefined || req.maxPriorityFeePerGas !== undefined) {
    const maxFeePerGas = req.maxFeePerGas ?? req.maxPriorityFeePerGas ?? 0n;
    tx = createTx(
      {
        ...base,
        type: 2,
        maxFeePerGas,
        maxPriorityFeePerGas: req.maxPriorityFeePerGas ?? 0n,
        accessList: req.accessList as never,
      },
      { common, freeze: false },
    );
  } else if (req.accessList !== undefined) {
    tx = createTx(
      { ...base, type: 1, gasPrice: req.gasPrice ?? 0n, accessList: req.accessList as never },
      {
        common,
        freeze: false,
      },
    );
  } else {
    tx = createTx({ ...base, type: 0, gasPrice: req.gasPrice ?? 0n }, { common, freeze: false });
  }
  // Calls are unsigned: the sender is whoever the request names.
  const from = new Address(req.from ?? new Uint8Array(20));
  (tx as { getSenderAddress: () => Address }).getSenderAddress = () => from;
  return tx;
}

async function execute(p: Prepared, req: CallRequest, gasLimit: bigint): Promise<RunTxResult> {
  const tx = makeTx(req, p.common, gasLimit);
  await p.sm.checkpoint();
  try {
    return await runTx(p.vm, {
      tx,
      block: p.envBlock,
      skipNonce: true,
      skipBalance: true,
      skipBlockGasLimitValidation: true,
      skipHardForkValidation: true,
    });
  } catch (err) {
    throw new ExecutionError(ExecutionErrorCode.FAILED, cleanMessage((err as Error).message));
  } finally {
    await p.sm.revert();
  }
}

function cleanMessage(msg: string): string {
  // ethereumjs appends "(vm hf=... -> block number=... -> tx ...)" context; clients want the rule only.
  const i = msg.indexOf(" (");
  return i > 0 ? msg.slice(0, i) : msg;
}

function defaultGas(env: CallEnv, req: CallRequest): bigint {
  const cap = env.gasCap > 0n && env.gasCap < env.block.header.gasLimit ? env.gasCap : env.block.header.gasLimit;
  return req.gas !== undefined && req.gas > 0n ? (env.gasCap > 0n && req.gas > env.gasCap ? env.gasCap : req.gas) : cap;
}

function toResult(r: RunTxResult): CallResult {
  const err = r.execResult.exceptionError;
  return {
    success: err === undefined,
    returnData: r.execResult.returnValue,
    gasUsed: r.totalGasSpent,
    error: err?.error,
    logs: r.execResult.logs ?? [],
  };
}

/** eth_call. Never throws for EVM failures (see `success`); throws `ExecutionError` FAILED if the call cannot run. */
export async function runCall(env: CallEnv, req: CallRequest, overrides?: StateOverrides): Promise<CallResult> {
  const p = await prepare(env, req, overrides);
  return toResult(await execute(p, req, defaultGas(env, req)));
}

/** Revert data -> geth's message ("execution reverted: <reason>" for Error(string)). */
export function revertMessage(data: Uint8Array): string {
  if (data.length >= 68 && bytesToHex(data.subarray(0, 4)) === "0x08c379a0") {
    try {
      const len = Number(BigInt(bytesToHex(data.subarray(36, 68))));
      const reason = new TextDecoder().decode(data.subarray(68, 68 + len));
      return `execution reverted: ${reason}`;
    } catch {
      // fall through
    }
  }
  return "execution reverted";
}

/** eth_estimateGas: binary search for the smallest gas limit that succeeds (geth's algorithm). */
export async function runEstimateGas(env: CallEnv, req: CallRequest, overrides?: StateOverrides): Promise<bigint> {
  const p = await prepare(env, req, overrides);
  let hi = defaultGas(env, req);
  const feeCap = req.maxFeePerGas ?? req.gasPrice ?? 0n;
  if (feeCap > 0n) {
    const bal = (await p.sm.getAccount(new Address(req.from ?? new Uint8Array(20))))?.balance ?? 0n;
    const avail = bal - (req.value ?? 0n);
    if (avail < 0n) throw new ExecutionError(ExecutionErrorCode.FAILED, "insufficient funds for transfer");
    const allowance = avail / feeCap;
    if (allowance < hi) hi = allowance;
  }
  const first = await execute(p, req, hi);
  const err = first.execResult.exceptionError;
  if (err) {
    if (err.error === "revert") {
      const data = first.execResult.returnValue;
      throw new ExecutionError(ExecutionErrorCode.REVERTED, revertMessage(data), bytesToHex(data));
    }
    throw new ExecutionError(ExecutionErrorCode.FAILED, `gas required exceeds allowance (${hi})`);
  }
  let lo = first.totalGasSpent - 1n;
  const ok = async (gas: bigint): Promise<boolean> => {
    try {
      return (await execute(p, req, gas)).execResult.exceptionError === undefined;
    } catch {
      return false;
    }
  };
  // Often exactly the used gas suffices (transfers, calls without refunds or 63/64 reserves).
  if (first.totalGasSpent < hi && (await ok(first.totalGasSpent))) return first.totalGasSpent;
  // Otherwise little more than that: try it first (63/64 rule and refunds considered).
  const optimistic = ((first.totalGasSpent + first.gasRefund + 2300n) * 64n) / 63n;
  if (optimistic < hi) {
    if (await ok(optimistic)) hi = optimistic;
    else lo = optimistic;
  }
  while (lo + 1n < hi) {
    if ((hi - lo) * 1000n < hi * 15n) break; // within 1.5%: good enough, like geth
    let mid = (hi + lo) / 2n;
    if (mid > lo * 2n) mid = lo * 2n;
    if (await ok(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}
