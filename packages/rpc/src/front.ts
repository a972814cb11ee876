import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { WebSocket } from "@fastify/websocket";
import fastifyWebsocket from "@fastify/websocket";
import Fastify, { type FastifyError, type FastifyInstance } from "fastify";
import { errorText } from "./text.ts";

// RpcErrorCode.INVALID_REQUEST / INTERNAL_ERROR: this module runs in the transport worker, which does not load
// @zgnode/utils (pino, prom-client) just for two numbers.
const INVALID_REQUEST = -32600;
const INTERNAL_ERROR = -32603;
const JSON_TYPE = "application/json";
const LOOPBACK = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);
const WS_OPEN = 1;

/** Everything the transport needs; plain data so it can cross into a worker as `workerData`. */
export interface FrontOptions {
  host: string;
  port: number;
  /** SO_REUSEPORT, for several workers serving one port. */
  reusePort: boolean;
  bodyBytes: number;
  wsMessageBytes: number;
  wsSendBufferBytes: number;
  cors: string | false;
  adminToken: string | undefined;
  metricsContentType: string;
}

export type RejectReason = "body_too_large" | "invalid_request";
export type LogLevel = "debug" | "warn" | "error";

/**
 * Where the transport hands its work: the dispatcher in the same thread, or a MessagePort to it. Admin status is
 * decided here, where the socket is.
 */
export interface FrontSink {
  /** A POST body; the sink answers with `front.answer(res, out)`. */
  post(text: string, remoteAddress: string | undefined, admin: boolean, res: ServerResponse): void;
  wsOpen(conn: number, remoteAddress: string | undefined, admin: boolean): void;
  /** A WebSocket message; the sink answers with `front.send(conn, out)`. */
  wsMessage(conn: number, text: string): void;
  wsClose(conn: number): void;
  /** The /health body (JSON text). */
  health(): Promise<string>;
  /** The /metrics body (Prometheus text). */
  metrics(): Promise<string>;
  rejected(reason: RejectReason): void;
  log(level: LogLevel, data: Record<string, unknown>, msg: string): void;
}

export interface Front {
  /** Binds and returns the port. */
  listen(): Promise<number>;
  /** Closes WebSocket connections (1001) and the server. */
  close(): Promise<void>;
  /** Writes the answer to a POST; undefined (notifications only) is an empty 200. */
  answer(res: ServerResponse, out: string | undefined): void;
  /** Sends a response on a WebSocket, if it is still open. */
  send(conn: number, text: string): void;
  /** Sends a notification; a client that lets too much pile up unsent is disconnected. */
  notify(conn: number, text: string): void;
  closeWs(conn: number, code: number, reason: string): void;
}

/**
 * One fastify server for JSON-RPC 2.0: POST `/` (single and batch), WebSocket on the same port and path,
 * `GET /health` and `GET /metrics`. It knows no methods: request text goes to the sink, answers come back.
 */
