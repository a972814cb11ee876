import { EventEmitter } from "node:events";
import {
  Block,
  type BlockBytes,
  type BlockHeader,
  createBlock,
  createBlockHeader,
  genWithdrawalsTrieRoot,
  type HeaderData,
} from "@ethereumjs/block";
import type { Common } from "@ethereumjs/common";
import { MerklePatriciaTrie } from "@ethereumjs/mpt";
import { Caches, MerkleStateManager } from "@ethereumjs/statemanager";
import type { TypedTransaction } from "@ethereumjs/tx";
import {
  Address,
  type CLRequest,
  type CLRequestType,
  createWithdrawal,
  KECCAK256_RLP,
  toChecksumAddress,
  ValueEncoding,
  type WithdrawalData,
} from "@ethereumjs/util";
import { type AfterBlockEvent, createVM, type RunBlockResult, runBlock, type VM } from "@ethereumjs/vm";
import type { KeyValueStore } from "@zgnode/db";
import { bytesToHex, equalBytes, hexToBytes, type Logger, withDefaults } from "@zgnode/utils";
import { BlockDecoder } from "./blockDecoder.ts";
import { checkImportedExecution, executeForBuild } from "./buildExecution.ts";
import { type CallRequest, type CallResult, runCall, runEstimateGas, type StateOverrides } from "./call.ts";
import { ChainStore } from "./chainStore.ts";
import { ChainError, ChainErrorCode, ExecutionError, ExecutionErrorCode } from "./errors.ts";
import type { GenesisSpec } from "./genesis.ts";
import { validateHeaderAgainstParent } from "./headerRules.ts";
import type { ChainMetrics } from "./metrics.ts";
import { type ChainOptions, defaultChainOptions } from "./options.ts";
import { orderedTrieRoot } from "./orderedTrie.ts";
import { senderOf } from "./rawTx.ts";
import type { StoredReceipt } from "./receipts.ts";
import { createSharedCommon, releaseSharedCommon } from "./sharedCommon.ts";
import { StateNodeDb } from "./stateDb.ts";
import { StateView } from "./stateView.ts";

/** A log as the RPC layer serves it (all positions filled in). */
export interface LogInfo {
  address: Uint8Array;
  topics: Uint8Array[];
  data: Uint8Array;
  blockNumber: bigint;
  blockHash: Uint8Array;
  blockTimestamp: bigint;
  transactionHash: Uint8Array;
  transactionIndex: number;
  /** Position in the block (across all its transactions). */
  logIndex: number;
  removed: boolean;
}

/** A transaction receipt as the RPC layer serves it. */
export interface ReceiptInfo {
  transactionHash: Uint8Array;
  transactionIndex: number;
  blockHash: Uint8Array;
  blockNumber: bigint;
  blockTimestamp: bigint;
  from: Uint8Array;
  /** Undefined for contract creation. */
  to: Uint8Array | undefined;
  type: number;
  status: 0 | 1;
  cumulativeGasUsed: bigint;
  gasUsed: bigint;
  effectiveGasPrice: bigint;
  contractAddress: Uint8Array | undefined;
  logs: LogInfo[];
  logsBloom: Uint8Array;
  blobGasUsed?: bigint;
  blobGasPrice?: bigint;
  /** Pre-Byzantium: the post-transaction state root (then `status` is derived, not part of the receipt). */
  root?: Uint8Array;
}

/** A mined transaction with its position. */
export interface TxLookup {
  tx: TypedTransaction;
  from: Uint8Array;
  block: Block;
  index: number;
  receipt: ReceiptInfo;
}

/** Emitted once per new canonical head, after the block is durably stored. */
export interface NewBlockEvent {
  block: Block;
  receipts: ReceiptInfo[];
  /** Blocks that left the canonical chain (newest first), when the new head is on another branch. */
  removed: Block[];
}

/** What a block-start hook sees: the new block's header and the chain's VM, whose state is the parent's post-state. */
export interface BlockStartContext {
  header: BlockHeader;
  vm: VM;
}
export type BlockStartHook = (ctx: BlockStartContext) => Promise<void>;

export interface ChainEvents {
  block: [NewBlockEvent];
}

export interface BuildBlockOptions {
  /** Parent to build on (default: the head). Must be stored. Only with `commit: false` may it differ from the head. */
  parentHash?: Uint8Array;
  /** Seconds; raised to parent + 1 when not later than the parent. Default: now. */
  timestamp?: bigint;
  /** Fee recipient (hex address); default `options.coinbase`. */
  coinbase?: string;
  /** 32 bytes (header mixHash); default the parent hash. */
  prevRandao?: Uint8Array;
  parentBeaconBlockRoot?: Uint8Array;
  /** Extra data (hex); default `options.extraData`. */
  extraData?: string;
  /** EIP-4895 withdrawals (amounts in gwei). */
  withdrawals?: WithdrawalData[];
  /** Store the block and make it the head (default true). `false`: execute only, the chain stays unchanged. */
  commit?: boolean;
  /**
   * With `commit: false` on the head: keep the execution, so that importing this very block next commits it without
   * running it again (a BFT node executes the block it proposes or validates, then imports it once committed). Any
   * other build or import first drops what is kept; the head and the chain's answers never see it.
   */
  keep?: boolean;
  /** Throw on the first transaction that cannot be included (geth wording) instead of leaving it out. */
  strict?: boolean;
}

