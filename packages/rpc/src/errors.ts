import { CodedError } from "@zgnode/utils";

export const RpcServerErrorCode = {
  /** Two mounted tables declare the same method. */
  DUPLICATE_METHOD: "RPC_DUPLICATE_METHOD",
  /** A method's parameter schema does not compile. */
  INVALID_SCHEMA: "RPC_INVALID_SCHEMA",
  /** The server could not bind its port. */
  LISTEN_FAILED: "RPC_LISTEN_FAILED",
} as const;
export type RpcServerErrorCode = (typeof RpcServerErrorCode)[keyof typeof RpcServerErrorCode];

export class RpcServerError extends CodedError<RpcServerErrorCode> {
  constructor(code: RpcServerErrorCode, message: string, data?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(code, message, data, options);
    this.name = "RpcServerError";
  }
}
