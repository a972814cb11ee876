import type { Block } from "@ethereumjs/block";
import { Capability, getCalldataFloorGas, type TypedTransaction } from "@ethereumjs/tx";
import {
  Account,
  type Address,
  bigIntMax,
  bytesToUnprefixedHex,
  equalsBytes,
  KECCAK256_NULL,
  MAX_INTEGER,
} from "@ethereumjs/util";
import { Bloom, type RunTxResult, type TxReceipt, type VM } from "@ethereumjs/vm";

/**
 * Plain value transfers without `runTx`. A transaction to an account without code runs no EVM code, yet `runTx`
 * still builds a Message, two journal checkpoints, warm-address sets and call frames, and reads and writes the
 * sender four times. Here the same effects are applied directly, in `runTx`'s order (@ethereumjs/vm 10.1.3:
 * runTx.js `_runTx`, evm.js `runCall`/`_executeCall`, journal.js `cleanup`), and the same result is returned.
 *
 * Only the success case is handled: whenever a check `runTx` makes would fail, or the transaction is not plainly a
 * transfer, `executeTransfer` returns undefined before writing anything and the caller runs `runTx`, which then
 * throws its own error or executes the general case. The differential test (`test/transferExecution.test.ts`)
 * compares both paths on random transaction sequences.
 */

/**
 * Forks whose plain-transfer rules are the ones reproduced here. Later forks change them (Amsterdam: EIP-7708
 * transfer logs, EIP-2780/8037 gas, EIP-7928 access lists, EIP-7778 block gas): they must be added deliberately.
 */
const FORKS = new Set(["paris", "mergeNetsplitBlock", "shanghai", "cancun", "prague", "osaka", "bpo1", "bpo2"]);

/** Prefix of an EIP-7702 delegation indicator (runTx.js `DELEGATION_7702_FLAG`). */
const DELEGATION_PREFIX = new Uint8Array([0xef, 0x01, 0x00]);

/** What is fixed for a whole block: its fee parameters, once checked that the fast path applies. */
export interface TransferContext {
  baseFee: bigint;
  coinbase: Address;
}

interface JournalInternals {
  touched?: Set<string>;
}

/**
 * Whether plain transfers of `block` may skip `runTx` on `vm`: a proof-of-stake block under a fork listed above,
 * no extra EIPs switched on, and nobody observing the VM's or EVM's per-transaction events (tracers need them).
 */
export function transferContext(vm: VM, block: Block): TransferContext | undefined {
  const common = vm.common;
  if (!FORKS.has(common.hardfork()) || common.eips().length > 0 || common.consensusType() !== "pos") return undefined;
  if (!common.isActivatedEIP(1559) || !common.isActivatedEIP(2930)) return undefined;
  if (vm.evm.stateManager !== vm.stateManager) return undefined;
  if ((vm as unknown as { _opts?: { profilerOpts?: { reportAfterTx?: boolean } } })._opts?.profilerOpts?.reportAfterTx) {
    return undefined;
  }
  for (const ev of ["beforeTx", "afterTx"] as const) if (vm.events.listenerCount(ev) > 0) return undefined;
  const evmEvents = vm.evm.events;
  if (evmEvents === undefined) return undefined;
  for (const ev of ["beforeMessage", "afterMessage", "step", "newContract"] as const) {
    if (evmEvents.listenerCount(ev) > 0) return undefined;
  }
  if (!((vm.evm.journal as unknown as JournalInternals).touched instanceof Set)) return undefined;
  const baseFee = block.header.baseFeePerGas;
  if (baseFee === undefined) return undefined;
  return { baseFee, coinbase: block.header.coinbase };
}

/**
 * Executes `tx` if it is a plain transfer that `runTx` would execute successfully, with the result `runTx` would
 * return; otherwise returns undefined having changed nothing. `blockGasUsed` is the receipt gas of the block so far.
 */
