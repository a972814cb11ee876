import { EventEmitter } from "node:events";
import type { Common } from "@ethereumjs/common";
import {
  Capability,
  createBlob4844TxFromSerializedNetworkWrapper,
  createMinimal4844TxFromNetworkWrapper,
  type TypedTransaction,
} from "@ethereumjs/tx";
import { bytesToHex, withDefaults } from "@zgnode/utils";
import type { Chain, NewBlockEvent } from "./chain.ts";
import { TxPoolError, TxPoolErrorCode } from "./errors.ts";
import type { ChainMetrics } from "./metrics.ts";
import { defaultTxPoolOptions, type TxPoolOptions } from "./options.ts";
import { decodeRawTx, type RawTx, slowRawTx } from "./rawTx.ts";
import { createSharedCommon } from "./sharedCommon.ts";

/** A transaction in the pool with facts computed once at admission. */
export interface PoolTx {
  tx: TypedTransaction;
  hash: Uint8Array;
  hashHex: string;
  from: Uint8Array;
  /** Lower-case hex sender. */
  fromHex: string;
  nonce: bigint;
  /** Fee cap (gasPrice for legacy txs). */
  maxFee: bigint;
  /** Tip cap (gasPrice for legacy txs). */
  maxTip: bigint;
  addedAt: number;
}

interface SenderState {
  /** Nonce and balance at the current head. */
  nonce: bigint;
  balance: bigint;
  txs: Map<bigint, PoolTx>;
  /** First nonce at or above `nonce` with no transaction: [nonce, next) is the executable run. */
  next: bigint;
}

/** Moves `next` past the contiguous run (kept incrementally: admission stays O(1) per transaction). */
function advance(s: SenderState): void {
  if (s.next < s.nonce) s.next = s.nonce;
  while (s.txs.has(s.next)) s.next++;
}

export interface TxPoolEvents {
  /** Every admitted transaction (newPendingTransactions). */
  tx: [PoolTx];
  /** A transaction became executable (or replaced an executable one). */
  pending: [PoolTx];
  /** A transaction entered the queue (future nonce). */
  queued: [PoolTx];
}

export interface TxPoolStatus {
  pending: number;
  queued: number;
}

const MAX_U256 = (1n << 256n) - 1n;
const SUPPORTED_TYPES = new Set([0, 1, 2, 3, 4]);

/**
 * Pending transactions waiting for a block, checked like geth's legacypool: decoding, signature, chain id, nonce,
 * balance, intrinsic gas and fee rules, with geth's error wording. Executable transactions (contiguous nonces from
 * the account's state nonce) are "pending", later ones "queued" until the gap closes. A transaction at an
 * existing nonce replaces the old one only with a `priceBump`% higher fee cap and tip.
 */
export class TxPool extends EventEmitter<TxPoolEvents> {
  readonly options: TxPoolOptions;
  private readonly chain: Chain;
  private readonly metrics: ChainMetrics | undefined;
  private readonly senders = new Map<string, SenderState>();
  private readonly byHash = new Map<string, PoolTx>();
  private readonly onBlock: (ev: NewBlockEvent) => void;
  private headUpdate: Promise<void> = Promise.resolve();
  /** Blocks announced and not yet applied: admission waits for `headUpdate` only then (an await per tx otherwise). */
  private updatesPending = 0;
  private sharedCommon: Common | undefined;

  constructor(chain: Chain, options: Partial<TxPoolOptions> = {}, metrics?: ChainMetrics) {
    super();
    this.chain = chain;
    this.options = withDefaults(defaultTxPoolOptions, options);
    this.metrics = metrics;
    this.onBlock = (ev) => {
      this.updatesPending++;
      this.headUpdate = this.headUpdate
        .then(() => this.applyBlock(ev))
        .catch(() => {})
        .then(() => {
          this.updatesPending--;
        });
    };
    chain.on("block", this.onBlock);
  }

  /** Detaches from the chain. */
  close(): void {
    this.chain.off("block", this.onBlock);
  }

  get size(): number {
    return this.byHash.size;
  }

  status(): TxPoolStatus {
    let pending = 0;
    for (const s of this.senders.values()) pending += this.executableRun(s).length;
    return { pending, queued: this.byHash.size - pending };
  }

