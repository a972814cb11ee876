import { connect } from "node:net";
import { networkInterfaces } from "node:os";
import {
  createMetricsRegistry,
  type Logger,
  RpcError,
  RpcErrorCode,
  type RpcMethodTable,
  rpcSchemas,
  silentLogger,
} from "@zgnode/utils";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRpcServer, type RpcServer, RpcServerError, RpcServerErrorCode } from "../src/index.ts";

/** A toy table exercising every server feature: sync/async handlers, schemas, errors, admin, ws-only push. */
function toyTable(events: { closed: string[]; flooded?: number }): RpcMethodTable {
  return {
    toy_add: {
      params: [rpcSchemas.quantity, rpcSchemas.quantity],
      handler: ([a, b]) => `0x${(BigInt(a as string) + BigInt(b as string)).toString(16)}`,
    },
    toy_echoAsync: {
      params: [{ type: "string" }, { type: "integer" }],
      required: 1,
      handler: async ([s, n]) => ({ s, n: n ?? null }),
    },
    toy_revert: {
      params: [],
      handler: () => {
        throw new RpcError(RpcErrorCode.EXECUTION_REVERTED, "execution reverted: nope", "0x08c379a0");
      },
    },
    toy_crash: {
      params: [],
      handler: () => {
        throw new Error("secret internal detail at /home/x");
      },
    },
    toy_admin: { params: [], admin: true, handler: () => "admin ok" },
    toy_badData: {
      params: [],
      handler: () => {
        throw new RpcError(-32000, "odd data", { big: 1n });
      },
    },
    toy_bigResult: { params: [], handler: () => ({ big: 1n }) },
    toy_flood: {
      // Pushes 64 KiB notifications until the connection closes (or 4,000 of them: 256 MiB).
      params: [],
      wsOnly: true,
      handler: (_params, ctx) => {
        const conn = ctx.connection!;
        let open = true;
        conn.onClose(() => {
          open = false;
          events.flooded = sent;
          events.closed.push(conn.id);
        });
        const payload = "x".repeat(64 * 1024);
        let sent = 0;
        const burst = () => {
          for (let i = 0; i < 50 && open && sent < 4000; i++, sent++) conn.notify("toy_flood", { n: sent, payload });
          if (open && sent < 4000) setTimeout(burst, 1);
        };
        setTimeout(burst, 1);
        return "0xf1";
      },
    },
    toy_subscribe: {
      params: [{ type: "string" }],
      wsOnly: true,
      handler: ([tag], ctx) => {
        const conn = ctx.connection!;
        const sub = `0x${tag}`;
        // Push two notifications after the response has been written.
        setTimeout(() => {
          conn.notify("toy_subscription", { subscription: sub, result: 1 });
          conn.notify("toy_subscription", { subscription: sub, result: 2 });
        }, 5);
        conn.onClose(() => events.closed.push(conn.id));
        return sub;
      },
    },
  };
}

