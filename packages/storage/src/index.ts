export * from "./constants.ts";
export * from "./errors.ts";
export * from "./file-source.ts";
export * from "./file-tree.ts";
export * from "./merkle.ts";
export * from "./segment-hasher.ts";
export * from "./segment-proof.ts";
export * from "./submission.ts";
