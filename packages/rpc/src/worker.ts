/**
 * The transport thread: runs the fastify server (HTTP, WebSocket, /health, /metrics, limits, admin detection) and
 * passes request text to the dispatcher on the main thread over the worker's MessagePort. Message formats are in
 * `threads.ts`; the hot ones are plain strings (cheaper to post than objects).
 */
import type { ServerResponse } from "node:http";
import { parentPort, workerData } from "node:worker_threads";
import { createFront, type FrontOptions } from "./front.ts";
import { Outbox } from "./outbox.ts";
import type { MainControl, WorkerControl } from "./threads.ts";

if (parentPort === null) throw new Error("rpc worker.ts must run in a worker thread");
const out = new Outbox<string | WorkerControl>(parentPort);
const ANSWER = 114; // "r"
const WS_ANSWER = 119; // "w"

const pending = new Map<number, ServerResponse>();
const asks = new Map<number, { resolve: (text: string) => void; reject: (err: Error) => void }>();
let nextId = 0;

const ask = (t: "health" | "metrics"): Promise<string> =>
  new Promise((resolve, reject) => {
    const id = ++nextId;
    asks.set(id, { resolve, reject });
    out.push({ t, id });
  });

const front = createFront(workerData as FrontOptions, {
  post(text, remoteAddress, admin, res) {
    const id = ++nextId;
    pending.set(id, res);
    out.push(`h${id} ${admin ? 1 : 0} ${remoteAddress ?? ""}\n${text}`);
  },
  wsOpen(conn, remoteAddress, admin) {
    out.push({ t: "open", conn, remoteAddress, admin });
  },
  wsMessage(conn, text) {
    out.push(`m${conn}\n${text}`);
  },
  wsClose(conn) {
    out.push({ t: "close", conn });
  },
  health: () => ask("health"),
  metrics: () => ask("metrics"),
  rejected(reason) {
    out.push({ t: "reject", reason });
  },
  log(level, data, msg) {
    out.push({ t: "log", level, data, msg });
  },
});

parentPort.on("message", (m: string | MainControl) => {
  if (typeof m === "string") {
    const nl = m.indexOf("\n");
    const kind = m.charCodeAt(0);
    if (kind === ANSWER) {
      const id = Number(nl < 0 ? m.slice(1) : m.slice(1, nl));
      const res = pending.get(id);
      if (res === undefined) return;
      pending.delete(id);
      front.answer(res, nl < 0 ? undefined : m.slice(nl + 1));
      return;
    }
    const conn = Number(m.slice(1, nl));
    if (kind === WS_ANSWER) front.send(conn, m.slice(nl + 1));
    else front.notify(conn, m.slice(nl + 1));
    return;
  }
  switch (m.t) {
    case "ans": {
      const a = asks.get(m.id);
      if (a === undefined) return;
      asks.delete(m.id);
      if (m.ok) a.resolve(m.text);
      else a.reject(new Error(m.text));
      return;
    }
    case "refuse":
      front.closeWs(m.conn, 1013, "too many connections");
      return;
    case "shutdown":
      // setImmediate: after the outbox's pending flush (connection closes for the main thread).
      front.close().then(
        () => setImmediate(() => process.exit(0)),
        () => setImmediate(() => process.exit(1)),
      );
      return;
  }
});

try {
  out.push({ t: "listening", port: await front.listen() });
} catch (err) {
  out.push({ t: "listenFailed", message: (err as Error).message, code: (err as { code?: string }).code });
}
