/**
 * The contract between domain packages and the JSON-RPC server. A domain package (chain, storage, da, ...)
 * exports a `RpcMethodTable`; `packages/rpc` serves any table without knowing its methods; `apps/node` mounts them.
 * It lives here, at the bottom of the stack, so domain packages never import the server.
 */

/** A JSON Schema (draft 2019-09 subset, compiled by ajv in the server). */
export type JsonSchema = Record<string, unknown>;

/** Standard JSON-RPC 2.0 and geth-compatible error codes. */
export const RpcErrorCode = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  /** geth's generic server error: nonce too low, insufficient funds, unknown block, ... */
  SERVER_ERROR: -32000,
  /** geth: resource not found (unknown block for eth_call etc). */
  RESOURCE_NOT_FOUND: -32001,
  /** geth: limit exceeded (batch too large, range too large). */
  LIMIT_EXCEEDED: -32005,
  /** EVM revert; `data` holds the revert bytes as hex. */
  EXECUTION_REVERTED: 3,
} as const;

/** An error a method handler throws to answer with a JSON-RPC error object. */
export class RpcError extends Error {
  readonly code: number;
  readonly data: unknown;

  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.name = "RpcError";
    this.code = code;
    this.data = data;
  }
}

export function invalidParams(message: string): RpcError {
  return new RpcError(RpcErrorCode.INVALID_PARAMS, message);
}

/** A live client connection (WebSocket), for methods that push notifications (`eth_subscribe`). */
export interface RpcConnection {
  readonly id: string;
  /** Sends a JSON-RPC notification object to the client. */
  notify(method: string, params: unknown): void;
  /** Registers cleanup to run when the connection closes. */
  onClose(cb: () => void): void;
}

export interface RpcContext {
  transport: "http" | "ws";
  remoteAddress: string | undefined;
  /** Present on WebSocket requests only. */
  connection: RpcConnection | undefined;
  /** True when the caller may use admin methods (localhost or a valid token). */
  admin: boolean;
}

export interface RpcMethod {
  /**
   * Positional parameter schemas. The server validates `params[i]` against `params[i]` before calling the
   * handler and answers -32602 on failure. Trailing params beyond `required` may be omitted (undefined).
   */
  params: JsonSchema[];
  /** How many leading params are mandatory (defaults to params.length). */
  required?: number;
  /** Only callable with admin rights. */
  admin?: boolean;
  /** Only callable over WebSocket (subscriptions). */
  wsOnly?: boolean;
  handler(params: unknown[], ctx: RpcContext): unknown | Promise<unknown>;
}

export type RpcMethodTable = Record<string, RpcMethod>;

/** Shared schemas for Ethereum JSON-RPC values (execution-apis naming). */
export const rpcSchemas = {
  quantity: { type: "string", pattern: "^0x(0|[1-9a-fA-F][0-9a-fA-F]*)$" },
  /** Lenient uint (some clients send leading zeros, e.g. 0x01). */
  uint: { type: "string", pattern: "^0x[0-9a-fA-F]{1,64}$" },
  data: { type: "string", pattern: "^0x([0-9a-fA-F]{2})*$" },
  address: { type: "string", pattern: "^0x[0-9a-fA-F]{40}$" },
  hash32: { type: "string", pattern: "^0x[0-9a-fA-F]{64}$" },
  bool: { type: "boolean" },
  blockTag: { type: "string", enum: ["latest", "earliest", "pending", "safe", "finalized"] },
  blockNumberOrTag: {
    anyOf: [
      { type: "string", pattern: "^0x[0-9a-fA-F]{1,16}$" },
      { type: "string", enum: ["latest", "earliest", "pending", "safe", "finalized"] },
    ],
  },
  /** Block number, tag, or EIP-1898 {blockHash, requireCanonical} / {blockNumber}. */
  blockId: {
    anyOf: [
      { type: "string", pattern: "^0x[0-9a-fA-F]{1,16}$" },
      { type: "string", pattern: "^0x[0-9a-fA-F]{64}$" },
      { type: "string", enum: ["latest", "earliest", "pending", "safe", "finalized"] },
      {
        type: "object",
        properties: {
          blockHash: { type: "string", pattern: "^0x[0-9a-fA-F]{64}$" },
          blockNumber: { type: "string", pattern: "^0x[0-9a-fA-F]{1,16}$" },
          requireCanonical: { type: "boolean" },
        },
        additionalProperties: false,
      },
    ],
  },
  any: {},
} as const satisfies Record<string, JsonSchema>;
