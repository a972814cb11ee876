import { Worker } from "node:worker_threads";
import { type Logger, RpcErrorCode } from "@zgnode/utils";
import type { Connections, WsEntry } from "./connections.ts";
import type { RpcDispatcher } from "./dispatcher.ts";
import type { FrontOptions, LogLevel, RejectReason } from "./front.ts";
import type { RpcMetrics } from "./metrics.ts";
import { errorText } from "./text.ts";

/*
 * The bridge between transport workers (worker.ts) and the dispatcher on the main thread. Hot messages are strings,
 * which postMessage copies faster than objects it must clone (measured ~2.4 us vs ~4 us per round trip):
 *   worker -> main  `h<id> <admin 0|1> <remoteAddress>\n<body>`   HTTP POST body
 *                   `m<conn>\n<text>`                             WebSocket message
 *   main -> worker  `r<id>\n<answer>` or `r<id>` (nothing to send) HTTP answer
 *                   `w<conn>\n<answer>`                           WebSocket answer
 *                   `n<conn>\n<notification>`                     WebSocket notification (eth_subscribe)
 * Rare ones are objects: WorkerControl and MainControl below. The worker queues its messages in an Outbox (one array
 * per event-loop turn); the main thread posts each message as it is ready (see outbox.ts for why).
 */

export type WorkerControl =
  | { t: "listening"; port: number }
  | { t: "listenFailed"; message: string; code: string | undefined }
  | { t: "open"; conn: number; remoteAddress: string | undefined; admin: boolean }
  | { t: "close"; conn: number }
  | { t: "health" | "metrics"; id: number }
  | { t: "reject"; reason: RejectReason }
  | { t: "log"; level: LogLevel; data: Record<string, unknown>; msg: string };

export type MainControl = { t: "ans"; id: number; ok: boolean; text: string } | { t: "refuse"; conn: number } | { t: "shutdown" };

const HTTP = 104; // "h"
const ONE = 49; // "1"
const WORKER_URL = new URL("./worker.ts", import.meta.url);
/** How long close() lets a worker finish closing its sockets before terminating it. */
const CLOSE_GRACE_MS = 5_000;
const RESPAWN_DELAY_MS = 1_000;

interface Slot {
  index: number;
  worker: Worker;
  /** Open WebSocket connections of this worker, by the worker's connection number. */
  conns: Map<number, WsEntry>;
  listening: boolean;
}

export interface WorkerPoolOptions {
  count: number;
  front: FrontOptions;
  dispatcher: RpcDispatcher;
  connections: Connections;
  logger: Logger;
  metrics: RpcMetrics;
  health(): Promise<string>;
  metricsText(): Promise<string>;
}

export class ListenError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code: string | undefined) {
    super(message);
    this.code = code;
  }
}

/** Transport workers serving one port; answers come from the dispatcher on this (the main) thread. */
export class WorkerPool {
  private readonly opts: WorkerPoolOptions;
  private readonly slots: (Slot | undefined)[] = [];
  private port = 0;
  private reusePort = false;
  private closing = false;
  private retry: NodeJS.Timeout | undefined;
  /** Workers spawned but not yet listening (a restart can be in flight when close() is called). */
  private readonly starting = new Set<Worker>();

  constructor(opts: WorkerPoolOptions) {
    this.opts = opts;
  }

  get workers(): Worker[] {
    const out: Worker[] = [];
    for (const s of this.slots) if (s !== undefined) out.push(s.worker);
    return out;
  }

