import { CodedError } from "@zgnode/utils";

export const NodeErrorCode = {
  /** A flag or environment variable has an unusable value. */
  BAD_FLAG: "NODE_BAD_FLAG",
  /** The command line names no known command. */
  UNKNOWN_COMMAND: "NODE_UNKNOWN_COMMAND",
  /** A file given on the command line cannot be read or parsed. */
  BAD_FILE: "NODE_BAD_FILE",
  /** A subsystem failed to start. */
  START_FAILED: "NODE_START_FAILED",
} as const;
export type NodeErrorCode = (typeof NodeErrorCode)[keyof typeof NodeErrorCode];

export class NodeError extends CodedError<NodeErrorCode> {
  constructor(code: NodeErrorCode, message: string, data?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(code, message, data, options);
    this.name = "NodeError";
  }
}
