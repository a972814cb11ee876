export * from "./node.ts";