export function createFront(opts: FrontOptions, sink: FrontSink): Front {
  const limit = opts.bodyBytes;
  const cors = opts.cors;
  const tokenHeader = opts.adminToken ? Buffer.from(`Bearer ${opts.adminToken}`) : undefined;

  const isAdmin = (addr: string | undefined, auth: string | undefined): boolean => {
    if (addr !== undefined && LOOPBACK.has(addr)) return true;
    if (tokenHeader === undefined || auth === undefined) return false;
    const given = Buffer.from(auth);
    return given.length === tokenHeader.length && timingSafeEqual(given, tokenHeader);
  };

  // The hot path, POST `/`, is served before fastify's router: JSON-RPC bodies need no routing, hooks, content-type
  // parsing or serializers, and skipping them cuts the server's CPU per call. Everything else (WebSocket
  // upgrades, /health, /metrics, CORS preflight) goes through fastify on the same server and port.
  const headers: Record<string, string> = { "content-type": JSON_TYPE };
  if (cors !== false) headers["access-control-allow-origin"] = cors;
  const emptyHeaders: Record<string, string> = { ...headers, "content-length": "0" };
  const tooLargeBody = errorText(null, INVALID_REQUEST, `content length too large (limit ${limit} bytes)`);
  const tooLargeHeaders: Record<string, string> = {
    ...headers,
    "content-length": String(Buffer.byteLength(tooLargeBody)),
    connection: "close",
  };

  const rejectTooLarge = (req: IncomingMessage, res: ServerResponse): void => {
    sink.rejected("body_too_large");
    res.writeHead(413, tooLargeHeaders).end(tooLargeBody);
    // Let the client finish sending so it reads the answer; cut it off if it keeps going far beyond the limit.
    let drained = 0;
    req.on("data", (c: Buffer) => {
      drained += c.length;
      if (drained > 4 * limit) req.destroy();
    });
  };

  const servePost = (req: IncomingMessage, res: ServerResponse): void => {
    const declared = req.headers["content-length"];
    if (declared !== undefined && Number(declared) > limit) {
      rejectTooLarge(req, res);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let rejected = false;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        rejected = true;
        req.off("data", onData);
        rejectTooLarge(req, res);
        return;
      }
      chunks.push(c);
    };
    req.on("data", onData);
    req.on("error", () => {
      rejected = true;
    });
    req.on("end", () => {
      if (rejected) return;
      const text = chunks.length === 1 ? chunks[0].toString("utf8") : Buffer.concat(chunks).toString("utf8");
      const remoteAddress = req.socket.remoteAddress;
      sink.post(text, remoteAddress, isAdmin(remoteAddress, req.headers.authorization), res);
    });
  };

  const app: FastifyInstance = Fastify({
    serverFactory: (handler) =>
      createServer((req, res) => {
        if (req.method === "POST" && (req.url === "/" || req.url?.startsWith("/?"))) servePost(req, res);
        else handler(req, res);
      }),
    logger: false,
    bodyLimit: limit,
    forceCloseConnections: true,
    return503OnClosing: true,
    keepAliveTimeout: 65_000,
  });

  // Bodies are parsed by the dispatcher, whatever the content type: -32700 must be a JSON-RPC answer, not a 400.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string", bodyLimit: limit }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: FastifyError, _req, reply) => {
    if (err.statusCode === 413 || err.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      sink.rejected("body_too_large");
      return reply.code(413).type(JSON_TYPE).send(tooLargeBody);
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      sink.rejected("invalid_request");
      return reply
        .code(err.statusCode)
        .type(JSON_TYPE)
        .send(errorText(null, INVALID_REQUEST, "invalid request"));
    }
    sink.log("error", { err }, "rpc http error");
    return reply
      .code(500)
      .type(JSON_TYPE)
      .send(errorText(null, INTERNAL_ERROR, "internal error"));
  });

  if (cors !== false) {
    app.options("/", (_req, reply) => {
      reply
        .header("access-control-allow-origin", cors)
        .header("access-control-allow-methods", "POST, GET, OPTIONS")
        .header("access-control-allow-headers", "content-type, authorization")
        .header("access-control-max-age", "600")
        .code(204)
        .send();
    });
  }

  app.get("/health", async (_req, reply) => {
    reply.type(JSON_TYPE);
    return sink.health();
  });
  app.get("/metrics", async (_req, reply) => {
    reply.type(opts.metricsContentType);
    return sink.metrics();
  });

  const sockets = new Map<number, WebSocket>();
  let nextConn = 0;

  const onConnection = (socket: WebSocket, req: IncomingMessage): void => {
    const conn = ++nextConn;
    sockets.set(conn, socket);
    const remoteAddress = req.socket.remoteAddress;
    sink.wsOpen(conn, remoteAddress, isAdmin(remoteAddress, req.headers.authorization));
    socket.on("message", (data: Buffer | ArrayBuffer | Buffer[]) => {
      const text = Array.isArray(data) ? Buffer.concat(data).toString("utf8") : Buffer.from(data as Buffer).toString("utf8");
      sink.wsMessage(conn, text);
    });
    socket.on("error", (err: Error) => sink.log("debug", { err, connection: conn }, "websocket error"));
    socket.on("close", () => {
      sockets.delete(conn);
      sink.wsClose(conn);
    });
  };

  app.register(fastifyWebsocket, { options: { maxPayload: opts.wsMessageBytes } });
  app.register(async (scoped) => {
    scoped.route({
      method: "GET",
      url: "/",
      handler: (_req, reply) => {
        reply.type(JSON_TYPE).send({ name: "zgnode", jsonrpc: "POST / or WebSocket /" });
      },
      wsHandler: (socket, req) => onConnection(socket, req.raw),
    });
  });

  return {
    async listen() {
      await app.listen({ host: opts.host, port: opts.port, ...(opts.reusePort ? { reusePort: true } : {}) });
      return (app.server.address() as AddressInfo).port;
    },
    async close() {
      for (const s of sockets.values()) s.close(1001, "server shutting down");
      await app.close();
    },
    answer(res, out) {
      if (out === undefined) {
        res.writeHead(200, emptyHeaders).end();
        return;
      }
      headers["content-length"] = String(Buffer.byteLength(out));
      res.writeHead(200, headers).end(out);
    },
    send(conn, text) {
      const s = sockets.get(conn);
      if (s !== undefined && s.readyState === WS_OPEN) s.send(text);
    },
    notify(conn, text) {
      const s = sockets.get(conn);
      if (s === undefined || s.readyState !== WS_OPEN) return;
      if (s.bufferedAmount > opts.wsSendBufferBytes) {
        sink.log("warn", { connection: conn }, "websocket client too slow, disconnecting");
        s.terminate();
        return;
      }
      s.send(text);
    },
    closeWs(conn, code, reason) {
      sockets.get(conn)?.close(code, reason);
    },
  };
}