  /** Decodes a raw (RLP / EIP-2718) transaction and adds it. Resolves with its hash once admitted. */
  async addRaw(raw: Uint8Array): Promise<Uint8Array> {
    if (raw.length > this.options.maxTxBytes) {
      throw this.reject(TxPoolErrorCode.OVERSIZED_DATA, `${raw.length} bytes, limit ${this.options.maxTxBytes}`);
    }
    let decoded: RawTx;
    try {
      decoded = this.decode(raw);
    } catch (err) {
      const msg = (err as Error).message;
      if (/chain ?id/i.test(msg)) throw this.reject(TxPoolErrorCode.INVALID_CHAIN_ID, cleanMsg(msg));
      if (/maxFeePerGas cannot be less than maxPriorityFeePerGas/.test(msg)) {
        throw this.reject(TxPoolErrorCode.TIP_ABOVE_FEE_CAP);
      }
      if (/Invalid Signature|s-values? greater|invalid sig/i.test(msg)) throw this.reject(TxPoolErrorCode.INVALID_SENDER);
      throw this.reject(TxPoolErrorCode.INVALID_TX, cleanMsg(msg));
    }
    return this.admit(decoded);
  }

  /** Adds a decoded, signed transaction. */
  add(tx: TypedTransaction): Promise<Uint8Array> {
    return this.admit({ tx, hash: undefined, sender: () => tx.getSenderAddress().bytes });
  }

  /** geth's admission checks, in geth's order; the hash and sender come precomputed from raw bytes when known. */
  private async admit(decoded: RawTx): Promise<Uint8Array> {
    const tx = decoded.tx;
    if (this.updatesPending > 0) await this.headUpdate;
    const hash = decoded.hash ?? tx.hash();
    const hashHex = bytesToHex(hash);
    if (this.byHash.has(hashHex)) throw this.reject(TxPoolErrorCode.ALREADY_KNOWN);
    if (!SUPPORTED_TYPES.has(tx.type)) throw this.reject(TxPoolErrorCode.TX_TYPE_NOT_SUPPORTED);
    if (tx.supports(Capability.EIP155ReplayProtection) || tx.type > 0) {
      if (tx.common.chainId() !== this.chain.chainId) throw this.reject(TxPoolErrorCode.INVALID_CHAIN_ID);
    }
    let from: Uint8Array;
    try {
      from = decoded.sender();
    } catch {
      throw this.reject(TxPoolErrorCode.INVALID_SENDER);
    }
    const maxFee = "maxFeePerGas" in tx ? (tx.maxFeePerGas as bigint) : (tx as { gasPrice: bigint }).gasPrice;
    const maxTip = "maxPriorityFeePerGas" in tx ? (tx.maxPriorityFeePerGas as bigint) : (tx as { gasPrice: bigint }).gasPrice;
    if (maxFee > MAX_U256 || maxTip > MAX_U256) throw this.reject(TxPoolErrorCode.FEE_CAP_VERY_HIGH);
    if (maxTip > maxFee)
      throw this.reject(TxPoolErrorCode.TIP_ABOVE_FEE_CAP, `maxPriorityFeePerGas: ${maxTip}, maxFeePerGas: ${maxFee}`);
    const head = this.chain.head.header;
    if (tx.gasLimit > head.gasLimit) throw this.reject(TxPoolErrorCode.GAS_LIMIT);
    const intrinsic = tx.getIntrinsicGas();
    if (tx.gasLimit < intrinsic)
      throw this.reject(TxPoolErrorCode.INTRINSIC_GAS_TOO_LOW, `have ${tx.gasLimit}, want ${intrinsic}`);
    if (maxTip < this.options.priceLimit)
      throw this.reject(TxPoolErrorCode.UNDERPRICED, `tip ${maxTip} below minimum ${this.options.priceLimit}`);
    const baseFee = this.chain.nextBaseFee();
    if (maxFee < baseFee) {
      throw this.reject(TxPoolErrorCode.FEE_CAP_TOO_LOW, `maxFeePerGas: ${maxFee}, baseFee: ${baseFee}`);
    }

    const fromHex = bytesToHex(from);
    const sender = this.senders.get(fromHex) ?? (await this.senderState(fromHex, from));
    const nonce = tx.nonce;
    if (nonce < sender.nonce) throw this.reject(TxPoolErrorCode.NONCE_TOO_LOW, `next nonce ${sender.nonce}, tx nonce ${nonce}`);
    if (this.options.maxNonceGap > 0 && nonce > sender.nonce + BigInt(this.options.maxNonceGap)) {
      throw this.reject(TxPoolErrorCode.NONCE_TOO_HIGH, `next nonce ${sender.nonce}, tx nonce ${nonce}`);
    }
    const blobFee =
      "blobVersionedHashes" in tx
        ? BigInt((tx.blobVersionedHashes as unknown[]).length) *
          131072n *
          ((tx as { maxFeePerBlobGas: bigint }).maxFeePerBlobGas ?? 0n)
        : 0n;
    const cost = tx.gasLimit * maxFee + tx.value + blobFee;
    if (sender.balance < cost) {
      throw this.reject(
        TxPoolErrorCode.INSUFFICIENT_FUNDS,
        `balance ${sender.balance}, tx cost ${cost}, overshot ${cost - sender.balance}`,
      );
    }
    const existing = sender.txs.get(nonce);
    if (existing) {
      const bump = BigInt(100 + this.options.priceBump);
      if (maxFee * 100n < existing.maxFee * bump || maxTip * 100n < existing.maxTip * bump) {
        throw this.reject(TxPoolErrorCode.REPLACEMENT_UNDERPRICED);
      }
    } else {
      if (sender.txs.size >= this.options.maxPerAccount) throw this.reject(TxPoolErrorCode.POOL_FULL);
      if (this.byHash.size >= this.options.maxSize && !this.evictOne(fromHex)) throw this.reject(TxPoolErrorCode.POOL_FULL);
      if (nonce > sender.nonce + BigInt(sender.txs.size) && this.queuedCount(sender) >= this.options.maxQueuedPerAccount) {
        throw this.reject(TxPoolErrorCode.POOL_FULL);
      }
    }
    const ptx: PoolTx = { tx, hash, hashHex, from, fromHex, nonce, maxFee, maxTip, addedAt: Date.now() };
    if (existing) this.byHash.delete(existing.hashHex);
    sender.txs.set(nonce, ptx);
    this.byHash.set(hashHex, ptx);
    const filledGap = nonce === sender.next;
    advance(sender);
    const executable = nonce < sender.next;
    this.emit("tx", ptx);
    if (executable) {
      this.emit("pending", ptx);
      // A filled gap may have made queued successors executable.
      if (filledGap) for (let n = nonce + 1n; n < sender.next; n++) this.emit("pending", sender.txs.get(n) as PoolTx);
    } else {
      this.emit("queued", ptx);
    }
    return hash;
  }

