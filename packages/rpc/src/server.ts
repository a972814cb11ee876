import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { WebSocket } from "@fastify/websocket";
import fastifyWebsocket from "@fastify/websocket";
import {
  createMetricsRegistry,
  type Logger,
  type Registry,
  type RpcConnection,
  type RpcContext,
  RpcErrorCode,
  silentLogger,
  withDefaults,
} from "@zgnode/utils";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from "fastify";
import { errorText, RpcDispatcher } from "./dispatcher.ts";
import { RpcServerError, RpcServerErrorCode } from "./errors.ts";
import { createRpcMetrics, type RpcMetrics } from "./metrics.ts";
import { defaultRpcLimits, defaultRpcServerOptions, type RpcLimits, type RpcServerOptions } from "./options.ts";

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
  /** Closes WebSocket connections (running their onClose callbacks) and the HTTP server. */
  close(): Promise<void>;
  readonly address: RpcServerAddress | undefined;
  readonly dispatcher: RpcDispatcher;
  readonly limits: RpcLimits;
  /** Open WebSocket connections. */
  readonly wsConnectionCount: number;
}

const JSON_TYPE = "application/json";
const LOOPBACK = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);
const WS_OPEN = 1;

/**
 * One fastify server for JSON-RPC 2.0: POST `/` (single and batch), WebSocket on the same port and path,
 * `GET /health` and `GET /metrics`. It knows no methods: it serves whatever tables it is given.
 */
