import type { Logger, RpcConnection, RpcContext } from "@zgnode/utils";
import type { RpcMetrics } from "./metrics.ts";

/** A WebSocket connection as the dispatcher's side sees it: the request context and the onClose callbacks. */
export interface WsEntry {
  ctx: RpcContext;
  closers: (() => void)[];
}

/**
 * The main-thread half of WebSocket connections, whichever thread holds the socket: it gives handlers the
 * `RpcConnection` contract (notify, onClose), counts connections against the limit and runs onClose callbacks.
 */
export class Connections {
  private count = 0;
  private seq = 0;
  private readonly limit: number;
  private readonly metrics: RpcMetrics;
  private readonly logger: Logger;

  constructor(limit: number, metrics: RpcMetrics, logger: Logger) {
    this.limit = limit;
    this.metrics = metrics;
    this.logger = logger;
  }

  get size(): number {
    return this.count;
  }

  /** Registers a connection; `push` delivers notification text to its socket. Undefined when over the limit. */
  open(remoteAddress: string | undefined, admin: boolean, push: (text: string) => void): WsEntry | undefined {
    if (this.count >= this.limit) return undefined;
    this.count++;
    this.metrics.wsConnections.inc();
    const closers: (() => void)[] = [];
    const logger = this.logger;
    const connection: RpcConnection = {
      id: String(++this.seq),
      notify(method, params) {
        let text: string;
        try {
          text = `{"jsonrpc":"2.0","method":${JSON.stringify(method)},"params":${JSON.stringify(params)}}`;
        } catch (err) {
          // notify() runs inside the publisher's event loop (new blocks, logs): a bad payload must not throw there.
          logger.error({ err, method }, "unserializable notification dropped");
          return;
        }
        push(text);
      },
      onClose(cb) {
        closers.push(cb);
      },
    };
    return { ctx: { transport: "ws", remoteAddress, connection, admin }, closers };
  }

  close(entry: WsEntry): void {
    this.count--;
    this.metrics.wsConnections.dec();
    for (const cb of entry.closers) {
      try {
        cb();
      } catch (err) {
        this.logger.error({ err }, "websocket onClose callback failed");
      }
    }
  }
}
