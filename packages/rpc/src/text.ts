import type { JsonRpcId } from "./dispatcher.ts";

/**
 * A JSON-RPC error response as text. It lives apart from the dispatcher so the transport worker can build its own
 * error answers (413) without loading ajv, pino or prom-client.
 */
export function errorText(id: JsonRpcId, code: number, message: string, data?: unknown): string {
  let err: string;
  try {
    err = JSON.stringify(data === undefined ? { code, message } : { code, message, data });
  } catch {
    // Unserializable data (a bigint, a cycle) must not turn an error answer into a crash: drop the data.
    err = JSON.stringify({ code, message });
  }
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"error":${err}}`;
}
