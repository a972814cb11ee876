import {
  type JsonSchema,
  type Logger,
  type RpcContext,
  RpcError,
  RpcErrorCode,
  type RpcMethod,
  type RpcMethodTable,
} from "@zgnode/utils";
import { Ajv2019 as Ajv, type ErrorObject, type ValidateFunction } from "ajv/dist/2019.js";
import { RpcServerError, RpcServerErrorCode } from "./errors.ts";
import type { RpcMetrics, RpcOutcome } from "./metrics.ts";
import { errorText } from "./text.ts";

export { errorText };

export type JsonRpcId = string | number | null;

interface CounterChild {
  inc(): void;
}
interface HistogramChild {
  observe(v: number): void;
}

/** A table entry prepared at mount: validators compiled once, metric children resolved once. */
interface CompiledMethod {
  name: string;
  method: RpcMethod;
  validators: ValidateFunction[];
  required: number;
  outcomes: Record<RpcOutcome, CounterChild>;
  duration: HistogramChild;
}

export interface DispatcherOptions {
  batchLength: number;
  logger: Logger;
  metrics: RpcMetrics;
}

const UNKNOWN_METHOD_LABEL = "<unknown>";

/**
 * Turns JSON-RPC request text into response text for any set of method tables. Transport-free: the HTTP and
 * WebSocket front ends both call `handleText`, so both get the same validation, errors, limits and metrics.
 */
export class RpcDispatcher {
  private readonly methods = new Map<string, CompiledMethod>();
  private readonly batchLength: number;
  private readonly logger: Logger;
  private readonly metrics: RpcMetrics;
  private readonly unknownCounter: CounterChild;

  constructor(tables: RpcMethodTable[], opts: DispatcherOptions) {
    this.batchLength = opts.batchLength;
    this.logger = opts.logger;
    this.metrics = opts.metrics;
    this.unknownCounter = opts.metrics.requests.labels(UNKNOWN_METHOD_LABEL, "invalid");
    const ajv = new Ajv({ strict: false, allErrors: false, coerceTypes: false, useDefaults: false });
    // Schemas are shared between methods (rpcSchemas.address, ...): compile each distinct one once.
    const compiled = new Map<string, ValidateFunction>();
    const compile = (name: string, schema: JsonSchema): ValidateFunction => {
      const key = JSON.stringify(schema);
      let fn = compiled.get(key);
      if (!fn) {
        try {
          fn = ajv.compile(schema);
        } catch (err) {
          throw new RpcServerError(
            RpcServerErrorCode.INVALID_SCHEMA,
            `invalid parameter schema for ${name}`,
            { method: name },
            { cause: err },
          );
        }
        compiled.set(key, fn);
      }
      return fn;
    };
    for (const table of tables) {
      for (const [name, method] of Object.entries(table)) {
        if (this.methods.has(name)) {
          throw new RpcServerError(RpcServerErrorCode.DUPLICATE_METHOD, `method ${name} is declared twice`, { method: name });
        }
        const requests = opts.metrics.requests;
        this.methods.set(name, {
          name,
          method,
          validators: method.params.map((s) => compile(name, s)),
          required: method.required ?? method.params.length,
          outcomes: {
            ok: requests.labels(name, "ok"),
            error: requests.labels(name, "error"),
            invalid: requests.labels(name, "invalid"),
            internal: requests.labels(name, "internal"),
          },
          duration: opts.metrics.duration.labels(name),
        });
      }
    }
  }

  get methodNames(): string[] {
    return [...this.methods.keys()];
  }