  /** A pool transaction by hash. */
  get(hash: Uint8Array | string): PoolTx | undefined {
    return this.byHash.get(typeof hash === "string" ? hash.toLowerCase() : bytesToHex(hash));
  }

  /** The nonce the account's next transaction should use ("pending" block tag). */
  async getPendingNonce(address: Uint8Array): Promise<bigint> {
    await this.headUpdate;
    const fromHex = bytesToHex(address).toLowerCase();
    const s = this.senders.get(fromHex);
    if (!s) return (await this.chain.stateAt()).getNonce(address);
    advance(s);
    return s.next;
  }

  /** Executable transactions per sender (nonce order) and queued ones, for txpool_content / txpool_inspect. */
  content(): { pending: Map<string, PoolTx[]>; queued: Map<string, PoolTx[]> } {
    const pending = new Map<string, PoolTx[]>();
    const queued = new Map<string, PoolTx[]>();
    for (const [addr, s] of this.senders) {
      const run = this.executableRun(s);
      const runSet = new Set(run);
      const rest = [...s.txs.values()].filter((t) => !runSet.has(t)).sort((a, b) => (a.nonce < b.nonce ? -1 : 1));
      if (run.length > 0) pending.set(addr, run);
      if (rest.length > 0) queued.set(addr, rest);
    }
    return { pending, queued };
  }

  /** All pending (executable) transactions, flat. */
  pendingTxs(): PoolTx[] {
    const out: PoolTx[] = [];
    for (const s of this.senders.values()) out.push(...this.executableRun(s));
    return out;
  }

  /**
   * Up to `max` executable transactions in block order: each sender's in nonce order, senders interleaved by
   * tip (higher first, then arrival).
   */
  selectForBlock(max: number, baseFee = this.chain.nextBaseFee()): TypedTransaction[] {
    const runs: PoolTx[][] = [];
    for (const s of this.senders.values()) {
      const run = this.executableRun(s).filter((t) => t.maxFee >= baseFee);
      if (run.length > 0) runs.push(run);
    }
    if (runs.length === 1) return runs[0].slice(0, max).map((t) => t.tx);
    const idx = new Array<number>(runs.length).fill(0);
    const out: TypedTransaction[] = [];
    // biome-ignore lint/complexity/useMathMinMax: bigints (Math.min takes numbers)
    const tipOf = (t: PoolTx) => (t.maxFee - baseFee < t.maxTip ? t.maxFee - baseFee : t.maxTip);
    while (out.length < max) {
      let best = -1;
      for (let i = 0; i < runs.length; i++) {
        const t = runs[i][idx[i]];
        if (!t) continue;
        if (best < 0) {
          best = i;
          continue;
        }
        const b = runs[best][idx[best]];
        const dt = tipOf(t) - tipOf(b);
        if (dt > 0n || (dt === 0n && t.addedAt < b.addedAt)) best = i;
      }
      if (best < 0) break;
      out.push(runs[best][idx[best]].tx);
      idx[best]++;
    }
    return out;
  }

