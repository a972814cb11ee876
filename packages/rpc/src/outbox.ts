import type { MessagePort, Worker } from "node:worker_threads";

/**
 * Messages for the other thread, posted together as one array per event-loop turn, in the order queued. The
 * transport worker queues requests this way: the main thread then dispatches a burst per wake-up instead of paying
 * a wake-up and a message event per request. The main thread does not batch its answers: posting each at once lets
 * the worker write it while the main thread computes the next (measured: 12.6-13.1k vs 9.8k-8.1k eth_call/s with
 * the two choices swapped, 12.3-12.6k batching neither).
 */
export class Outbox<T> {
  private items: T[] = [];
  private scheduled = false;
  private readonly port: MessagePort | Worker;

  constructor(port: MessagePort | Worker) {
    this.port = port;
  }

  push(item: T): void {
    this.items.push(item);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const items = this.items;
    this.items = [];
    this.port.postMessage(items);
  };
}
