export { errorText, type JsonRpcId, RpcDispatcher } from "./dispatcher.ts";
export { RpcServerError, RpcServerErrorCode } from "./errors.ts";
export { createRpcMetrics, type RpcMetrics, type RpcOutcome } from "./metrics.ts";
export { defaultRpcLimits, defaultRpcServerOptions, type RpcLimits, type RpcServerOptions } from "./options.ts";
export { createRpcServer, type RpcServer, type RpcServerAddress } from "./server.ts";
