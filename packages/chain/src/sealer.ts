import type { Logger } from "@zgnode/utils";
import { withDefaults } from "@zgnode/utils";
import type { BuildBlockOptions, BuildBlockResult, Chain } from "./chain.ts";
import { defaultSealerOptions, type SealerOptions } from "./options.ts";
import type { TxPool } from "./txPool.ts";

/**
 * Whoever decides when a block is made. The chain only executes; a producer picks the moment and the
 * transactions. `LocalSealer` is the dev producer; the BFT engine will implement the same interface.
 */
export interface BlockProducer {
  start(): void;
  stop(): Promise<void>;
  /** Builds a block now from the pool's executable transactions (testing_buildBlockV1, admin calls). */
  sealNow(opts?: BuildBlockOptions): Promise<BuildBlockResult>;
}

/**
 * The dev sealer. `instant`: seals as soon as transactions are executable, putting everything waiting into one
 * block (a burst arriving while a block executes lands in the next one). `interval`: seals every `blockTimeMs`,
 * empty blocks included. `manual`: only `sealNow()`.
 */
export class LocalSealer implements BlockProducer {
  readonly options: SealerOptions;
  private readonly chain: Chain;
  private readonly pool: TxPool;
  private readonly logger: Logger | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private sealing: Promise<BuildBlockResult> | undefined;
  /** An instant block is due (timer running) or being sealed. */
  private scheduled = false;
  /** A tx became pending while `scheduled`: it is owed a block once the current one is done. */
  private arrivedWhileScheduled = false;
  private readonly onPending = () => this.schedule();

  constructor(chain: Chain, pool: TxPool, options: Partial<SealerOptions> = {}, logger?: Logger) {
    this.chain = chain;
    this.pool = pool;
    this.options = withDefaults(defaultSealerOptions, options);
    this.logger = logger;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.options.mode === "instant") {
      this.pool.on("pending", this.onPending);
      if (this.pool.pendingTxs().length > 0) this.schedule();
    } else if (this.options.mode === "interval") {
      this.timer = setInterval(() => {
        if (!this.sealing) this.sealNow().catch((err) => this.logger?.error({ err }, "sealing failed"));
      }, this.options.blockTimeMs);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    this.pool.off("pending", this.onPending);
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.sealing?.catch(() => {});
  }

  /** Seals one block now (waits for a block in progress first). Empty when nothing is executable. */
  async sealNow(opts: BuildBlockOptions = {}): Promise<BuildBlockResult> {
    while (this.sealing) await this.sealing.catch(() => {});
    const run = this.seal(opts);
    this.sealing = run;
    try {
      return await run;
    } finally {
      this.sealing = undefined;
    }
  }

  private async seal(opts: BuildBlockOptions): Promise<BuildBlockResult> {
    await this.pool.settled();
    const txs = this.pool.selectForBlock(this.options.maxTxsPerBlock);
    const result = await this.chain.buildBlock(txs, opts);
    for (const r of result.rejected) {
      // Too big for this block is no fault of the tx; anything else cannot execute against the head.
      if (!/block (blob )?gas limit/.test(r.error)) this.pool.remove(r.tx.hash());
    }
    await this.pool.settled();
    return result;
  }

  private schedule(delayMs: number = this.options.instantDelayMs): void {
    if (!this.running) return;
    if (this.scheduled) {
      // A block is due or being sealed: what arrives now is picked up when it is done.
      this.arrivedWhileScheduled = true;
      return;
    }
    this.scheduled = true;
    this.arrivedWhileScheduled = false;
    const fire = async () => {
      // Let the current burst of submissions land first.
      await new Promise((r) => setImmediate(r));
      let next: number | undefined;
      try {
        if (!this.running || this.pool.selectForBlock(1).length === 0) return;
        const res = await this.sealNow();
        next = instantSealDelay(this.options, {
          sealedTxs: res.block.transactions.length,
          pendingAfter: this.pool.selectForBlock(1).length > 0,
          arrivedDuring: this.arrivedWhileScheduled,
        });
      } catch (err) {
        this.logger?.error({ err }, "sealing failed");
        next = this.arrivedWhileScheduled ? this.options.instantDelayMs : undefined;
      } finally {
        this.scheduled = false;
      }
      if (next !== undefined) this.schedule(next);
    };
    if (delayMs > 0) setTimeout(fire, delayMs);
    else void fire();
  }
}

/**
 * Instant sealing's wait before the next block once one is sealed, or undefined when none is due. Txs still
 * executable after a non-empty block mean a stream: they wait `instantStreamDelayMs`, so a steady stream fills
 * blocks instead of sealing a tiny block per handful of txs (per-block work dominated that). After an empty block,
 * only txs that arrived meanwhile are owed a block (after `instantDelayMs`, as if the pool had been idle); what was
 * already there cannot execute now, and retrying it would loop.
 */
export function instantSealDelay(
  options: Pick<SealerOptions, "instantDelayMs" | "instantStreamDelayMs">,
  after: { sealedTxs: number; pendingAfter: boolean; arrivedDuring: boolean },
): number | undefined {
  if (!after.pendingAfter) return undefined;
  if (after.sealedTxs > 0) return options.instantStreamDelayMs;
  return after.arrivedDuring ? options.instantDelayMs : undefined;
}
