import { Counter, Gauge, Histogram, type Registry } from "@zgnode/utils";

/** How a call ended: `ok`, an application error from the handler, bad params, or an unexpected exception. */
export type RpcOutcome = "ok" | "error" | "invalid" | "internal";

export function createRpcMetrics(registry: Registry) {
  return {
    requests: new Counter({
      name: "zgnode_rpc_requests_total",
      help: "JSON-RPC calls by method and outcome (ok, error, invalid, internal)",
      labelNames: ["method", "outcome"] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: "zgnode_rpc_request_duration_seconds",
      help: "JSON-RPC call latency by method, from dispatch to result",
      labelNames: ["method"] as const,
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    }),
    rejected: new Counter({
      name: "zgnode_rpc_rejected_total",
      help: "Requests rejected before dispatch (parse, invalid_request, body_too_large, batch_too_large)",
      labelNames: ["reason"] as const,
      registers: [registry],
    }),
    wsConnections: new Gauge({
      name: "zgnode_rpc_ws_connections",
      help: "Open JSON-RPC WebSocket connections",
      registers: [registry],
    }),
  };
}

export type RpcMetrics = ReturnType<typeof createRpcMetrics>;