interface RpcReply {
  jsonrpc?: string;
  id?: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

// Every behaviour holds in both transports: in this thread (threads 0) and in a worker thread over the bridge.
describe.each([0, 1])("rpc server over real HTTP and WebSocket (threads %i)", (threads) => {
  const events = { closed: [] as string[] };
  let server: RpcServer;
  let url: string;
  let wsUrl: string;

  beforeAll(async () => {
    server = createRpcServer({
      tables: [toyTable(events)],
      host: "127.0.0.1",
      port: 0,
      limits: { bodyBytes: 64 * 1024, batchLength: 20, wsMessageBytes: 64 * 1024 },
      metrics: createMetricsRegistry(),
      health: () => ({ head: 7 }),
      threads,
    });
    const addr = await server.listen();
    url = addr.httpUrl;
    wsUrl = addr.wsUrl;
  });
  afterAll(async () => {
    await server.close();
  });

  async function post(body: string): Promise<{ status: number; text: string }> {
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
    return { status: res.status, text: await res.text() };
  }
  async function call(body: unknown): Promise<RpcReply & RpcReply[]> {
    const res = await post(JSON.stringify(body));
    expect(res.status).toBe(200);
    return JSON.parse(res.text);
  }

  it("answers a single call and validates params against the schemas", async () => {
    expect(await call({ jsonrpc: "2.0", id: 1, method: "toy_add", params: ["0x2", "0x3"] })).toEqual({
      jsonrpc: "2.0",
      id: 1,
      result: "0x5",
    });
    const bad = await call({ jsonrpc: "2.0", id: "a", method: "toy_add", params: ["0x02", "0x3"] });
    expect(bad.id).toBe("a");
    expect(bad.error?.code).toBe(-32602);
    expect(bad.error?.message).toMatch(/^invalid argument 0:/);
    expect((await call({ jsonrpc: "2.0", id: 2, method: "toy_add", params: ["0x1"] })).error).toMatchObject({
      code: -32602,
      message: "missing value for required argument 1",
    });
    expect((await call({ jsonrpc: "2.0", id: 3, method: "toy_add", params: ["0x1", "0x1", "0x1"] })).error?.code).toBe(-32602);
    expect((await call({ jsonrpc: "2.0", id: 4, method: "toy_add", params: { a: 1 } })).error).toMatchObject({
      code: -32602,
      message: "non-array args",
    });
    expect((await call({ jsonrpc: "2.0", id: 5, method: "toy_add", params: [1, 2] })).error?.code).toBe(-32602);
  });

  it("accepts omitted and null optional params, and runs async handlers", async () => {
    expect((await call({ jsonrpc: "2.0", id: 1, method: "toy_echoAsync", params: ["x"] })).result).toEqual({ s: "x", n: null });
    expect((await call({ jsonrpc: "2.0", id: 1, method: "toy_echoAsync", params: ["x", null] })).result).toEqual({
      s: "x",
      n: null,
    });
    expect((await call({ jsonrpc: "2.0", id: 1, method: "toy_echoAsync", params: ["x", 4] })).result).toEqual({ s: "x", n: 4 });
    expect((await call({ jsonrpc: "2.0", id: 1, method: "toy_echoAsync", params: [null] })).error?.code).toBe(-32602);
  });

  it("maps RpcError to its code, message and data, and hides unexpected exceptions", async () => {
    expect((await call({ jsonrpc: "2.0", id: 1, method: "toy_revert" })).error).toEqual({
      code: 3,
      message: "execution reverted: nope",
      data: "0x08c379a0",
    });
    const crash = await call({ jsonrpc: "2.0", id: 1, method: "toy_crash", params: [] });
    expect(crash.error).toEqual({ code: -32603, message: "internal error" });
    // Unserializable values never crash the server: the data is dropped, a result becomes an internal error.
    expect((await call({ jsonrpc: "2.0", id: 2, method: "toy_badData" })).error).toEqual({ code: -32000, message: "odd data" });
    expect((await call({ jsonrpc: "2.0", id: 3, method: "toy_bigResult" })).error?.code).toBe(-32603);
  });

  it("answers parse errors, invalid envelopes and unknown methods with the standard codes", async () => {
    const parse = await post('{"jsonrpc":"2.0","id":1,"method":');
    expect(parse.status).toBe(200);
    expect(JSON.parse(parse.text)).toEqual({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error" } });
    expect((await call({ jsonrpc: "1.0", id: 9, method: "toy_add" })).error?.code).toBe(-32600);
    expect((await call({ jsonrpc: "1.0", id: 9, method: "toy_add" })).id).toBe(9);
    expect((await call({ jsonrpc: "2.0", id: 9 })).error?.code).toBe(-32600);
    expect((await call({ jsonrpc: "2.0", id: { x: 1 }, method: "toy_add" })).id).toBe(null);
    expect((await call(42)).error?.code).toBe(-32600);
    const unknown = await call({ jsonrpc: "2.0", id: 7, method: "nope_nothing" });
    expect(unknown.error).toEqual({ code: -32601, message: "the method nope_nothing does not exist/is not available" });
  });

  it("serves batches: per-item errors, order kept, notifications omitted, limits enforced", async () => {
    const out = await call([
      { jsonrpc: "2.0", id: 1, method: "toy_add", params: ["0x1", "0x1"] },
      { jsonrpc: "2.0", method: "toy_add", params: ["0x1", "0x1"] },
      { jsonrpc: "2.0", id: 2, method: "nope" },
      5,
      { jsonrpc: "2.0", id: 3, method: "toy_echoAsync", params: ["b"] },
    ]);
    expect(out).toHaveLength(4);
    expect(out.map((r) => r.id)).toEqual([1, 2, null, 3]);
    expect(out[0].result).toBe("0x2");
    expect(out[1].error?.code).toBe(-32601);
    expect(out[2].error?.code).toBe(-32600);
    expect(out[3].result).toEqual({ s: "b", n: null });

    expect(await call([])).toEqual({ jsonrpc: "2.0", id: null, error: { code: -32600, message: "empty batch" } });
    const tooLong = Array.from({ length: 21 }, (_, i) => ({
      jsonrpc: "2.0",
      id: i + 100,
      method: "toy_add",
      params: ["0x1", "0x1"],
    }));
    expect(await call(tooLong)).toEqual([{ jsonrpc: "2.0", id: 100, error: { code: -32600, message: "batch too large" } }]);

    const notes = await post(JSON.stringify([{ jsonrpc: "2.0", method: "toy_add", params: ["0x1", "0x1"] }]));
    expect(notes).toEqual({ status: 200, text: "" });
    expect(await post(JSON.stringify({ jsonrpc: "2.0", method: "toy_add", params: ["0x1", "0x1"] }))).toEqual({
      status: 200,
      text: "",
    });
  });

  it("rejects oversized bodies with HTTP 413 and a JSON-RPC error, then keeps serving", async () => {
    const big = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "toy_echoAsync", params: ["x".repeat(70 * 1024)] });
    const res = await post(big);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.text).error.code).toBe(-32600);
    expect((await call({ jsonrpc: "2.0", id: 1, method: "toy_add", params: ["0x1", "0x2"] })).result).toBe("0x3");
  });