  /**
   * Handles one request body (single call or batch). Returns the response text, or undefined when nothing
   * must be sent (notifications only).
   */
  handleText(text: string, ctx: RpcContext): Promise<string | undefined> | string | undefined {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      this.metrics.rejected.labels("parse").inc();
      return errorText(null, RpcErrorCode.PARSE_ERROR, "parse error");
    }
    if (Array.isArray(msg)) return this.handleBatch(msg, ctx);
    return this.handleSingle(msg, ctx);
  }

  private async handleBatch(batch: unknown[], ctx: RpcContext): Promise<string | undefined> {
    if (batch.length === 0) {
      this.metrics.rejected.labels("invalid_request").inc();
      return errorText(null, RpcErrorCode.INVALID_REQUEST, "empty batch");
    }
    if (batch.length > this.batchLength) {
      // geth: one error for the whole batch, carrying the id of its first call.
      this.metrics.rejected.labels("batch_too_large").inc();
      let id: JsonRpcId = null;
      for (const m of batch) {
        if (isObject(m) && isValidId(m.id)) {
          id = m.id as JsonRpcId;
          break;
        }
      }
      return `[${errorText(id, RpcErrorCode.INVALID_REQUEST, "batch too large")}]`;
    }
    const parts = await Promise.all(batch.map((m) => this.handleSingle(m, ctx)));
    let out = "";
    for (const p of parts) {
      if (p === undefined) continue;
      out += out.length === 0 ? `[${p}` : `,${p}`;
    }
    return out.length === 0 ? undefined : `${out}]`;
  }

  private handleSingle(msg: unknown, ctx: RpcContext): Promise<string | undefined> | string | undefined {
    if (!isObject(msg)) return this.invalidRequest(null);
    const id = msg.id;
    const hasId = id !== undefined;
    if (hasId && !isValidId(id)) return this.invalidRequest(null);
    const rid = hasId ? (id as JsonRpcId) : null;
    if (msg.jsonrpc !== "2.0" || typeof msg.method !== "string" || msg.method.length === 0) return this.invalidRequest(rid);
    const entry = this.methods.get(msg.method);
    if (entry === undefined) {
      this.unknownCounter.inc();
      if (!hasId) return undefined;
      return errorText(
        rid,
        RpcErrorCode.METHOD_NOT_FOUND,
        `the method ${msg.method.slice(0, 100)} does not exist/is not available`,
      );
    }
    const result = this.call(entry, msg.params, ctx);
    if (!hasId) {
      // Notifications run but get no answer; swallow their outcome (already counted).
      if (result instanceof Promise) result.catch(() => {});
      return undefined;
    }
    if (result instanceof Promise) return result.then((r) => this.format(rid, r));
    return this.format(rid, result);
  }

  private invalidRequest(id: JsonRpcId): string {
    this.metrics.rejected.labels("invalid_request").inc();
    return errorText(id, RpcErrorCode.INVALID_REQUEST, "invalid request");
  }

  private format(id: JsonRpcId, r: CallResult): string {
    if (r.ok) {
      try {
        return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${r.value === undefined ? "null" : JSON.stringify(r.value)}}`;
      } catch (err) {
        this.logger.error({ err }, "rpc result not serializable");
        return errorText(id, RpcErrorCode.INTERNAL_ERROR, "internal error");
      }
    }
    return errorText(id, r.code, r.message, r.data);
  }

  /** Validates params and runs the handler; never throws. Sync handlers stay sync (no extra promise). */
  private call(entry: CompiledMethod, rawParams: unknown, ctx: RpcContext): CallResult | Promise<CallResult> {
    const start = performance.now();
    if (entry.method.admin && !ctx.admin) {
      entry.outcomes.invalid.inc();
      return fail(
        RpcErrorCode.METHOD_NOT_FOUND,
        `the method ${entry.name} is only available to admin callers (localhost or token)`,
      );
    }
    if (entry.method.wsOnly && ctx.transport !== "ws") {
      entry.outcomes.invalid.inc();
      return fail(RpcErrorCode.METHOD_NOT_FOUND, "notifications not supported");
    }
    const params = this.validateParams(entry, rawParams);
    if (!Array.isArray(params)) {
      entry.outcomes.invalid.inc();
      return params;
    }
    let value: unknown;
    try {
      value = entry.method.handler(params, ctx);
    } catch (err) {
      return this.failure(entry, err, start);
    }
    if (isThenable(value)) {
      return Promise.resolve(value).then(
        (v) => this.success(entry, v, start),
        (err: unknown) => this.failure(entry, err, start),
      );
    }
    return this.success(entry, value, start);
  }

  private success(entry: CompiledMethod, value: unknown, start: number): CallResult {
    entry.outcomes.ok.inc();
    entry.duration.observe((performance.now() - start) / 1000);
    return { ok: true, value };
  }

  private failure(entry: CompiledMethod, err: unknown, start: number): CallResult {
    entry.duration.observe((performance.now() - start) / 1000);
    if (err instanceof RpcError) {
      entry.outcomes.error.inc();
      return fail(err.code, err.message, err.data);
    }
    entry.outcomes.internal.inc();
    // Unexpected exceptions are bugs: log them in full here, answer without internals.
    this.logger.error({ err, method: entry.name }, "rpc handler failed");
    return fail(RpcErrorCode.INTERNAL_ERROR, "internal error");
  }

  /** Returns the positional params (nulls in optional slots become undefined) or a -32602 failure. */
  private validateParams(entry: CompiledMethod, raw: unknown): unknown[] | CallResult {
    let params: unknown[];
    if (raw === undefined || raw === null) params = [];
    else if (Array.isArray(raw)) params = raw;
    else return fail(RpcErrorCode.INVALID_PARAMS, "non-array args");
    const validators = entry.validators;
    if (params.length > validators.length) {
      // Trailing nulls are tolerated (some clients pad); anything else is an error, like geth.
      for (let i = validators.length; i < params.length; i++) {
        if (params[i] !== null) return fail(RpcErrorCode.INVALID_PARAMS, `too many arguments, want at most ${validators.length}`);
      }
      params = params.slice(0, validators.length);
    }
    let copied = false;
    for (let i = 0; i < params.length; i++) {
      const p = params[i];
      if ((p === null || p === undefined) && i >= entry.required) {
        if (!copied) {
          params = params.slice();
          copied = true;
        }
        params[i] = undefined;
        continue;
      }
      const validate = validators[i];
      if (!validate(p)) return fail(RpcErrorCode.INVALID_PARAMS, `invalid argument ${i}: ${describeErrors(validate.errors)}`);
    }
    if (params.length < entry.required)
      return fail(RpcErrorCode.INVALID_PARAMS, `missing value for required argument ${params.length}`);
    return params;
  }
}

type CallResult = { ok: true; value: unknown } | { ok: false; code: number; message: string; data: unknown };

function fail(code: number, message: string, data?: unknown): CallResult {
  return { ok: false, code, message, data };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isValidId(id: unknown): boolean {
  return id === null || typeof id === "string" || (typeof id === "number" && Number.isFinite(id));
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === "object" && v !== null && typeof (v as { then?: unknown }).then === "function";
}

/** A short human message from ajv errors: the deepest failing keyword, with its path inside the argument. */
function describeErrors(errors: ErrorObject[] | null | undefined): string {
  if (!errors || errors.length === 0) return "invalid value";
  // For anyOf/oneOf ajv lists every branch then the combinator; the combinator alone says most.
  const last = errors[errors.length - 1];
  const e = last.keyword === "anyOf" || last.keyword === "oneOf" ? last : errors[0];
  const where = e.instancePath ? `${e.instancePath} ` : "";
  let text: string;
  if (e.keyword === "pattern") text = `${where}has an invalid format`;
  else if (e.keyword === "anyOf" || e.keyword === "oneOf") text = `${where}does not match any accepted form`;
  else if (e.keyword === "additionalProperties")
    text = `${where}has an unknown field ${JSON.stringify((e.params as { additionalProperty?: string }).additionalProperty)}`;
  else text = `${where}${e.message ?? "is invalid"}`;
  return text.slice(0, 300);
}