export interface BuildBlockResult {
  block: Block;
  receipts: ReceiptInfo[];
  /** Transactions left out, with the reason (they fail against the parent state or do not fit). */
  rejected: { tx: TypedTransaction; error: string }[];
  /** EIP-7685 requests of the block (Prague), in order. */
  requests: CLRequest<CLRequestType>[];
}

export interface ChainOpenOptions {
  db: KeyValueStore;
  genesis: GenesisSpec;
  options?: Partial<ChainOptions>;
  metrics?: ChainMetrics;
  logger?: Logger;
}

export type BlockTag = "latest" | "pending" | "earliest" | "safe" | "finalized";

/**
 * The execution chain: a LevelDB-backed Merkle-Patricia state, blocks with receipts and indexes, and the one VM
 * that executes them. Blocks enter either through `buildBlock` (a producer assembles pending transactions) or
 * `importBlock` (a block from elsewhere is fully validated); both end in one atomic write of state nodes, block,
 * receipts, indexes and head. Consensus-free: whoever decides *when* to build (a local sealer, later the BFT engine)
 * drives it through those two calls.
 */
export class Chain extends EventEmitter<ChainEvents> {
  readonly common: Common;
  readonly chainId: bigint;
  readonly genesis: Block;
  readonly options: ChainOptions;
  private readonly store: ChainStore;
  private readonly decoder: BlockDecoder;
  private readonly stateDb: StateNodeDb;
  private readonly trie: MerklePatriciaTrie;
  private readonly stateManager: MerkleStateManager;
  private readonly vm: VM;
  private readonly metrics: ChainMetrics | undefined;
  private readonly logger: Logger | undefined;
  private headBlock: Block;
  /** The parent whose ancestry BLOCKHASH reads while a block executes. */
  private execTip: Block;
  /** A block executed with `keep` (its post-state is the VM's current state), until imported or dropped. */
  private kept: { hash: string; block: Block; receipts: StoredReceipt[]; parent: Block } | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private headViewCache: StateView | undefined;
  private blockStartHook: BlockStartHook | undefined;
  private readonly buildCommons = new Map<string, Common>();

  private constructor(args: {
    common: Common;
    genesis: Block;
    head: Block;
    options: ChainOptions;
    store: ChainStore;
    decoder: BlockDecoder;
    stateDb: StateNodeDb;
    trie: MerklePatriciaTrie;
    stateManager: MerkleStateManager;
    vm: VM;
    metrics?: ChainMetrics;
    logger?: Logger;
  }) {
    super();
    this.common = args.common;
    this.chainId = args.common.chainId();
    this.genesis = args.genesis;
    this.headBlock = args.head;
    this.execTip = args.head;
    this.options = args.options;
    this.store = args.store;
    this.decoder = args.decoder;
    this.stateDb = args.stateDb;
    this.trie = args.trie;
    this.stateManager = args.stateManager;
    this.vm = args.vm;
    this.metrics = args.metrics;
    this.logger = args.logger;
  }

  /**
   * Opens the chain stored in `db`, creating genesis on first use. Refuses a store written for another genesis.
   * Continues at the stored head with its state root.
   */
  static async open(opts: ChainOpenOptions): Promise<Chain> {
    const options = withDefaults(defaultChainOptions, opts.options);
    const common = opts.genesis.common.copy();
    const stateDb = new StateNodeDb(opts.db);
    const trie = new MerklePatriciaTrie({
      db: stateDb,
      useKeyHashing: true,
      valueEncoding: ValueEncoding.Bytes,
      common,
      cacheSize: 50_000,
    });
    const stateManager = new MerkleStateManager({
      common,
      trie,
      caches: new Caches({ account: { size: 200_000 }, storage: { size: 100_000 }, code: { size: 5_000 } }),
    });
    await stateManager.generateCanonicalGenesis(opts.genesis.alloc);
    const genesisRoot = await stateManager.getStateRoot();
    const genesis = createBlock({ header: { ...opts.genesis.header, stateRoot: genesisRoot } }, { common, setHardfork: true });
    const decoder = new BlockDecoder(common);
    const store = new ChainStore(opts.db, options.blockCacheSize, (bytes) => decoder.decode(bytes));
    const storedGenesis = await store.getGenesisHash();
    if (storedGenesis === undefined) {
      const ops = [
        ...stateDb.takeWrites(),
        ...store.putBlockOps(genesis, []),
        ...store.canonicalOps(genesis),
        ...store.headOps(genesis.hash()),
        ...store.genesisOps(genesis.hash(), common.chainId()),
      ];
      await opts.db.batch(ops);
      stateDb.writesDone(true);
    } else if (!equalBytes(storedGenesis, genesis.hash()) || (await store.getChainId()) !== common.chainId()) {
      throw new ChainError(
        ChainErrorCode.GENESIS_MISMATCH,
        `database holds genesis ${bytesToHex(storedGenesis)} (chain id ${await store.getChainId()}), configured genesis is ${bytesToHex(genesis.hash())} (chain id ${common.chainId()})`,
      );
    }
    const headHash = (await store.getHeadHash()) ?? genesis.hash();
    const head = await store.getBlock(headHash);
    if (!head) throw new ChainError(ChainErrorCode.NOT_FOUND, `head block ${bytesToHex(headHash)} missing from store`);
    await stateManager.setStateRoot(head.header.stateRoot, true);
    common.setHardforkBy({ blockNumber: head.header.number, timestamp: head.header.timestamp });

    let chain: Chain | undefined;
    const blockchain = {
      getBlock: async (n: number) => {
        if (!chain) throw new Error("chain not ready");
        return chain.ancestorAt(chain.execTip, BigInt(n));
      },
      putBlock: async () => {},
      shallowCopy() {
        return this;
      },
      validateHeader: async () => {},
    };
    const vm = await createVM({ common, stateManager, blockchain: blockchain as never, setHardfork: true });
    chain = new Chain({
      common,
      genesis,
      head,
      options,
      store,
      decoder,
      stateDb,
      trie,
      stateManager,
      vm,
      metrics: opts.metrics,
      logger: opts.logger,
    });
    opts.metrics?.headNumber.set(Number(head.header.number));
    return chain;
  }