  it("sends CORS headers for browser clients and answers preflight", async () => {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"jsonrpc":"2.0","id":1,"method":"toy_add","params":["0x1","0x1"]}',
    });
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("content-type")).toBe("application/json");
    const pre = await fetch(url, {
      method: "OPTIONS",
      headers: { origin: "http://example.test", "access-control-request-method": "POST" },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-methods")).toContain("POST");
  });

  it("refuses ws-only methods over HTTP", async () => {
    expect((await call({ jsonrpc: "2.0", id: 1, method: "toy_subscribe", params: ["1"] })).error).toEqual({
      code: -32601,
      message: "notifications not supported",
    });
  });

  it("allows admin methods to loopback callers and refuses them to others", async () => {
    expect((await call({ jsonrpc: "2.0", id: 1, method: "toy_admin" })).result).toBe("admin ok");
    const remote = { transport: "http" as const, remoteAddress: "10.0.0.1", connection: undefined, admin: false };
    const text = await server.dispatcher.handleText('{"jsonrpc":"2.0","id":1,"method":"toy_admin"}', remote);
    expect(JSON.parse(text as string).error.code).toBe(-32601);
  });

  it("serves JSON-RPC over WebSocket on the same port: calls, batches, notifications, close callbacks", async () => {
    const ws = new WebSocket(wsUrl);
    const inbox: RpcReply[] = [];
    const waiters: (() => void)[] = [];
    ws.onmessage = (ev) => {
      const parsed = JSON.parse(String(ev.data));
      if (Array.isArray(parsed)) inbox.push(...parsed);
      else inbox.push(parsed);
      for (const w of waiters.splice(0)) w();
    };
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("ws error"));
    });
    const waitFor = async (n: number) => {
      while (inbox.length < n) await new Promise<void>((r) => waiters.push(r));
    };
    ws.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "toy_add", params: ["0xa", "0x1"] }));
    ws.send("not json");
    ws.send(
      JSON.stringify([
        { jsonrpc: "2.0", id: 2, method: "toy_add", params: ["0x1", "0x1"] },
        { jsonrpc: "2.0", id: 3, method: "toy_nothing" },
      ]),
    );
    ws.send(JSON.stringify({ jsonrpc: "2.0", id: 4, method: "toy_subscribe", params: ["ab"] }));
    await waitFor(7);
    expect(inbox.find((m) => m.id === 1)?.result).toBe("0xb");
    expect(inbox.find((m) => m.error?.code === -32700)?.id).toBe(null);
    expect(inbox.find((m) => m.id === 2)?.result).toBe("0x2");
    expect(inbox.find((m) => m.id === 3)?.error?.code).toBe(-32601);
    expect(inbox.find((m) => m.id === 4)?.result).toBe("0xab");
    const notes = inbox.filter((m) => (m as { method?: string }).method === "toy_subscription");
    expect(notes.map((n) => (n as { params: { result: number } }).params)).toEqual([
      { subscription: "0xab", result: 1 },
      { subscription: "0xab", result: 2 },
    ]);
    expect(server.wsConnectionCount).toBe(1);
    ws.close();
    for (let i = 0; i < 100 && events.closed.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(events.closed).toHaveLength(1);
    expect(server.wsConnectionCount).toBe(0);
  });

  it("closes a WebSocket whose message exceeds the limit, and keeps serving others", async () => {
    const ws = new WebSocket(wsUrl);
    await new Promise<void>((r) => {
      ws.onopen = () => r();
    });
    const closed = new Promise<number>((r) => {
      ws.onclose = (ev) => r(ev.code);
    });
    ws.send("x".repeat(70 * 1024));
    expect(await closed).toBe(1009);
    expect((await call({ jsonrpc: "2.0", id: 1, method: "toy_add", params: ["0x1", "0x2"] })).result).toBe("0x3");
  });

  it("exposes /health and Prometheus /metrics with per-method counts and latency", async () => {
    expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: "ok", head: 7 });
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toMatch(/zgnode_rpc_requests_total\{method="toy_add",outcome="ok"\} [1-9]/);
    expect(text).toMatch(/zgnode_rpc_requests_total\{method="toy_crash",outcome="internal"\} 1/);
    expect(text).toMatch(/zgnode_rpc_request_duration_seconds_count\{method="toy_add"\} [1-9]/);
    expect(text).toMatch(/zgnode_rpc_rejected_total\{reason="body_too_large"\} 1/);
  });
});

