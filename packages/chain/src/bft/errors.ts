import { CodedError } from "@zgnode/utils";

export const BftErrorCode = {
  INVALID_PAYLOAD: "BFT_INVALID_PAYLOAD",
  INVALID_BLOCK: "BFT_INVALID_BLOCK",
  INVALID_EVIDENCE: "BFT_INVALID_EVIDENCE",
  NOT_FOUND: "BFT_NOT_FOUND",
  STAKING_UNAVAILABLE: "BFT_STAKING_UNAVAILABLE",
} as const;
export type BftErrorCode = (typeof BftErrorCode)[keyof typeof BftErrorCode];

export class BftError extends CodedError {}
