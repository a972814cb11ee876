export * from "./bytes.ts";
export * from "./errors.ts";
export * from "./logger.ts";
export * from "./metrics.ts";
export * from "./options.ts";
export * from "./queue.ts";
export * from "./rpc.ts";
