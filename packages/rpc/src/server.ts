import type { Worker } from "node:worker_threads";
import {
  createMetricsRegistry,
  type Logger,
  type Registry,
  type RpcContext,
  RpcErrorCode,
  silentLogger,
  withDefaults,
} from "@zgnode/utils";
import { Connections, type WsEntry } from "./connections.ts";
import { RpcDispatcher } from "./dispatcher.ts";
import { RpcServerError, RpcServerErrorCode } from "./errors.ts";
import { createFront, type Front, type FrontOptions } from "./front.ts";
import { createRpcMetrics, type RpcMetrics } from "./metrics.ts";
import { defaultRpcLimits, defaultRpcServerOptions, type RpcLimits, type RpcServerOptions } from "./options.ts";
import { errorText } from "./text.ts";
import { WorkerPool } from "./threads.ts";

export interface RpcServerAddress {
  host: string;
  port: number;
  httpUrl: string;
  wsUrl: string;
  metricsUrl: string;
}

export interface RpcServer {
  /** Binds the port and starts serving. */
  listen(): Promise<RpcServerAddress>;
  /** Closes WebSocket connections (running their onClose callbacks), the HTTP server and the transport workers. */
  close(): Promise<void>;
  readonly address: RpcServerAddress | undefined;
  readonly dispatcher: RpcDispatcher;
  readonly limits: RpcLimits;
  /** Open WebSocket connections. */
  readonly wsConnectionCount: number;
  /** The transport threads now serving (empty with `threads: 0`); for diagnostics and tests. */
  readonly workers: readonly Worker[];
}

/**
 * JSON-RPC 2.0 over HTTP POST `/` (single and batch) and WebSocket on the same port, plus `GET /health` and
 * `GET /metrics`. It knows no methods: it serves whatever tables it is given. The transport (front.ts) runs in
 * `threads` worker threads, or in this thread with `threads: 0`; the dispatcher and every handler always run here.
 */
export function createRpcServer(opts: RpcServerOptions): RpcServer {
  const limits = withDefaults(defaultRpcLimits, opts.limits);
  const host = opts.host ?? defaultRpcServerOptions.host;
  const threads = opts.threads ?? defaultRpcServerOptions.threads;
  const logger: Logger = opts.logger ?? silentLogger();
  const registry: Registry = opts.metrics ?? createMetricsRegistry();
  const metrics: RpcMetrics = createRpcMetrics(registry);
  const dispatcher = new RpcDispatcher(opts.tables, { batchLength: limits.batchLength, logger, metrics });
  const connections = new Connections(limits.wsConnections, metrics, logger);
  const frontOptions: FrontOptions = {
    host,
    port: opts.port,
    reusePort: false,
    bodyBytes: limits.bodyBytes,
    wsMessageBytes: limits.wsMessageBytes,
    wsSendBufferBytes: limits.wsSendBufferBytes,
    cors: opts.cors === undefined ? defaultRpcServerOptions.cors : opts.cors,
    adminToken: opts.adminToken,
    metricsContentType: registry.contentType,
  };
  const health = async (): Promise<string> => JSON.stringify({ status: "ok", ...(opts.health ? await opts.health() : {}) });
  const metricsText = (): Promise<string> => registry.metrics();

  if (!Number.isInteger(threads) || threads < 0) throw new RangeError(`rpc threads must be an integer >= 0, got ${threads}`);
  // Several workers share the port with SO_REUSEPORT (Linux, Node >= 22.12); elsewhere one worker serves it.
  let count = threads;
  if (count > 1 && !reusePortSupported()) {
    logger.warn({ threads }, "SO_REUSEPORT unavailable, serving JSON-RPC from one worker thread");
    count = 1;
  }

  let listenPort: () => Promise<number>;
  let closeTransport: () => Promise<void>;
  let workers: () => readonly Worker[];
  if (count === 0) {
    const front = inThreadFront(frontOptions, dispatcher, connections, logger, metrics, health, metricsText);
    listenPort = () => front.listen();
    closeTransport = () => front.close();
    workers = () => [];
  } else {
    const pool = new WorkerPool({ count, front: frontOptions, dispatcher, connections, logger, metrics, health, metricsText });
    listenPort = () => pool.listen();
    closeTransport = () => pool.close();
    workers = () => pool.workers;
  }

  let address: RpcServerAddress | undefined;

  return {
    dispatcher,
    limits,
    get address() {
      return address;
    },
    get wsConnectionCount() {
      return connections.size;
    },
    get workers() {
      return workers();
    },
    async listen() {
      let port: number;
      try {
        port = await listenPort();
      } catch (err) {
        throw new RpcServerError(
          RpcServerErrorCode.LISTEN_FAILED,
          `cannot listen on ${host}:${opts.port}: ${(err as Error).message}`,
          { code: (err as { code?: string }).code },
          { cause: err },
        );
      }
      const h = host.includes(":") ? `[${host}]` : host;
      address = {
        host,
        port,
        httpUrl: `http://${h}:${port}`,
        wsUrl: `ws://${h}:${port}`,
        metricsUrl: `http://${h}:${port}/metrics`,
      };
      logger.debug({ ...address, methods: dispatcher.methodNames.length, threads: count }, "rpc server listening");
      return address;
    },
    close: () => closeTransport(),
  };
}

