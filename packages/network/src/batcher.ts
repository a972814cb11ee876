/**
 * Collects items (transactions) and hands them over as one batch when `maxItems` are waiting or `maxDelayMs` after
 * the first one arrived, whichever comes first. Gossip costs per message dominate for small items (two local
 * libp2p nodes managed only ~750 awaited 200-byte publishes/s), so high-volume topics carry lists.
 */
export class GossipBatcher<T> {
  private items: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly flushFn: (items: T[]) => Promise<unknown> | undefined;
  readonly maxItems: number;
  readonly maxDelayMs: number;
  /** Failures of the flush callback (logged by the caller through `onError`). */
  private readonly onError: (err: unknown) => void;

  constructor(
    flush: (items: T[]) => Promise<unknown> | undefined,
    opts: { maxItems?: number; maxDelayMs?: number; onError?: (err: unknown) => void } = {},
  ) {
    this.flushFn = flush;
    this.maxItems = opts.maxItems ?? 256;
    this.maxDelayMs = opts.maxDelayMs ?? 20;
    this.onError = opts.onError ?? (() => {});
  }

  get pending(): number {
    return this.items.length;
  }

  add(item: T): void {
    this.items.push(item);
    if (this.items.length >= this.maxItems) {
      void this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.maxDelayMs);
    }
  }

  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.items.length === 0) return;
    const batch = this.items;
    this.items = [];
    try {
      await this.flushFn(batch);
    } catch (err) {
      this.onError(err);
    }
  }

  /** Flushes what is pending and stops the timer. */
  close(): Promise<void> {
    return this.flush();
  }
}
