import { CodedError } from "@zgnode/utils";

/** Stable machine-readable codes for every way storage input can be refused. */
export const StorageErrorCode = {
  EMPTY_FILE: "STORAGE_EMPTY_FILE",
  FILE_READ: "STORAGE_FILE_READ",
  INVALID_ARGUMENT: "STORAGE_INVALID_ARGUMENT",
  // Submissions and Flow ABI
  ABI_SELECTOR: "STORAGE_ABI_UNKNOWN_SELECTOR",
  ABI_MALFORMED: "STORAGE_ABI_MALFORMED",
  SUBMISSION_INVALID: "STORAGE_SUBMISSION_INVALID",
  // Segments and proofs
  SEGMENT_INDEX: "STORAGE_SEGMENT_INDEX_OUT_OF_RANGE",
  SEGMENT_SIZE: "STORAGE_SEGMENT_SIZE",
  PROOF_FORMAT: "STORAGE_PROOF_FORMAT",
  PROOF_POSITION: "STORAGE_PROOF_POSITION",
  PROOF_CONTENT: "STORAGE_PROOF_CONTENT_MISMATCH",
  PROOF_ROOT: "STORAGE_PROOF_ROOT_MISMATCH",
  PROOF_HASH: "STORAGE_PROOF_HASH_MISMATCH",
  PROOF_PADDING: "STORAGE_PROOF_PADDING",
  // Erasure coding
  ERASURE_PARAMS: "STORAGE_ERASURE_PARAMS",
  ERASURE_SHARDS: "STORAGE_ERASURE_SHARDS",
  ERASURE_TOO_FEW: "STORAGE_ERASURE_TOO_FEW_SHARDS",
  ERASURE_MISMATCH: "STORAGE_ERASURE_PARITY_MISMATCH",
  ERASURE_UNAVAILABLE: "STORAGE_ERASURE_CODEC_UNAVAILABLE",
  // Segment store
  STORE_CLOSED: "STORAGE_STORE_CLOSED",
  STORE_CORRUPT: "STORAGE_STORE_CORRUPT",
  STORE_NOT_FOUND: "STORAGE_STORE_NOT_FOUND",
  STORE_CONFLICT: "STORAGE_STORE_CONFLICT",
  STORE_RANGE: "STORAGE_STORE_RANGE",
} as const;
export type StorageErrorCode = (typeof StorageErrorCode)[keyof typeof StorageErrorCode];

export class StorageError extends CodedError<StorageErrorCode> {
  constructor(code: StorageErrorCode, message: string, data?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(code, message, data, options);
    this.name = "StorageError";
  }
}