export async function executeTransfer(
  vm: VM,
  ctx: TransferContext,
  tx: TypedTransaction,
  block: Block,
  blockGasUsed: bigint,
  skipHardForkValidation: boolean,
): Promise<RunTxResult | undefined> {
  // Types 0-2 only (no blobs, no authorizations), a recipient, and nothing runTx would adjust or reject up front.
  if (tx.type > 2 || tx.to === undefined || tx.value < 0n) return undefined;
  if (
    !skipHardForkValidation &&
    (tx.common.hardfork() !== block.common.hardfork() || block.common.hardfork() !== vm.common.hardfork())
  ) {
    return undefined;
  }
  if (block.header.gasLimit < tx.gasLimit) return undefined;
  // runTx starts with journal.cleanup(): accounts touched before (by a block-start hook) would be swept there.
  if (((vm.evm.journal as unknown as JournalInternals).touched as Set<string>).size > 0) return undefined;
  const to = tx.to;
  // The EVM's active precompiles (EVM.getPrecompile looks up the same map), e.g. P256VERIFY at 0x100 from Osaka.
  if (vm.evm.precompiles.has(bytesToUnprefixedHex(to.bytes))) return undefined;

  const baseFee = ctx.baseFee;
  const caller = tx.getSenderAddress();
  const intrinsicGas = tx.getIntrinsicGas();
  const floorCost = getCalldataFloorGas(tx, caller);
  if (tx.gasLimit < bigIntMax(intrinsicGas, floorCost)) return undefined;
  const maxFeePerGas = "maxFeePerGas" in tx ? (tx.maxFeePerGas as bigint) : (tx as { gasPrice: bigint }).gasPrice;
  if (maxFeePerGas < baseFee) return undefined;

  const state = vm.stateManager;
  // The accounts involved, loaded once; the same object when addresses coincide, so updates compose as in runTx.
  const accounts = new Map<string, { address: Address; account: Account }>();
  const load = async (address: Address): Promise<Account> => {
    const key = address.toString();
    let entry = accounts.get(key);
    if (entry === undefined) {
      entry = { address, account: (await state.getAccount(address)) ?? new Account() };
      accounts.set(key, entry);
    }
    return entry.account;
  };

  const from = await load(caller);
  // EIP-3607, with EIP-7702's exception for delegated senders.
  if (!equalsBytes(from.codeHash, KECCAK256_NULL)) {
    if (!vm.common.isActivatedEIP(7702)) return undefined;
    const code = await state.getCode(caller);
    if (!equalsBytes(code.subarray(0, 3), DELEGATION_PREFIX)) return undefined;
  }
  if (from.balance < tx.getUpfrontCost(baseFee)) return undefined;
  let maxCost = tx.value;
  if (tx.supports(Capability.EIP1559FeeMarket)) maxCost += tx.gasLimit * (tx as { maxFeePerGas: bigint }).maxFeePerGas;
  if (from.balance < maxCost) return undefined;
  if (from.nonce !== tx.nonce) return undefined;

  // The recipient must run no code: no code of its own (a delegation indicator is code too).
  const target = await load(to);
  if (!equalsBytes(target.codeHash, KECCAK256_NULL) || (await state.getCode(to)).length > 0) return undefined;

  let gasPrice: bigint;
  let inclusionFeePerGas: bigint;
  if (tx.supports(Capability.EIP1559FeeMarket)) {
    inclusionFeePerGas = (tx as { getEffectivePriorityFee(b: bigint): bigint }).getEffectivePriorityFee(baseFee);
    gasPrice = inclusionFeePerGas + baseFee;
  } else {
    gasPrice = (tx as { gasPrice: bigint }).gasPrice;
    inclusionFeePerGas = gasPrice - baseFee;
  }

  // Gas: no execution, no refunds; EIP-7623's floor when it is higher.
  const totalGasSpentBeforeRefund = intrinsicGas;
  let totalGasSpent = totalGasSpentBeforeRefund;
  if (vm.common.isActivatedEIP(7623) && totalGasSpent < floorCost) totalGasSpent = floorCost;
  const blockGasSpent = vm.common.isActivatedEIP(7778) ? bigIntMax(totalGasSpentBeforeRefund, floorCost) : totalGasSpent;
  const amountSpent = totalGasSpent * gasPrice;
  const minerValue = totalGasSpent * inclusionFeePerGas;

  // Balance updates in runTx's order: gas purchase and nonce, value out, value in, unused gas back, tip to the miner.
  // Sender and recipient may be the same account (then the value nets out) and either may be the coinbase.
  const txCost = tx.gasLimit * gasPrice;
  const miner = await load(ctx.coinbase);
  from.balance -= txCost;
  from.nonce += 1n;
  from.balance -= tx.value;
  // runTx's checks guarantee the sender can pay; an overflow on the recipient ends the call with an error there.
  // Neither can happen to a transfer executed here. The account objects are private copies (getAccount decodes a
  // fresh one each time), so bailing out leaves no trace.
  if (from.balance < 0n || target.balance + tx.value > MAX_INTEGER) return undefined;
  target.balance += tx.value;
  from.balance += txCost - amountSpent;
  if (miner.balance + minerValue > MAX_INTEGER) return undefined;
  miner.balance += minerValue;

  // All three were touched (runTx writes each one); EIP-161 removes those left empty, the others are stored.
  for (const { address, account } of accounts.values()) {
    if (account.isEmpty()) await state.deleteAccount(address);
    else await state.putAccount(address, account);
  }

  const bloom = new Bloom(undefined, vm.common);
  const receipt: TxReceipt = {
    status: 1,
    cumulativeBlockGasUsed: blockGasUsed + totalGasSpent,
    bitvector: bloom.bitvector,
    logs: [],
  };
  return {
    execResult: {
      gasRefund: 0n,
      executionGasUsed: 0n,
      exceptionError: undefined,
      returnValue: new Uint8Array(0),
      logs: undefined,
    },
    totalGasSpent,
    gasRefund: 0n,
    blockGasSpent,
    amountSpent,
    minerValue,
    bloom,
    receipt,
  } as RunTxResult;
}
