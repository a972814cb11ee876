export * from "./bls.ts";
export * from "./errors.ts";
export * from "./keccak.ts";
export * from "./keccak-batch.ts";
export * from "./secp256k1.ts";
