import { CodedError } from "@zgnode/utils";

/** Stable error codes of the DA package: clients and tests match on these, never on messages. */
export const DaErrorCode = {
  /** Payload longer than `MAX_PAYLOAD_BYTES`. */
  PAYLOAD_TOO_LARGE: "DA_PAYLOAD_TOO_LARGE",
  /** A blob, cell, proof or commitment has the wrong length or is not canonical. */
  INVALID_LENGTH: "DA_INVALID_LENGTH",
  /** Framed blobs do not decode to a payload (bad length prefix, non-zero padding, non-canonical element). */
  INVALID_FRAME: "DA_INVALID_FRAME",
  /** A blob or cell index is out of range or repeated. */
  INVALID_INDEX: "DA_INVALID_INDEX",
  /** A cell does not match its KZG proof and commitment; `data` names `blob` and `index`. */
  INVALID_CELL_PROOF: "DA_INVALID_CELL_PROOF",
  /** Fewer than half of a blob's cells are available. */
  NOT_ENOUGH_CELLS: "DA_NOT_ENOUGH_CELLS",
  /** The blob commitments do not hash to the payload root. */
  ROOT_MISMATCH: "DA_ROOT_MISMATCH",
  /** The native KZG library rejected its input or failed. */
  KZG_FAILURE: "DA_KZG_FAILURE",
  /** The worker pool is closed or a worker died. */
  POOL_CLOSED: "DA_POOL_CLOSED",
  WORKER_FAILED: "DA_WORKER_FAILED",
  /** Validator set is malformed (duplicate address, bad key, non-positive stake, empty). */
  INVALID_VALIDATOR_SET: "DA_INVALID_VALIDATOR_SET",
  /** Bitmap length does not match the quorum or marks nobody. */
  INVALID_BITMAP: "DA_INVALID_BITMAP",
  /** Signed stake is not more than 2/3 of the quorum's stake. */
  BELOW_THRESHOLD: "DA_BELOW_THRESHOLD",
  /** An (aggregate) signature or a proof of possession does not verify. */
  INVALID_SIGNATURE: "DA_INVALID_SIGNATURE",
  INVALID_PROOF_OF_POSSESSION: "DA_INVALID_PROOF_OF_POSSESSION",
  /** Bad argument to a DA function (range, type). */
  INVALID_ARGUMENT: "DA_INVALID_ARGUMENT",
} as const;
export type DaErrorCode = (typeof DaErrorCode)[keyof typeof DaErrorCode];

export class DaError extends CodedError<DaErrorCode> {
  constructor(code: DaErrorCode, message: string, data?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(code, message, data, options);
    this.name = "DaError";
  }
}