  /** Decodes an RLP block with this chain's fork schedule (throws on malformed input). */
  decodeBlock(bytes: Uint8Array): Block {
    return this.decoder.decode(bytes);
  }

  /** Builds a block from its decoded RLP values (header, transactions, uncles, withdrawals). */
  blockFromValues(values: BlockBytes): Block {
    return this.decoder.fromValues(values);
  }

  /** The canonical head. */
  get head(): Block {
    return this.headBlock;
  }

  /** Resolves a block tag or number; safe/finalized are the head (single-slot finality). */
  async getBlockByTag(tag: BlockTag | bigint): Promise<Block | undefined> {
    if (typeof tag === "bigint") return this.getBlockByNumber(tag);
    if (tag === "earliest") return this.genesis;
    return this.headBlock;
  }

  async getBlockByNumber(n: bigint): Promise<Block | undefined> {
    if (n === this.headBlock.header.number) return this.headBlock;
    if (n > this.headBlock.header.number || n < 0n) return undefined;
    const hash = await this.store.getCanonicalHash(n);
    return hash ? this.store.getBlock(hash) : undefined;
  }

  async getBlockByHash(hash: Uint8Array): Promise<Block | undefined> {
    return this.store.getBlock(hash);
  }

  async getCanonicalHash(n: bigint): Promise<Uint8Array | undefined> {
    return this.store.getCanonicalHash(n);
  }

  /** True when `block` is on the canonical chain. */
  async isCanonical(block: Block): Promise<boolean> {
    const h = await this.store.getCanonicalHash(block.header.number);
    return h !== undefined && equalBytes(h, block.hash());
  }

  /** Receipts of a stored block, in transaction order (undefined if the block is unknown). */
  async getReceipts(blockHash: Uint8Array): Promise<ReceiptInfo[] | undefined> {
    const block = await this.store.getBlock(blockHash);
    if (!block) return undefined;
    const stored = await this.store.getReceipts(blockHash);
    if (!stored) return undefined;
    return expandReceipts(block, stored);
  }

  /** Senders of a stored block's transactions (recorded at execution, no signature recovery). */
  async getSenders(blockHash: Uint8Array): Promise<Uint8Array[] | undefined> {
    const stored = await this.store.getReceipts(blockHash);
    return stored?.map((r) => r.from);
  }

  /** A canonical transaction by hash, with block, index, sender and receipt. */
  async getTransaction(txHash: Uint8Array): Promise<TxLookup | undefined> {
    const loc = await this.store.getTxLocation(txHash);
    if (!loc) return undefined;
    const block = await this.store.getBlock(loc.blockHash);
    const stored = await this.store.getReceipts(loc.blockHash);
    if (!block || !stored || loc.index >= block.transactions.length) return undefined;
    // Only this receipt (clients poll receipts one by one; expanding the whole block each time is quadratic).
    let firstLog = 0;
    for (let i = 0; i < loc.index; i++) firstLog += stored[i].logs.length;
    const receipt = expandReceipt(block, stored[loc.index], loc.index, firstLog);
    return {
      tx: block.transactions[loc.index],
      from: stored[loc.index].from,
      block,
      index: loc.index,
      receipt,
    };
  }

  async getReceipt(txHash: Uint8Array): Promise<ReceiptInfo | undefined> {
    return (await this.getTransaction(txHash))?.receipt;
  }

  /** Read-only state at a stored block (default: head). */
  async stateAt(block: Block = this.headBlock): Promise<StateView> {
    if (block === this.headBlock && this.headViewCache?.root === block.header.stateRoot) return this.headViewCache;
    const view = await StateView.open(this.stateDb, block, this.common);
    if (block === this.headBlock) this.headViewCache = view;
    return view;
  }