describe("rpc server construction", () => {
  it("refuses a method declared in two tables", () => {
    const t: RpcMethodTable = { a_b: { params: [], handler: () => 1 } };
    let err: unknown;
    try {
      createRpcServer({ tables: [t, { ...t }], host: "127.0.0.1", port: 0 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RpcServerError);
    expect((err as RpcServerError).code).toBe(RpcServerErrorCode.DUPLICATE_METHOD);
  });

  it("refuses an uncompilable schema at mount, not at call time", () => {
    const t: RpcMethodTable = { a_b: { params: [{ type: "no-such-type" }], handler: () => 1 } };
    expect(() => createRpcServer({ tables: [t], host: "127.0.0.1", port: 0 })).toThrow(RpcServerError);
  });
});

describe.each([0, 1])("admin rights for non-loopback callers (threads %i)", (threads) => {
  // Needs an address other than loopback to connect from; machines without one skip with this reason.
  const external = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === "IPv4" && !i.internal)?.address;

  it.skipIf(external === undefined)("grants admin methods only with the bearer token", async () => {
    const server = createRpcServer({
      tables: [{ toy_admin: { params: [], admin: true, handler: () => "admin ok" } }],
      host: "0.0.0.0",
      port: 0,
      adminToken: "s3cret-token",
      threads,
    });
    const { port } = await server.listen();
    try {
      const call = async (auth?: string) => {
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (auth) headers.authorization = auth;
        const res = await fetch(`http://${external}:${port}`, {
          method: "POST",
          headers,
          body: '{"jsonrpc":"2.0","id":1,"method":"toy_admin"}',
        });
        return (await res.json()) as { result?: string; error?: { code: number } };
      };
      expect((await call()).error?.code).toBe(-32601);
      expect((await call("Bearer wrong-token!")).error?.code).toBe(-32601);
      expect((await call("Bearer s3cret-token")).result).toBe("admin ok");
      // WebSocket: admin is decided where the socket is (the transport thread) and travels with the connection.
      const remote = await openWs(`ws://${external}:${port}`);
      const local = await openWs(`ws://127.0.0.1:${port}`);
      expect((await remote.call({ jsonrpc: "2.0", id: 1, method: "toy_admin" })).error?.code).toBe(-32601);
      expect((await local.call({ jsonrpc: "2.0", id: 1, method: "toy_admin" })).result).toBe("admin ok");
      remote.ws.close();
      local.ws.close();
    } finally {
      await server.close();
    }
  });
});

/** A WebSocket client that matches answers to calls by id and keeps notifications. */
async function openWs(url: string) {
  const ws = new WebSocket(url);
  const answers = new Map<unknown, (r: RpcReply) => void>();
  const notes: { method: string; params: unknown }[] = [];
  ws.onmessage = (ev) => {
    const m = JSON.parse(String(ev.data));
    if (m.method !== undefined) notes.push(m);
    else answers.get(m.id)?.(m);
  };
  const closed = new Promise<number>((r) => {
    ws.onclose = (ev) => r(ev.code);
  });
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error("ws error"));
  });
  return {
    ws,
    notes,
    closed,
    call: (body: { id: unknown; [k: string]: unknown }) =>
      new Promise<RpcReply>((resolve) => {
        answers.set(body.id, resolve);
        ws.send(JSON.stringify(body));
      }),
  };
}