export function createRpcServer(opts: RpcServerOptions): RpcServer {
  const limits = withDefaults(defaultRpcLimits, opts.limits);
  const host = opts.host ?? defaultRpcServerOptions.host;
  const logger: Logger = opts.logger ?? silentLogger();
  const registry: Registry = opts.metrics ?? createMetricsRegistry();
  const metrics: RpcMetrics = createRpcMetrics(registry);
  const dispatcher = new RpcDispatcher(opts.tables, { batchLength: limits.batchLength, logger, metrics });
  const cors = opts.cors === undefined ? defaultRpcServerOptions.cors : opts.cors;
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
  const tooLargeBody = errorText(
    null,
    RpcErrorCode.INVALID_REQUEST,
    `content length too large (limit ${limits.bodyBytes} bytes)`,
  );
  const tooLargeHeaders: Record<string, string> = {
    ...headers,
    "content-length": String(Buffer.byteLength(tooLargeBody)),
    connection: "close",
  };

  const rejectTooLarge = (req: IncomingMessage, res: ServerResponse): void => {
    metrics.rejected.labels("body_too_large").inc();
    res.writeHead(413, tooLargeHeaders).end(tooLargeBody);
    // Let the client finish sending so it reads the answer; cut it off if it keeps going far beyond the limit.
    let drained = 0;
    req.on("data", (c: Buffer) => {
      drained += c.length;
      if (drained > 4 * limits.bodyBytes) req.destroy();
    });
  };

  const servePost = (req: IncomingMessage, res: ServerResponse): void => {
    const declared = req.headers["content-length"];
    if (declared !== undefined && Number(declared) > limits.bodyBytes) {
      rejectTooLarge(req, res);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let rejected = false;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limits.bodyBytes) {
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
      const ctx: RpcContext = {
        transport: "http",
        remoteAddress,
        connection: undefined,
        admin: isAdmin(remoteAddress, req.headers.authorization),
      };
      const write = (out: string | undefined): void => {
        if (out === undefined) {
          res.writeHead(200, emptyHeaders).end();
          return;
        }
        headers["content-length"] = String(Buffer.byteLength(out));
        res.writeHead(200, headers).end(out);
      };
      const out = dispatcher.handleText(text, ctx);
      if (out instanceof Promise)
        out.then(write, (err: unknown) => {
          logger.error({ err }, "rpc dispatch failed");
          write(errorText(null, RpcErrorCode.INTERNAL_ERROR, "internal error"));
        });
      else write(out);
    });
  };

  const app: FastifyInstance = Fastify({
    serverFactory: (handler) =>
      createServer((req, res) => {
        if (req.method === "POST" && (req.url === "/" || req.url?.startsWith("/?"))) servePost(req, res);
        else handler(req, res);
      }),
    logger: false,
    bodyLimit: limits.bodyBytes,
    forceCloseConnections: true,
    return503OnClosing: true,
    keepAliveTimeout: 65_000,
  });

  // Bodies are parsed by the dispatcher, whatever the content type: -32700 must be a JSON-RPC answer, not a 400.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string", bodyLimit: limits.bodyBytes }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: FastifyError, _req, reply) => {
    if (err.statusCode === 413 || err.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      metrics.rejected.labels("body_too_large").inc();
      return reply
        .code(413)
        .type(JSON_TYPE)
        .send(errorText(null, RpcErrorCode.INVALID_REQUEST, `content length too large (limit ${limits.bodyBytes} bytes)`));
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      metrics.rejected.labels("invalid_request").inc();
      return reply
        .code(err.statusCode)
        .type(JSON_TYPE)
        .send(errorText(null, RpcErrorCode.INVALID_REQUEST, "invalid request"));
    }
    logger.error({ err }, "rpc http error");
    return reply
      .code(500)
      .type(JSON_TYPE)
      .send(errorText(null, RpcErrorCode.INTERNAL_ERROR, "internal error"));
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

  app.get("/health", async () => ({ status: "ok", ...(opts.health ? await opts.health() : {}) }));
  app.get("/metrics", async (_req, reply) => {
    reply.type(registry.contentType);
    return registry.metrics();
  });

  const sockets = new Set<WebSocket>();

  const onConnection = (socket: WebSocket, req: FastifyRequest): void => {
    if (sockets.size >= limits.wsConnections) {
      socket.close(1013, "too many connections");
      return;
    }
    sockets.add(socket);
    metrics.wsConnections.inc();
    const closers: (() => void)[] = [];
    const connection: RpcConnection = {
      id: `${req.id}`,
      notify(method, params) {
        if (socket.readyState !== WS_OPEN) return;
        if (socket.bufferedAmount > limits.wsSendBufferBytes) {
          logger.warn({ connection: connection.id }, "websocket client too slow, disconnecting");
          socket.terminate();
          return;
        }
        let text: string;
        try {
          text = `{"jsonrpc":"2.0","method":${JSON.stringify(method)},"params":${JSON.stringify(params)}}`;
        } catch (err) {
          // notify() runs inside the publisher's event loop (new blocks, logs): a bad payload must not throw there.
          logger.error({ err, method }, "unserializable notification dropped");
          return;
        }
        socket.send(text);
      },
      onClose(cb) {
        closers.push(cb);
      },
    };
    const ctx: RpcContext = {
      transport: "ws",
      remoteAddress: req.socket.remoteAddress,
      connection,
      admin: isAdmin(req.socket.remoteAddress, req.headers.authorization),
    };
    const reply = (text: string | undefined): void => {
      if (text !== undefined && socket.readyState === WS_OPEN) socket.send(text);
    };
    socket.on("message", (data: Buffer | ArrayBuffer | Buffer[]) => {
      const text = Array.isArray(data) ? Buffer.concat(data).toString("utf8") : Buffer.from(data as Buffer).toString("utf8");
      const out = dispatcher.handleText(text, ctx);
      if (out instanceof Promise) out.then(reply, (err: unknown) => logger.error({ err }, "rpc ws dispatch failed"));
      else reply(out);
    });
    socket.on("error", (err: Error) => logger.debug({ err, connection: connection.id }, "websocket error"));
    socket.on("close", () => {
      sockets.delete(socket);
      metrics.wsConnections.dec();
      for (const cb of closers) {
        try {
          cb();
        } catch (err) {
          logger.error({ err }, "websocket onClose callback failed");
        }
      }
    });
  };

  app.register(fastifyWebsocket, { options: { maxPayload: limits.wsMessageBytes } });
  app.register(async (scoped) => {
    scoped.route({
      method: "GET",
      url: "/",
      handler: (_req, reply) => {
        reply.type(JSON_TYPE).send({ name: "zgnode", jsonrpc: "POST / or WebSocket /" });
      },
      wsHandler: onConnection,
    });
  });

  let address: RpcServerAddress | undefined;

  return {
    dispatcher,
    limits,
    get address() {
      return address;
    },
    get wsConnectionCount() {
      return sockets.size;
    },
    async listen() {
      try {
        await app.listen({ host, port: opts.port });
      } catch (err) {
        throw new RpcServerError(
          RpcServerErrorCode.LISTEN_FAILED,
          `cannot listen on ${host}:${opts.port}: ${(err as Error).message}`,
          undefined,
          {
            cause: err,
          },
        );
      }
      const port = (app.server.address() as AddressInfo).port;
      const h = host.includes(":") ? `[${host}]` : host;
      address = {
        host,
        port,
        httpUrl: `http://${h}:${port}`,
        wsUrl: `ws://${h}:${port}`,
        metricsUrl: `http://${h}:${port}/metrics`,
      };
      logger.debug({ ...address, methods: dispatcher.methodNames.length }, "rpc server listening");
      return address;
    },
    async close() {
      for (const s of sockets) s.close(1001, "server shutting down");
      await app.close();
    },
  };
}