  /** Executes a call against the state after `block` (default: head) without changing anything. */
  async call(req: CallRequest, opts: { block?: Block; overrides?: StateOverrides } = {}): Promise<CallResult> {
    const block = opts.block ?? this.headBlock;
    return runCall(this.callEnv(block), req, opts.overrides);
  }

  /** Smallest gas limit with which `req` succeeds at `block` (default: head); throws `ExecutionError` otherwise. */
  async estimateGas(req: CallRequest, opts: { block?: Block; overrides?: StateOverrides } = {}): Promise<bigint> {
    const block = opts.block ?? this.headBlock;
    return runEstimateGas(this.callEnv(block), req, opts.overrides);
  }

  /** Base fee of the block after the head (EIP-1559). */
  nextBaseFee(): bigint {
    const h = this.headBlock.header;
    return h.common.isActivatedEIP(1559) ? h.calcNextBaseFee() : 0n;
  }

  /** Blob base fee of the block after the head (0 before Cancun). */
  nextBlobBaseFee(): bigint {
    const h = this.headBlock.header;
    return h.common.isActivatedEIP(4844) ? h.calcNextBlobGasPrice(this.common) : 0n;
  }

  /**
   * Builds, executes and stores a new head block on top of the current head holding as many of `txs` (in the
   * given order) as fit and execute. Transactions that cannot be included come back in `rejected`.
   */
  buildBlock(txs: TypedTransaction[], opts: BuildBlockOptions = {}): Promise<BuildBlockResult> {
    return this.exclusive(() => this.buildBlockLocked(txs, opts));
  }

  /**
   * Fully validates a block (header rules against its parent, body roots, execution: gas, receipts, bloom, state
   * root, requests) and stores it as the new head. A block already stored is accepted as a no-op.
   * Throws `ChainError` INVALID_BLOCK / UNKNOWN_PARENT and leaves the chain unchanged on any failure.
   */
  importBlock(block: Block): Promise<void> {
    return this.exclusive(() => this.importBlockLocked(block));
  }

