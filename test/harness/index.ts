export * from "./node.ts";
export * from "./testnet.ts";
