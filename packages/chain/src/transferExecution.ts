import type { Block } from "@ethereumjs/block";
import {
  AccessList2930Tx,
  Capability,
  FeeMarket1559Tx,
  getCalldataFloorGas,
  LegacyTx,
  type TypedTransaction,
} from "@ethereumjs/tx";
import { Account, Address, bigIntMax, bytesToUnprefixedHex, equalsBytes, KECCAK256_NULL, MAX_INTEGER } from "@ethereumjs/util";
import { Bloom, type RunTxResult, type TxReceipt, type VM } from "@ethereumjs/vm";

/**
 * Plain value transfers without `runTx`. A transaction to an account without code runs no EVM code, yet `runTx`
 * still builds a Message, two journal checkpoints, warm-address sets and call frames, and decodes and re-encodes
 * the sender's account four times. Here the same effects are applied directly, in `runTx`'s order (@ethereumjs/vm
 * 10.1.3: runTx.js `_runTx`, evm.js `runCall`/`_executeCall`, journal.js `cleanup`), with the same result.
 *
 * Only the success case is handled: whenever a check `runTx` makes would fail, or the transaction is not plainly a
 * transfer, `execute` returns undefined having changed nothing, and the caller runs `runTx` (after `flush`), which
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

/** The library's own sender derivation, for types 0-2 (all `Legacy.getSenderAddress`/`getSenderPublicKey`). */
const SENDER_METHODS = new Set<unknown>([
  LegacyTx.prototype.getSenderAddress,
  AccessList2930Tx.prototype.getSenderAddress,
  FeeMarket1559Tx.prototype.getSenderAddress,
]);
const PUBLIC_KEY_METHODS = new Set<unknown>([
  LegacyTx.prototype.getSenderPublicKey,
  AccessList2930Tx.prototype.getSenderPublicKey,
  FeeMarket1559Tx.prototype.getSenderPublicKey,
]);

interface JournalInternals {
  touched?: Set<string>;
}

/** An account as the transfers so far left it. `deleted`: removed under EIP-161 (since recreated if non-empty). */
interface Entry {
  address: Address;
  account: Account;
  deleted: boolean;
}

/**
 * Executes the plain transfers of one block. Accounts are read from the state once and kept, decoded, in an
 * overlay while consecutive transfers run; `flush` writes them back (one write per account instead of several per
 * transaction). Nothing else may read or write the state between `execute` and `flush`: the caller flushes before
 * it runs anything else (`runTx`, withdrawals, the state root). The overlay lives for one block execution only.
 */
export class TransferExecutor {
  private readonly vm: VM;
  private readonly block: Block;
  private readonly baseFee: bigint;
  private readonly coinbase: Address;
  private readonly coinbaseKey: string;
  private readonly keccak: ((m: Uint8Array) => Uint8Array) | undefined;
  private readonly accounts = new Map<string, Entry>();

  private constructor(vm: VM, block: Block, baseFee: bigint) {
    this.vm = vm;
    this.block = block;
    this.baseFee = baseFee;
    this.coinbase = block.header.coinbase;
    this.coinbaseKey = bytesToUnprefixedHex(this.coinbase.bytes);
    this.keccak = vm.common.customCrypto.keccak256;
  }

  /**
   * An executor if plain transfers of `block` may skip `runTx` on `vm`: a proof-of-stake block under a fork listed
   * above, no extra EIPs switched on, and nobody observing the VM's or EVM's per-transaction events (tracers).
   */
  static create(vm: VM, block: Block): TransferExecutor | undefined {
    const common = vm.common;
    if (!FORKS.has(common.hardfork()) || common.eips().length > 0 || common.consensusType() !== "pos") return undefined;
    if (!common.isActivatedEIP(1559) || !common.isActivatedEIP(2930)) return undefined;
    if (vm.evm.stateManager !== vm.stateManager) return undefined;
    const opts = (vm as unknown as { _opts?: { profilerOpts?: { reportAfterTx?: boolean } } })._opts;
    if (opts?.profilerOpts?.reportAfterTx) return undefined;
    for (const ev of ["beforeTx", "afterTx"] as const) if (vm.events.listenerCount(ev) > 0) return undefined;
    const evmEvents = vm.evm.events;
    if (evmEvents === undefined) return undefined;
    for (const ev of ["beforeMessage", "afterMessage", "step", "newContract"] as const) {
      if (evmEvents.listenerCount(ev) > 0) return undefined;
    }
    if (!((vm.evm.journal as unknown as JournalInternals).touched instanceof Set)) return undefined;
    if (!(vm.evm.precompiles instanceof Map)) return undefined;
    const baseFee = block.header.baseFeePerGas;
    if (baseFee === undefined) return undefined;
    return new TransferExecutor(vm, block, baseFee);
  }