  /** Starts the workers; the first binds the requested port (0 = any), the others share it with SO_REUSEPORT. */
  async listen(): Promise<number> {
    const count = this.opts.count;
    this.reusePort = count > 1;
    try {
      this.port = await this.spawn(0, this.opts.front.port);
      for (let i = 1; i < count; i++) await this.spawn(i, this.port);
    } catch (err) {
      await this.close();
      throw err;
    }
    return this.port;
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.retry);
    for (const w of this.starting) void w.terminate();
    await Promise.all(
      this.slots.map(async (slot) => {
        if (slot === undefined) return;
        const exited = new Promise<void>((r) => slot.worker.once("exit", () => r()));
        slot.worker.postMessage({ t: "shutdown" } satisfies MainControl);
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<"late">((r) => {
          timer = setTimeout(() => r("late"), CLOSE_GRACE_MS);
        });
        if ((await Promise.race([exited, late])) === "late") await slot.worker.terminate();
        clearTimeout(timer);
        await exited;
      }),
    );
  }

  private spawn(index: number, port: number): Promise<number> {
    const worker = new Worker(WORKER_URL, {
      workerData: { ...this.opts.front, port, reusePort: this.reusePort } satisfies FrontOptions,
      name: `rpc-${index}`,
    });
    const slot: Slot = { index, worker, conns: new Map(), listening: false };
    this.starting.add(worker);
    return new Promise((resolve, reject) => {
      worker.on("message", (batch: (string | WorkerControl)[]) => {
        for (const m of batch) {
          if (slot.listening) {
            this.onMessage(slot, m);
            continue;
          }
          if (typeof m === "string") continue;
          this.starting.delete(worker);
          if (m.t === "listening") {
            slot.listening = true;
            this.slots[index] = slot;
            resolve(m.port);
          } else if (m.t === "listenFailed") {
            reject(new ListenError(m.message, m.code));
            void worker.terminate();
          }
        }
      });
      worker.on("error", (err) => {
        this.opts.logger.error({ err, worker: index }, "rpc worker failed");
        if (!slot.listening) reject(err);
      });
      worker.on("exit", (code) => {
        this.starting.delete(worker);
        if (!slot.listening) reject(new ListenError(`rpc worker exited with code ${code} before listening`, undefined));
        this.onExit(slot, code);
      });
    });
  }

  private onExit(slot: Slot, code: number): void {
    // The sockets died with the thread: their connections are closed for the handlers too.
    for (const entry of slot.conns.values()) this.opts.connections.close(entry);
    slot.conns.clear();
    if (this.slots[slot.index] !== slot) return;
    this.slots[slot.index] = undefined;
    if (this.closing) return;
    this.opts.logger.error({ code, worker: slot.index }, "rpc worker exited unexpectedly, starting a new one");
    this.respawn(slot.index);
  }

  private respawn(index: number): void {
    this.spawn(index, this.port).catch((err: unknown) => {
      if (this.closing) return;
      this.opts.logger.error({ err, worker: index }, "rpc worker restart failed, retrying");
      this.retry = setTimeout(() => this.respawn(index), RESPAWN_DELAY_MS);
    });
  }

  private onMessage(slot: Slot, m: string | WorkerControl): void {
    const { dispatcher, logger } = this.opts;
    const worker = slot.worker;
    if (typeof m === "string") {
      const nl = m.indexOf("\n");
      const text = m.slice(nl + 1);
      if (m.charCodeAt(0) === HTTP) {
        const sp = m.indexOf(" ");
        // The id goes back as it came: no number round trip.
        const id = m.slice(1, sp);
        const out = dispatcher.handleText(text, {
          transport: "http",
          remoteAddress: nl > sp + 3 ? m.slice(sp + 3, nl) : undefined,
          connection: undefined,
          admin: m.charCodeAt(sp + 1) === ONE,
        });
        if (out instanceof Promise)
          out.then(
            (o) => worker.postMessage(o === undefined ? `r${id}` : `r${id}\n${o}`),
            (err: unknown) => {
              logger.error({ err }, "rpc dispatch failed");
              worker.postMessage(`r${id}\n${errorText(null, RpcErrorCode.INTERNAL_ERROR, "internal error")}`);
            },
          );
        else worker.postMessage(out === undefined ? `r${id}` : `r${id}\n${out}`);
        return;
      }
      const conn = m.slice(1, nl);
      const entry = slot.conns.get(Number(conn));
      if (entry === undefined) return; // refused or already closed
      const out = dispatcher.handleText(text, entry.ctx);
      if (out instanceof Promise)
        out.then(
          (o) => {
            if (o !== undefined) worker.postMessage(`w${conn}\n${o}`);
          },
          (err: unknown) => logger.error({ err }, "rpc ws dispatch failed"),
        );
      else if (out !== undefined) worker.postMessage(`w${conn}\n${out}`);
      return;
    }
    switch (m.t) {
      case "open": {
        const conn = m.conn;
        const entry = this.opts.connections.open(m.remoteAddress, m.admin, (text) => worker.postMessage(`n${conn}\n${text}`));
        if (entry === undefined) worker.postMessage({ t: "refuse", conn } satisfies MainControl);
        else slot.conns.set(conn, entry);
        return;
      }
      case "close": {
        const entry = slot.conns.get(m.conn);
        if (entry === undefined) return;
        slot.conns.delete(m.conn);
        this.opts.connections.close(entry);
        return;
      }
      case "health":
      case "metrics": {
        const id = m.id;
        (m.t === "health" ? this.opts.health() : this.opts.metricsText()).then(
          (text) => worker.postMessage({ t: "ans", id, ok: true, text } satisfies MainControl),
          (err: unknown) => {
            logger.error({ err }, `rpc /${m.t} failed`);
            worker.postMessage({ t: "ans", id, ok: false, text: String(err) } satisfies MainControl);
          },
        );
        return;
      }
      case "reject":
        this.opts.metrics.rejected.labels(m.reason).inc();
        return;
      case "log":
        logger[m.level](m.data, m.msg);
        return;
    }
  }
}