  /** Waits for pending work and stops accepting more. The caller closes the database. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue.catch(() => {});
  }

  // ---------------------------------------------------------------------------------------------------------------

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new ChainError(ChainErrorCode.CLOSED, "chain is closed"));
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }

  private async buildBlockLocked(txs: TypedTransaction[], opts: BuildBlockOptions): Promise<BuildBlockResult> {
    const started = performance.now();
    await this.dropKept();
    const commit = opts.commit ?? true;
    const head = this.headBlock;
    let parent = head;
    if (opts.parentHash && !equalBytes(opts.parentHash, head.hash())) {
      const p = await this.store.getBlock(opts.parentHash);
      if (!p) throw new ChainError(ChainErrorCode.UNKNOWN_PARENT, `unknown parent ${bytesToHex(opts.parentHash)}`);
      if (commit) throw new ChainError(ChainErrorCode.INVALID_BLOCK, "can only commit blocks built on the head");
      parent = p;
    }
    const now = BigInt(Math.floor(Date.now() / 1000));
    let timestamp = opts.timestamp ?? now;
    if (timestamp <= parent.header.timestamp) timestamp = parent.header.timestamp + 1n;
    const common = this.buildCommon(parent.header.number + 1n, timestamp);
    const gasLimit = this.options.blockGasLimit > 0n ? this.options.blockGasLimit : parent.header.gasLimit;
    const withdrawals = common.isActivatedEIP(4895) ? (opts.withdrawals ?? []).map(createWithdrawal) : undefined;
    const headerData: HeaderData = {
      parentHash: parent.hash(),
      number: parent.header.number + 1n,
      timestamp,
      gasLimit,
      coinbase: hexToBytes(opts.coinbase ?? this.options.coinbase),
      extraData: hexToBytes(opts.extraData ?? this.options.extraData),
      mixHash: opts.prevRandao ?? parent.hash(),
      difficulty: 0n,
    };
    if (common.isActivatedEIP(1559)) headerData.baseFeePerGas = parent.header.calcNextBaseFee();
    if (common.isActivatedEIP(4844)) headerData.excessBlobGas = parent.header.calcNextExcessBlobGas(common);
    if (common.isActivatedEIP(4788)) headerData.parentBeaconBlockRoot = opts.parentBeaconBlockRoot ?? new Uint8Array(32);
    if (withdrawals) {
      // The empty trie's root is a constant: no trie to build for the usual block without withdrawals.
      headerData.withdrawalsRoot = withdrawals.length === 0 ? KECCAK256_RLP : await genWithdrawalsTrieRoot(withdrawals);
    }

    // Choose what fits: gas limits must sum within the block, blobs within the blob limit.
    const baseFee = headerData.baseFeePerGas as bigint | undefined;
    const rejected: BuildBlockResult["rejected"] = [];
    const reject = (tx: TypedTransaction, error: string) => {
      if (opts.strict) throw new ExecutionError(ExecutionErrorCode.FAILED, error);
      rejected.push({ tx, error });
    };
    const chosen: TypedTransaction[] = [];
    let gas = 0n;
    let blobGas = 0n;
    const blobLimit = common.isActivatedEIP(4844) ? common.getBlobGasSchedule().maxBlobGasPerBlock : 0n;
    const blobGasPerBlob = common.isActivatedEIP(4844) ? common.param("blobGasPerBlob") : 0n;
    const parentView = opts.strict ? await this.stateAt(parent) : undefined;
    const nonces = new Map<string, bigint>();
    for (const tx of txs) {
      if (gas + tx.gasLimit > gasLimit) {
        reject(tx, "exceeds block gas limit");
        continue;
      }
      if (baseFee !== undefined && maxFeeOf(tx) < baseFee) {
        reject(
          tx,
          `max fee per gas less than block base fee: address ${checksum(tx)}, maxFeePerGas: ${maxFeeOf(tx)}, baseFee: ${baseFee}`,
        );
        continue;
      }
      const blobs = "blobVersionedHashes" in tx ? BigInt((tx.blobVersionedHashes as unknown[]).length) : 0n;
      if (blobs > 0n && blobGas + blobs * blobGasPerBlob > blobLimit) {
        reject(tx, "block blob gas limit reached");
        continue;
      }
      if (parentView) {
        // geth's wording for nonce faults (core/state_transition.go).
        const from = tx.getSenderAddress();
        const key = from.toString();
        const expected = nonces.get(key) ?? (await parentView.getNonce(from.bytes));
        if (tx.nonce !== expected) {
          const kind = tx.nonce > expected ? "nonce too high" : "nonce too low";
          reject(tx, `${kind}: address ${checksum(tx)}, tx: ${tx.nonce} state: ${expected}`);
          continue;
        }
        nonces.set(key, expected + 1n);
      }
      gas += tx.gasLimit;
      blobGas += blobs * blobGasPerBlob;
      chosen.push(tx);
    }
    if (common.isActivatedEIP(4844)) headerData.blobGasUsed = blobGas;

    // Execute all chosen transactions in one runBlock (generate mode fills in roots, gas and bloom). If one fails
    // against the state (a pool race), drop the failing one and retry: the pool normally prevents this.
    let attempt = chosen;
    const onHead = parent === head;
    for (;;) {
      const header = createBlockHeader(headerData, { common, skipConsensusFormatValidation: true });
      const template = new Block(header, attempt, [], withdrawals, { common });
      this.execTip = parent;
      try {
        const root = await this.runBlockStartHook(template, onHead ? undefined : parent.header.stateRoot);
        let final: Block;
        let stored: StoredReceipt[];
        let requests: CLRequest<CLRequestType>[] | undefined;
        const fast = this.options.fastBuild ? await executeForBuild(this.vm, template, root) : undefined;
        if (fast) {
          stored = this.storedReceipts(attempt, fast);
          requests = fast.requests;
          const header = createBlockHeader(
            {
              ...headerData,
              stateRoot: fast.stateRoot,
              receiptTrie: fast.receiptsRoot,
              transactionsTrie: fast.transactionsRoot,
              logsBloom: fast.logsBloom,
              gasUsed: fast.gasUsed,
              requestsHash: fast.requestsHash,
            },
            { common },
          );
          final = new Block(header, attempt, [], withdrawals, { common });
        } else {
          const { result, generated } = await this.runGenerate(template, root);
          stored = this.storedReceipts(attempt, result);
          requests = result.requests;
          // Keep the executed (sender-cached) transaction objects in the block.
          final = new Block(generated.header, attempt, [], withdrawals, { common });
        }
        let receipts: ReceiptInfo[];
        if (commit) receipts = await this.commitBlock(final, stored, parent);
        else {
          if (opts.keep && onHead) this.kept = { hash: bytesToHex(final.hash()), block: final, receipts: stored, parent };
          else await this.resetExecutionState();
          receipts = expandReceipts(final, stored);
        }
        this.metrics?.blockSeconds.observe((performance.now() - started) / 1000);
        return { block: final, receipts, rejected, requests: requests ?? [] };
      } catch (err) {
        await this.resetExecutionState();
        if (opts.strict) {
          if (err instanceof Error) throw new ExecutionError(ExecutionErrorCode.FAILED, cleanMessage(err.message));
          throw err;
        }
        const bad = failingTxIndex(err, attempt);
        if (bad !== undefined) {
          rejected.push({ tx: attempt[bad], error: cleanMessage((err as Error).message) });
          attempt = attempt.filter((_, i) => i !== bad);
        } else if (attempt.length > 1) {
          // Not attributable to one transaction: halve the block (the rest stays in the pool) until it builds
          // or a single culprit remains, so one bad transaction can never stall block production.
          attempt = attempt.slice(0, Math.ceil(attempt.length / 2));
        } else if (attempt.length === 1) {
          rejected.push({ tx: attempt[0], error: cleanMessage((err as Error).message) });
          attempt = [];
        } else {
          throw err;
        }
      }
    }
  }

  /**
   * The Common of blocks built at (`number`, `timestamp`): one shared per fork. A fresh copy per block, and the
   * copy each header constructor makes of it, rebuilt the parameter cache twice or thrice per block. Built blocks
   * never change their Common's fork (as with `BlockDecoder`'s).
   */
  private buildCommon(number: bigint, timestamp: bigint): Common {
    const fork = this.common.getHardforkBy({ blockNumber: number, timestamp });
    let common = this.buildCommons.get(fork);
    if (!common) {
      const base = this.common.copy();
      base.setHardfork(fork);
      common = createSharedCommon(base);
      this.buildCommons.set(fork, common);
    }
    return common;
  }