  /**
   * Executes `tx` if it is a plain transfer that `runTx` would execute successfully, returning what `runTx` would;
   * otherwise returns undefined having changed nothing. `blockGasUsed` is the receipt gas of the block so far.
   */
  async execute(tx: TypedTransaction, blockGasUsed: bigint, skipHardForkValidation: boolean): Promise<RunTxResult | undefined> {
    const { vm, block, baseFee } = this;
    // Types 0-2 only (no blobs, no authorizations), a recipient, and nothing runTx would adjust or reject up front.
    if (tx.type > 2 || tx.to === undefined || tx.value < 0n) return undefined;
    if (!skipHardForkValidation) {
      const hf = block.common.hardfork();
      if (tx.common.hardfork() !== hf || vm.common.hardfork() !== hf) return undefined;
    }
    if (block.header.gasLimit < tx.gasLimit) return undefined;
    // runTx starts with journal.cleanup(): accounts touched before (by a block-start hook) would be swept there.
    if (((vm.evm.journal as unknown as JournalInternals).touched as Set<string>).size > 0) return undefined;
    const to = tx.to;
    const toKey = bytesToUnprefixedHex(to.bytes);
    // The EVM's active precompiles (EVM.getPrecompile looks up this map), e.g. P256VERIFY at 0x100 from Osaka.
    if (vm.evm.precompiles.has(toKey)) return undefined;

    const caller = this.sender(tx);
    const intrinsicGas = tx.getIntrinsicGas();
    const floorCost = getCalldataFloorGas(tx, caller);
    if (tx.gasLimit < bigIntMax(intrinsicGas, floorCost)) return undefined;
    const maxFeePerGas = "maxFeePerGas" in tx ? (tx.maxFeePerGas as bigint) : (tx as { gasPrice: bigint }).gasPrice;
    if (maxFeePerGas < baseFee) return undefined;

    const fromEntry = await this.load(caller, bytesToUnprefixedHex(caller.bytes));
    const from = fromEntry.account;
    // EIP-3607, with EIP-7702's exception for delegated senders.
    if (!equalsBytes(from.codeHash, KECCAK256_NULL)) {
      if (!vm.common.isActivatedEIP(7702)) return undefined;
      const code = await vm.stateManager.getCode(caller);
      if (!equalsBytes(code.subarray(0, 3), DELEGATION_PREFIX)) return undefined;
    }
    if (from.balance < tx.getUpfrontCost(baseFee)) return undefined;
    let maxCost = tx.value;
    if (tx.supports(Capability.EIP1559FeeMarket)) maxCost += tx.gasLimit * (tx as { maxFeePerGas: bigint }).maxFeePerGas;
    if (from.balance < maxCost) return undefined;
    if (from.nonce !== tx.nonce) return undefined;

    // The recipient must run no code. The state manager sets an account's code hash whenever it stores its code
    // (putCode) and drops both together (deleteAccount), so the empty-code hash means `getCode` returns nothing. A
    // delegation indicator (EIP-7702) is code too.
    const targetEntry = await this.load(to, toKey);
    if (!equalsBytes(targetEntry.account.codeHash, KECCAK256_NULL)) return undefined;
    const minerEntry = await this.load(this.coinbase, this.coinbaseKey);

    let gasPrice: bigint;
    let inclusionFeePerGas: bigint;
    if (tx.supports(Capability.EIP1559FeeMarket)) {
      inclusionFeePerGas = (tx as FeeMarket1559Tx).getEffectivePriorityFee(baseFee);
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

    // Updates in runTx's order: gas purchase and nonce, value out, value in, unused gas back, tip to the miner.
    // Sender and recipient may be the same account (the value nets out) and either may be the coinbase: the entries
    // are then the same object, so the updates compose as they do in runTx.
    const entries = [fromEntry, targetEntry, minerEntry].filter((e, i, all) => all.indexOf(e) === i);
    const saved = entries.map((e) => [e.account.balance, e.account.nonce] as const);
    const txCost = tx.gasLimit * gasPrice;
    const target = targetEntry.account;
    const miner = minerEntry.account;
    from.balance -= txCost;
    from.nonce += 1n;
    from.balance -= tx.value;
    // runTx's checks guarantee the sender can pay; a recipient overflow ends the call with an error there. Neither
    // is a transfer executed here: undo and leave the transaction to runTx.
    let ok = from.balance >= 0n && target.balance + tx.value <= MAX_INTEGER;
    if (ok) {
      target.balance += tx.value;
      from.balance += txCost - amountSpent;
      ok = miner.balance + minerValue <= MAX_INTEGER;
    }
    if (!ok) {
      entries.forEach((e, i) => {
        [e.account.balance, e.account.nonce] = saved[i];
      });
      return undefined;
    }
    miner.balance += minerValue;
    // All three were touched (runTx writes each one); EIP-161 removes those left empty (journal.cleanup).
    for (const e of entries) {
      if (e.account.isEmpty()) {
        e.account = new Account();
        e.deleted = true;
      }
    }

    // runTx ends every transaction by forgetting the original storage values (EIP-2200 gas) it may have cached.
    vm.stateManager.originalStorageCache.clear();

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

  /** Writes the overlay into the state (as runTx would have left it) and empties it. */
  async flush(): Promise<void> {
    const state = this.vm.stateManager;
    for (const { address, account, deleted } of this.accounts.values()) {
      if (deleted) await state.deleteAccount(address);
      if (!account.isEmpty()) await state.putAccount(address, account);
    }
    this.accounts.clear();
  }

  private async load(address: Address, key: string): Promise<Entry> {
    let entry = this.accounts.get(key);
    if (entry === undefined) {
      const account = (await this.vm.stateManager.getAccount(address)) ?? new Account();
      entry = { address, account, deleted: false };
      this.accounts.set(key, entry);
    }
    return entry;
  }

  /** `tx.getSenderAddress()`: the last 20 bytes of keccak(public key), with the node's native keccak when it can. */
  private sender(tx: TypedTransaction): Address {
    if (this.keccak && SENDER_METHODS.has(tx.getSenderAddress) && PUBLIC_KEY_METHODS.has(tx.getSenderPublicKey)) {
      return new Address(this.keccak(tx.getSenderPublicKey()).slice(12));
    }
    return tx.getSenderAddress();
  }
}