  /** Removes a transaction (e.g. one the block builder found invalid). */
  remove(hash: Uint8Array | string): boolean {
    const p = this.get(hash);
    if (!p) return false;
    this.byHash.delete(p.hashHex);
    const s = this.senders.get(p.fromHex);
    if (s) {
      s.txs.delete(p.nonce);
      if (p.nonce < s.next) s.next = p.nonce;
      if (s.txs.size === 0) this.senders.delete(p.fromHex);
    }
    return true;
  }

  /** Waits until the pool has processed all announced blocks. */
  async settled(): Promise<void> {
    await this.headUpdate;
  }

  // ---------------------------------------------------------------------------------------------------------------

  /**
   * The Common decoded transactions share. Every transaction otherwise clones the Common it is given, and a clone
   * rebuilds the parameter caches: a measurable share of admission time. Renewed when the head's fork changes.
   */
  private decodeCommon(): Common {
    const head = this.chain.common;
    if (!this.sharedCommon || this.sharedCommon.hardfork() !== head.hardfork()) {
      this.sharedCommon = createSharedCommon(head);
    }
    return this.sharedCommon;
  }

  private decode(raw: Uint8Array): RawTx {
    const common = this.decodeCommon();
    if (raw[0] === 3) {
      try {
        // Network form (with blobs, commitments, proofs): verify the blobs, keep the minimal form for blocks.
        const wrapped = createBlob4844TxFromSerializedNetworkWrapper(raw, { common });
        return slowRawTx(createMinimal4844TxFromNetworkWrapper(wrapped, { common }));
      } catch {
        // fall through to the plain form
      }
    }
    return decodeRawTx(raw, common);
  }

  private async senderState(fromHex: string, from: Uint8Array): Promise<SenderState> {
    let s = this.senders.get(fromHex);
    if (!s) {
      const view = await this.chain.stateAt();
      const acct = await view.getAccount(from);
      s = this.senders.get(fromHex); // another add may have created it meanwhile
      if (!s) {
        s = { nonce: acct?.nonce ?? 0n, balance: acct?.balance ?? 0n, txs: new Map(), next: acct?.nonce ?? 0n };
        this.senders.set(fromHex, s);
      }
    }
    return s;
  }

  private executableRun(s: SenderState): PoolTx[] {
    advance(s);
    const out: PoolTx[] = [];
    for (let n = s.nonce; n < s.next; n++) out.push(s.txs.get(n) as PoolTx);
    return out;
  }

  private queuedCount(s: SenderState): number {
    advance(s);
    return s.txs.size - Number(s.next - s.nonce);
  }

  /** Frees one slot by dropping the newest queued transaction of another sender. */
  private evictOne(exceptSender: string): boolean {
    let victim: PoolTx | undefined;
    for (const [addr, s] of this.senders) {
      if (addr === exceptSender) continue;
      const run = new Set(this.executableRun(s));
      for (const t of s.txs.values()) if (!run.has(t) && (!victim || t.addedAt > victim.addedAt)) victim = t;
    }
    if (!victim) return false;
    return this.remove(victim.hash);
  }

  /** A new head: drop included and now-stale transactions, refresh the senders' nonce and balance. */
  private async applyBlock(ev: NewBlockEvent): Promise<void> {
    const touched = new Set<string>();
    for (const r of ev.receipts) {
      const fromHex = bytesToHex(r.from);
      touched.add(fromHex);
      const p = this.byHash.get(bytesToHex(r.transactionHash));
      if (p) this.remove(p.hash);
    }
    // Balances also change by receiving value; refresh every sender with transactions left (cheap: a few reads).
    for (const k of this.senders.keys()) touched.add(k);
    if (touched.size === 0) return;
    const view = await this.chain.stateAt(ev.block);
    for (const fromHex of touched) {
      const s = this.senders.get(fromHex);
      if (!s) continue;
      const acct = await view.getAccount(hexBytes(fromHex));
      s.nonce = acct?.nonce ?? 0n;
      s.balance = acct?.balance ?? 0n;
      for (const [n, t] of s.txs) {
        if (n < s.nonce) {
          s.txs.delete(n);
          this.byHash.delete(t.hashHex);
        }
      }
      s.next = s.nonce;
      advance(s);
      if (s.txs.size === 0) this.senders.delete(fromHex);
    }
    this.updateGauges();
  }

  private updateGauges(): void {
    if (!this.metrics) return;
    const st = this.status();
    this.metrics.poolPending.set(st.pending);
    this.metrics.poolQueued.set(st.queued);
  }

  private reject(code: TxPoolErrorCode, detail?: string): TxPoolError {
    this.metrics?.poolRejected.inc({ reason: code });
    return new TxPoolError(code, detail);
  }
}

function hexBytes(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex.slice(2), "hex"));
}

function cleanMsg(msg: string): string {
  const i = msg.indexOf(" (");
  return i > 0 ? msg.slice(0, i) : msg;
}