  /**
   * Installs (or removes) a hook run at the start of every block, built or imported, before its transactions, on
   * the parent's post-state (system calls such as staking rewards). Its state changes become part of the block's
   * execution; a throw fails the block. Without a hook nothing changes.
   */
  setBlockStartHook(hook: BlockStartHook | undefined): void {
    this.blockStartHook = hook;
  }

  /** Runs the block-start hook if set; returns the `root` runBlock should still switch to (undefined after a hook). */
  private async runBlockStartHook(block: Block, root: Uint8Array | undefined): Promise<Uint8Array | undefined> {
    const hook = this.blockStartHook;
    if (!hook) return root;
    if (root !== undefined) await this.stateManager.setStateRoot(root, true);
    this.vm.common.setHardforkBy({ blockNumber: block.header.number, timestamp: block.header.timestamp });
    await hook({ header: block.header, vm: this.vm });
    // The hook wrote outside runBlock's checkpoint; the state manager flushes a checkpoint level's writes only
    // at that level, so write them into the trie now or the block's state root would miss them.
    await this.stateManager.getStateRoot();
    return undefined;
  }

  /**
   * runBlock in generate mode (fills in state root, receipt and tx tries, bloom, gas, requests hash). The VM
   * rebuilds the block from scratch there, cloning the Common once per transaction; clones rebuild parameter
   * caches, so for the duration all clones share one snapshot of the VM's Common.
   */
  private async runGenerate(
    template: Block,
    root: Uint8Array | undefined,
  ): Promise<{ result: RunBlockResult; generated: Block }> {
    const vmCommon = this.vm.common as Common & { copy: () => Common };
    let snapshot: Common | undefined;
    vmCommon.copy = () => {
      snapshot ??= createSharedCommon(vmCommon);
      return snapshot;
    };
    let generated: Block | undefined;
    const onAfter = (ev: AfterBlockEvent) => {
      generated = ev.block;
    };
    this.vm.events.on("afterBlock", onAfter);
    try {
      const result = await runBlock(this.vm, {
        block: template,
        root,
        generate: true,
        skipBlockValidation: true,
        skipHeaderValidation: true,
        skipHardForkValidation: true,
        clearCache: root !== undefined,
      });
      if (!generated) throw new Error("runBlock did not report the generated block");
      return { result, generated };
    } finally {
      this.vm.events.off("afterBlock", onAfter);
      delete (vmCommon as { copy?: unknown }).copy;
      if (snapshot) releaseSharedCommon(snapshot);
    }
  }

  private async importBlockLocked(block: Block): Promise<void> {
    const started = performance.now();
    const hash = block.hash();
    const kept = this.kept;
    if (kept !== undefined && kept.hash === bytesToHex(hash) && equalBytes(kept.parent.hash(), this.headBlock.hash())) {
      // Executed by this node from the same parent state when it built or validated the block: the hash pins every
      // header field (state root included) and every transaction, so running it again would give the same result.
      this.kept = undefined;
      await this.commitBlock(kept.block, kept.receipts, kept.parent);
      this.metrics?.blocksKeptImported.inc();
      this.metrics?.blockSeconds.observe((performance.now() - started) / 1000);
      return;
    }
    await this.dropKept();
    if (await this.store.hasBlock(hash)) return;
    const parent = await this.store.getBlock(block.header.parentHash);
    if (!parent) {
      throw new ChainError(ChainErrorCode.UNKNOWN_PARENT, `unknown parent ${bytesToHex(block.header.parentHash)}`, {
        number: block.header.number.toString(),
      });
    }
    try {
      validateHeaderAgainstParent(block.header, parent.header);
      if (block.uncleHeaders.length > 0) {
        if (block.common.consensusType() === "pos") throw new Error("uncles not allowed after the merge");
        for (const uh of block.uncleHeaders) {
          if (uh.number >= block.header.number || uh.number + 7n < block.header.number) {
            throw new Error("uncle has an invalid height");
          }
        }
      }
      await this.validateBody(block);
      block.validateBlobTransactions(parent.header);
    } catch (err) {
      this.metrics?.blocksRejected.inc();
      throw invalid(block, err);
    }
    this.execTip = parent;
    let result: RunBlockResult;
    try {
      const root = await this.runBlockStartHook(
        block,
        equalBytes(parent.header.stateRoot, await this.currentRoot()) ? undefined : parent.header.stateRoot,
      );
      const fast = this.options.fastBuild
        ? await executeForBuild(this.vm, block, root, {
            validate: (exec) => checkImportedExecution(block, exec),
            skipHardForkValidation: false,
          })
        : undefined;
      result = fast
        ? { ...fast, receiptsRoot: fast.receiptsRoot, logsBloom: fast.logsBloom }
        : await runBlock(this.vm, {
            block,
            root,
            clearCache: root !== undefined,
            skipHeaderValidation: true,
            skipBlockValidation: true,
            setHardfork: true,
          });
    } catch (err) {
      this.metrics?.blocksRejected.inc();
      await this.resetExecutionState();
      throw invalid(block, err);
    }
    await this.commitBlock(block, this.storedReceipts(block.transactions, result), parent);
    this.metrics?.blockSeconds.observe((performance.now() - started) / 1000);
  }

