export * from "./attestation.ts";
export * from "./commitment.ts";
export * from "./constants.ts";
export * from "./errors.ts";
export * from "./framing.ts";
export {
  blobToCommitment,
  type EncodedBlob,
  encodeBlob,
  kzgPrecomputeLoaded,
  loadKzg,
  recoverCells,
  verifyCellBatch,
} from "./kzg.ts";
export * from "./metrics.ts";
export * from "./options.ts";
export * from "./payload.ts";
export * from "./pool.ts";
export * from "./quorum.ts";
export * from "./recovery.ts";
export * from "./sampling.ts";
export * from "./verify.ts";