async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.each([0, 1])("rpc server lifecycle (threads %i)", (threads) => {
  it("close() closes WebSocket connections and runs their onClose callbacks", async () => {
    const events = { closed: [] as string[] };
    const server = createRpcServer({ tables: [toyTable(events)], host: "127.0.0.1", port: 0, threads });
    const { wsUrl } = await server.listen();
    const a = await openWs(wsUrl);
    const b = await openWs(wsUrl);
    expect((await a.call({ jsonrpc: "2.0", id: 1, method: "toy_subscribe", params: ["a"] })).result).toBe("0xa");
    expect((await b.call({ jsonrpc: "2.0", id: 1, method: "toy_subscribe", params: ["b"] })).result).toBe("0xb");
    await until(() => a.notes.length === 2 && b.notes.length === 2, "notifications");
    expect(server.wsConnectionCount).toBe(2);
    await server.close();
    expect(events.closed).toHaveLength(2);
    expect(server.wsConnectionCount).toBe(0);
    expect(await a.closed).toBeGreaterThanOrEqual(1000);
    expect(server.workers).toHaveLength(0);
  });

  it("refuses WebSocket connections over the limit with 1013", async () => {
    const server = createRpcServer({
      tables: [toyTable({ closed: [] })],
      host: "127.0.0.1",
      port: 0,
      limits: { wsConnections: 1 },
      threads,
    });
    const { wsUrl } = await server.listen();
    try {
      const a = await openWs(wsUrl);
      const b = await openWs(wsUrl);
      expect(await b.closed).toBe(1013);
      expect((await a.call({ jsonrpc: "2.0", id: 5, method: "toy_add", params: ["0x1", "0x1"] })).result).toBe("0x2");
      expect(server.wsConnectionCount).toBe(1);
    } finally {
      await server.close();
    }
  });

  it("disconnects a WebSocket client that stops reading its notifications, and keeps serving others", async () => {
    const events: { closed: string[]; flooded?: number } = { closed: [] };
    const server = createRpcServer({
      tables: [toyTable(events)],
      host: "127.0.0.1",
      port: 0,
      limits: { wsSendBufferBytes: 1024 * 1024 },
      threads,
    });
    const { port, wsUrl } = await server.listen();
    const healthy = await openWs(wsUrl);
    // A raw client: upgrade, subscribe to the flood, then never read again (the kernel buffers fill, then ours).
    const socket = connect(port, "127.0.0.1");
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("error", reject);
      });
      socket.on("error", () => {}); // reset by the server: expected
      socket.write(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      );
      const upgraded = await new Promise<string>((resolve) => socket.once("data", (d) => resolve(String(d))));
      expect(upgraded).toMatch(/^HTTP\/1.1 101/);
      const body = Buffer.from(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "toy_flood", params: [] }));
      // One masked text frame (clients must mask); a zero mask keeps the payload as is.
      socket.write(Buffer.concat([Uint8Array.of(0x81, 0x80 | body.length, 0, 0, 0, 0), body]));
      socket.pause();
      await until(() => events.closed.length === 1, "the slow consumer cut off");
      expect(server.wsConnectionCount).toBe(1);
      // Cut off at the limit (kernel buffers plus 1 MiB of ours), long before the 4,000th notification.
      expect(events.flooded).toBeLessThan(4000);
      expect((await healthy.call({ jsonrpc: "2.0", id: 2, method: "toy_add", params: ["0x2", "0x3"] })).result).toBe("0x5");
      healthy.ws.close();
    } finally {
      socket.destroy();
      await server.close();
    }
  });

  it("fails listen() with LISTEN_FAILED when the port is taken", async () => {
    const first = createRpcServer({ tables: [], host: "127.0.0.1", port: 0, threads: 0 });
    const { port } = await first.listen();
    try {
      const second = createRpcServer({ tables: [], host: "127.0.0.1", port, threads });
      let err: unknown;
      try {
        await second.listen();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RpcServerError);
      expect((err as RpcServerError).code).toBe(RpcServerErrorCode.LISTEN_FAILED);
      expect(second.workers).toHaveLength(0);
    } finally {
      await first.close();
    }
  });
});