/** `threads: 0`: the transport in this thread, calling the dispatcher directly. */
function inThreadFront(
  frontOptions: FrontOptions,
  dispatcher: RpcDispatcher,
  connections: Connections,
  logger: Logger,
  metrics: RpcMetrics,
  health: () => Promise<string>,
  metricsText: () => Promise<string>,
): Front {
  const conns = new Map<number, WsEntry>();
  const front: Front = createFront(frontOptions, {
    post(text, remoteAddress, admin, res) {
      const ctx: RpcContext = { transport: "http", remoteAddress, connection: undefined, admin };
      const out = dispatcher.handleText(text, ctx);
      if (out instanceof Promise)
        out.then(
          (o) => front.answer(res, o),
          (err: unknown) => {
            logger.error({ err }, "rpc dispatch failed");
            front.answer(res, errorText(null, RpcErrorCode.INTERNAL_ERROR, "internal error"));
          },
        );
      else front.answer(res, out);
    },
    wsOpen(conn, remoteAddress, admin) {
      const entry = connections.open(remoteAddress, admin, (text) => front.notify(conn, text));
      if (entry === undefined) front.closeWs(conn, 1013, "too many connections");
      else conns.set(conn, entry);
    },
    wsMessage(conn, text) {
      const entry = conns.get(conn);
      if (entry === undefined) return;
      const out = dispatcher.handleText(text, entry.ctx);
      if (out instanceof Promise)
        out.then(
          (o) => {
            if (o !== undefined) front.send(conn, o);
          },
          (err: unknown) => logger.error({ err }, "rpc ws dispatch failed"),
        );
      else if (out !== undefined) front.send(conn, out);
    },
    wsClose(conn) {
      const entry = conns.get(conn);
      if (entry === undefined) return;
      conns.delete(conn);
      connections.close(entry);
    },
    health,
    metrics: metricsText,
    rejected(reason) {
      metrics.rejected.labels(reason).inc();
    },
    log(level, data, msg) {
      logger[level](data, msg);
    },
  });
  return {
    ...front,
    async close() {
      await front.close();
      // Sockets can outlive the server's close by a tick; their connections are over for the handlers now.
      for (const entry of conns.values()) connections.close(entry);
      conns.clear();
    },
  };
}

/** SO_REUSEPORT in `server.listen()`: Linux (and some BSDs) with Node >= 22.12 / 23.1. */
function reusePortSupported(): boolean {
  if (process.platform !== "linux") return false;
  const [major, minor] = process.versions.node.split(".").map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}
