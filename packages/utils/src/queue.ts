/**
 * A bounded FIFO queue that drops the oldest item when full and counts drops, so a flood of
 * input cannot grow memory without bound or starve other work. `onDrop` lets a metric observe drops.
 */
export class BoundedQueue<T> {
  private items: T[] = [];
  private head = 0;
  dropped = 0;

  readonly capacity: number;
  private readonly onDrop: ((item: T) => void) | undefined;

  constructor(capacity: number, onDrop?: (item: T) => void) {
    this.capacity = capacity;
    this.onDrop = onDrop;
    if (capacity < 1) throw new RangeError("capacity must be >= 1");
  }

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): boolean {
    let accepted = true;
    if (this.size >= this.capacity) {
      const old = this.shift() as T;
      this.dropped++;
      this.onDrop?.(old);
      accepted = false;
    }
    this.items.push(item);
    return accepted;
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined as T;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  drain(max = Number.POSITIVE_INFINITY): T[] {
    const out: T[] = [];
    while (out.length < max && this.size > 0) out.push(this.shift() as T);
    return out;
  }
}

/** A promise with its resolvers, for code that must run before Node 22's Promise.withResolvers is assumed. */
export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(t);
      reject(signal.reason);
    });
  });
}
