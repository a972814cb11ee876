import type { Logger, Registry, RpcMethodTable } from "@zgnode/utils";

/** Resource limits. Defaults follow geth where it has one (body 5 MiB, batch 1000 items). */
export interface RpcLimits {
  /** Largest accepted HTTP request body; larger bodies get HTTP 413 with a JSON-RPC error. */
  bodyBytes: number;
  /** Most items in one batch (HTTP or WebSocket); longer batches get geth's "batch too large". */
  batchLength: number;
  /** Largest accepted WebSocket message; larger ones close the connection (1009). */
  wsMessageBytes: number;
  /** A WebSocket client that lets this many bytes pile up unsent is disconnected (slow consumer). */
  wsSendBufferBytes: number;
  /** Most concurrent WebSocket connections. */
  wsConnections: number;
}

export const defaultRpcLimits: RpcLimits = {
  bodyBytes: 5 * 1024 * 1024,
  batchLength: 1000,
  wsMessageBytes: 16 * 1024 * 1024,
  wsSendBufferBytes: 32 * 1024 * 1024,
  wsConnections: 1000,
};

export interface RpcServerOptions {
  /** Method tables to serve; a method name may appear in one table only. */
  tables: RpcMethodTable[];
  host: string;
  /** 0 picks a free port. */
  port: number;
  limits?: Partial<RpcLimits>;
  /** Grants admin rights to non-loopback callers sending `Authorization: Bearer <token>`. */
  adminToken?: string;
  logger?: Logger;
  /** Registry for the server's metrics; `GET /metrics` serves it. A private one is made when absent. */
  metrics?: Registry;
  /** Extra fields for `GET /health` (head number, peers, ...). */
  health?: () => Record<string, unknown> | Promise<Record<string, unknown>>;
  /** `Access-Control-Allow-Origin` value for browser clients; false disables CORS headers. */
  cors?: string | false;
  /**
   * Worker threads serving HTTP and WebSocket (socket I/O, HTTP parsing, limits, admin detection); the dispatcher
   * and handlers stay on the calling thread. 0 serves from the calling thread. More than one shares the port with
   * SO_REUSEPORT (Linux, Node >= 22.12), else falls back to one. Default 1.
   */
  threads?: number;
}

export const defaultRpcServerOptions = {
  host: "127.0.0.1",
  port: 8545,
  cors: "*",
  threads: 1,
} as const;