  /**
   * Body rules (what `block.validateData` checks): every transaction valid, signed and able to pay the base fee,
   * blob gas consistent, then the transactions root (computed in one pass), uncle hash and withdrawals root.
   */
  private async validateBody(block: Block): Promise<void> {
    const keccak = block.common.customCrypto.keccak256;
    if (!this.options.fastBuild || !keccak) {
      await block.validateData(false, true);
      return;
    }
    await block.validateData(true, true); // transactions only
    for (const [i, tx] of block.transactions.entries()) {
      if (!tx.isSigned()) throw new Error(`invalid transactions: transaction at index ${i} is unsigned`);
    }
    const txRoot = orderedTrieRoot(
      block.transactions.map((tx) => tx.serialize()),
      keccak,
    );
    if (!equalBytes(txRoot, block.header.transactionsTrie)) throw new Error("invalid transaction trie");
    if (!block.uncleHashIsValid()) throw new Error("invalid uncle hash");
    if (block.common.isActivatedEIP(4895) && !(await block.withdrawalsTrieIsValid())) {
      throw new Error("invalid withdrawals trie");
    }
  }

  private async currentRoot(): Promise<Uint8Array> {
    return this.stateManager.getStateRoot();
  }

  /** Forgets a kept execution and points the state back at the head. */
  private async dropKept(): Promise<void> {
    if (this.kept === undefined) return;
    this.kept = undefined;
    await this.resetExecutionState();
  }

  /** After a failed execution: drop journal leftovers and point the state back at the head. */
  private async resetExecutionState(): Promise<void> {
    await this.stateManager.setStateRoot(this.headBlock.header.stateRoot, true);
    this.execTip = this.headBlock;
  }

  private storedReceipts(txs: TypedTransaction[], result: Pick<RunBlockResult, "receipts" | "results">): StoredReceipt[] {
    return result.receipts.map((r, i) => {
      const res = result.results[i];
      const status = "status" in r ? r.status : res.execResult.exceptionError ? 0 : 1;
      const out: StoredReceipt = {
        status,
        cumulativeGasUsed: r.cumulativeBlockGasUsed,
        gasUsed: res.totalGasSpent,
        logs: r.logs,
        logsBloom: r.bitvector,
        from: senderOf(txs[i]),
      };
      if (res.createdAddress) out.contractAddress = res.createdAddress.bytes;
      if ("stateRoot" in r) out.root = r.stateRoot;
      if ("blobGasUsed" in r) {
        out.blobGasUsed = r.blobGasUsed;
        out.blobGasPrice = r.blobGasPrice;
      }
      return out;
    });
  }

  /**
   * Stores the executed block and makes it the head, all in one atomic batch, then announces it. Returns the
   * announced receipts (the builder hands the same ones back).
   */
  private async commitBlock(block: Block, receipts: StoredReceipt[], parent: Block): Promise<ReceiptInfo[]> {
    const oldHead = this.headBlock;
    const ops = [...this.stateDb.takeWrites(), ...this.store.putBlockOps(block, receipts)];
    const removed: Block[] = [];
    if (equalBytes(parent.hash(), oldHead.hash())) {
      ops.push(...this.store.canonicalOps(block));
    } else {
      // Reorg: the new branch becomes canonical from the common ancestor up.
      const added: Block[] = [block];
      let b: Block = parent;
      while (!(await this.isCanonical(b))) {
        added.push(b);
        const p = await this.store.getBlock(b.header.parentHash);
        if (!p) throw new ChainError(ChainErrorCode.NOT_FOUND, "missing ancestor during reorg");
        b = p;
      }
      const ancestorNumber = b.header.number;
      for (let n = oldHead.header.number; n > ancestorNumber; n--) {
        const old = await this.getBlockByNumber(n);
        if (old) {
          removed.push(old);
          ops.push(...this.store.uncanonicalOps(old, n <= block.header.number));
        }
      }
      for (const a of added.reverse()) ops.push(...this.store.canonicalOps(a));
    }
    ops.push(...this.store.headOps(block.hash()));
    try {
      await this.store.db.batch(ops);
      this.stateDb.writesDone(true);
    } catch (err) {
      this.stateDb.writesDone(false);
      await this.resetExecutionState();
      throw err;
    }
    this.headBlock = block;
    this.execTip = block;
    this.common.setHardforkBy({ blockNumber: block.header.number, timestamp: block.header.timestamp });
    this.metrics?.headNumber.set(Number(block.header.number));
    this.metrics?.blocksImported.inc();
    this.metrics?.txsIncluded.inc(block.transactions.length);
    this.logger?.debug(
      { number: Number(block.header.number), txs: block.transactions.length, hash: bytesToHex(block.hash()) },
      "new head",
    );
    const infos = expandReceipts(block, receipts);
    this.emit("block", { block, receipts: infos, removed });
    return infos;
  }