describe("rpc transport worker", () => {
  it("replaces a worker that dies, closing its WebSocket connections for the handlers", async () => {
    const events = { closed: [] as string[] };
    const errors: string[] = [];
    const logger = { ...silentLogger(), error: (_o: unknown, msg?: string) => errors.push(String(msg)) } as Logger;
    const server = createRpcServer({ tables: [toyTable(events)], host: "127.0.0.1", port: 0, threads: 1, logger });
    const { httpUrl, wsUrl, port } = await server.listen();
    try {
      const ws = await openWs(wsUrl);
      expect((await ws.call({ jsonrpc: "2.0", id: 1, method: "toy_subscribe", params: ["c"] })).result).toBe("0xc");
      const [old] = server.workers;
      await old.terminate();
      await until(() => events.closed.length === 1, "onClose after the crash");
      expect(server.wsConnectionCount).toBe(0);
      expect(errors).toContain("rpc worker exited unexpectedly, starting a new one");
      await until(() => server.workers.length === 1 && server.workers[0] !== old, "a new worker");
      // Same port, same answers.
      await until(
        () =>
          fetch(httpUrl, { method: "POST", body: '{"jsonrpc":"2.0","id":1,"method":"toy_add","params":["0x1","0x2"]}' }).then(
            async (r) => ((await r.json()) as RpcReply).result === "0x3",
            () => false,
          ),
        "answers from the new worker",
      );
      expect(server.address?.port).toBe(port);
    } finally {
      await server.close();
    }
  });

  it.skipIf(process.platform !== "linux")("serves one port from several workers (SO_REUSEPORT)", async () => {
    const server = createRpcServer({ tables: [toyTable({ closed: [] })], host: "127.0.0.1", port: 0, threads: 2 });
    const { httpUrl, wsUrl } = await server.listen();
    try {
      expect(server.workers).toHaveLength(2);
      // New connections are spread over the workers by the kernel; every one must be answered.
      const { Agent, request } = await import("node:http");
      const results = await Promise.all(
        Array.from(
          { length: 24 },
          (_, i) =>
            new Promise<string>((resolve, reject) => {
              const body = JSON.stringify({ jsonrpc: "2.0", id: i, method: "toy_add", params: ["0x1", `0x${i.toString(16)}`] });
              const req = request(httpUrl, { method: "POST", agent: new Agent({ keepAlive: false }) }, (res) => {
                let s = "";
                res.on("data", (c) => {
                  s += c;
                });
                res.on("end", () => resolve(JSON.parse(s).result));
              });
              req.on("error", reject);
              req.end(body);
            }),
        ),
      );
      expect(results).toEqual(Array.from({ length: 24 }, (_, i) => `0x${(i + 1).toString(16)}`));
      const ws = await openWs(wsUrl);
      expect((await ws.call({ jsonrpc: "2.0", id: 1, method: "toy_add", params: ["0x2", "0x2"] })).result).toBe("0x4");
    } finally {
      await server.close();
    }
  });
});