  /** The block at height `n` on the branch ending in `tip` (for BLOCKHASH). */
  private async ancestorAt(tip: Block, n: bigint): Promise<Block> {
    let b = tip;
    while (b.header.number > n) {
      if (await this.isCanonical(b)) {
        const h = await this.store.getCanonicalHash(n);
        const found = h && (await this.store.getBlock(h));
        if (found) return found;
      }
      const p = await this.store.getBlock(b.header.parentHash);
      if (!p) throw new ChainError(ChainErrorCode.NOT_FOUND, `ancestor ${n} not found`);
      b = p;
    }
    if (b.header.number !== n) throw new ChainError(ChainErrorCode.NOT_FOUND, `ancestor ${n} not found`);
    return b;
  }

  private callEnv(block: Block) {
    return {
      nodes: this.stateDb,
      common: this.common,
      block,
      gasCap: this.options.rpcGasCap,
      blockHash: (n: bigint) => this.ancestorAt(block, n),
    };
  }
}

function checksum(tx: TypedTransaction): string {
  return toChecksumAddress(tx.getSenderAddress().toString());
}

function cleanMessage(msg: string): string {
  const i = msg.indexOf(" (");
  return i > 0 ? msg.slice(0, i) : msg;
}

function maxFeeOf(tx: TypedTransaction): bigint {
  return "maxFeePerGas" in tx ? (tx.maxFeePerGas as bigint) : (tx as { gasPrice: bigint }).gasPrice;
}

function invalid(block: Block, err: unknown): ChainError {
  return new ChainError(
    ChainErrorCode.INVALID_BLOCK,
    `invalid block ${block.header.number} (${bytesToHex(block.hash())}): ${(err as Error).message}`,
    { number: block.header.number.toString() },
    { cause: err },
  );
}

/** Which transaction made a generate-mode runBlock fail (runTx errors name the tx hash). */
function failingTxIndex(err: unknown, txs: TypedTransaction[]): number | undefined {
  const msg = String((err as Error)?.message ?? err);
  for (let i = 0; i < txs.length; i++) {
    if (msg.includes(bytesToHex(txs[i].hash()))) return i;
  }
  const m = /tx index (\d+)|transaction (\d+)/.exec(msg);
  if (m) return Number(m[1] ?? m[2]);
  return undefined;
}

export function effectiveGasPrice(tx: TypedTransaction, baseFee: bigint | undefined): bigint {
  if ("maxFeePerGas" in tx) {
    const fee = baseFee ?? 0n;
    const tip =
      (tx.maxPriorityFeePerGas as bigint) < (tx.maxFeePerGas as bigint) - fee
        ? (tx.maxPriorityFeePerGas as bigint)
        : (tx.maxFeePerGas as bigint) - fee;
    return fee + tip;
  }
  return (tx as { gasPrice: bigint }).gasPrice;
}

export function expandReceipts(block: Block, stored: StoredReceipt[]): ReceiptInfo[] {
  let logIndex = 0;
  return stored.map((r, i) => {
    const info = expandReceipt(block, r, i, logIndex);
    logIndex += r.logs.length;
    return info;
  });
}

/** One receipt of `block` (index `i`), its first log at block position `firstLogIndex`. */
export function expandReceipt(block: Block, r: StoredReceipt, i: number, firstLogIndex: number): ReceiptInfo {
  const blockHash = block.hash();
  const { number, timestamp, baseFeePerGas } = block.header;
  const tx = block.transactions[i];
  const txHash = tx.hash();
  let logIndex = firstLogIndex;
  const info: ReceiptInfo = {
    transactionHash: txHash,
    transactionIndex: i,
    blockHash,
    blockNumber: number,
    blockTimestamp: timestamp,
    from: r.from,
    to: tx.to?.bytes,
    type: tx.type,
    status: r.status,
    cumulativeGasUsed: r.cumulativeGasUsed,
    gasUsed: r.gasUsed,
    effectiveGasPrice: effectiveGasPrice(tx, baseFeePerGas),
    contractAddress: r.contractAddress,
    logs: r.logs.map(([address, topics, data]) => ({
      address,
      topics,
      data,
      blockNumber: number,
      blockHash,
      blockTimestamp: timestamp,
      transactionHash: txHash,
      transactionIndex: i,
      logIndex: logIndex++,
      removed: false,
    })),
    logsBloom: r.logsBloom,
  };
  if (r.root !== undefined) info.root = r.root;
  if (r.blobGasUsed !== undefined) {
    info.blobGasUsed = r.blobGasUsed;
    info.blobGasPrice = r.blobGasPrice;
  }
  return info;
}

export { Address };