describe("transport thread against the in-thread transport", () => {
  const servers: RpcServer[] = [];
  let urls: string[] = [];
  beforeAll(async () => {
    for (const threads of [0, 1]) {
      servers.push(
        createRpcServer({
          tables: [toyTable({ closed: [] })],
          host: "127.0.0.1",
          port: 0,
          limits: { bodyBytes: 2048, batchLength: 4 },
          threads,
        }),
      );
    }
    urls = (await Promise.all(servers.map((s) => s.listen()))).map((a) => a.httpUrl);
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  const post = async (url: string, body: string) => {
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
    return {
      status: res.status,
      type: res.headers.get("content-type"),
      cors: res.headers.get("access-control-allow-origin"),
      text: await res.text(),
    };
  };

  it("answers the same random bodies identically (status, headers, text)", async () => {
    const method = fc.constantFrom("toy_add", "toy_echoAsync", "toy_revert", "toy_crash", "toy_admin", "toy_subscribe", "nope");
    const param = fc.oneof(fc.constantFrom("0x1", "0x02", "0xff", "x"), fc.integer(), fc.constant(null), fc.string());
    const call = fc.record(
      {
        jsonrpc: fc.constantFrom("2.0", "1.0"),
        id: fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), fc.constant(null), fc.constant({})),
        method,
        params: fc.oneof(fc.array(param, { maxLength: 3 }), fc.constant({ a: 1 })),
      },
      { requiredKeys: ["jsonrpc", "method"] },
    );
    const body = fc.oneof(
      call.map((c) => JSON.stringify(c)),
      fc.array(call, { maxLength: 6 }).map((b) => JSON.stringify(b)),
      fc.string({ maxLength: 40 }),
      fc.string({ minLength: 2100, maxLength: 2200 }), // over the body limit: 413
    );
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        const [inThread, viaWorker] = await Promise.all(urls.map((u) => post(u, b)));
        expect(viaWorker).toEqual(inThread);
      }),
      { numRuns: 150 },
    );
  });
});
