import { CodedError } from "@zgnode/utils";

/** Stable codes for chain-level failures (import, validation, lookups, storage). */
export const ChainErrorCode = {
  /** A block failed header, body or execution validation; `message` says which rule. */
  INVALID_BLOCK: "CHAIN_INVALID_BLOCK",
  /** A block's parent is not stored. */
  UNKNOWN_PARENT: "CHAIN_UNKNOWN_PARENT",
  /** A block, receipt or state was asked for that is not stored. */
  NOT_FOUND: "CHAIN_NOT_FOUND",
  /** The stored database belongs to another genesis. */
  GENESIS_MISMATCH: "CHAIN_GENESIS_MISMATCH",
  /** A genesis file could not be parsed. */
  INVALID_GENESIS: "CHAIN_INVALID_GENESIS",
  /** An RLP chain file could not be decoded. */
  INVALID_RLP: "CHAIN_INVALID_RLP",
  /** The chain is closed. */
  CLOSED: "CHAIN_CLOSED",
} as const;
export type ChainErrorCode = (typeof ChainErrorCode)[keyof typeof ChainErrorCode];

export class ChainError extends CodedError<ChainErrorCode> {
  constructor(code: ChainErrorCode, message: string, data?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(code, message, data, options);
    this.name = "ChainError";
  }
}

/**
 * Transaction pool rejection codes. Each carries geth's exact message (`TX_POOL_MESSAGES`), which the RPC layer
 * returns verbatim as a -32000 error: wallets and SDKs match on these strings.
 */
export const TxPoolErrorCode = {
  NONCE_TOO_LOW: "TXPOOL_NONCE_TOO_LOW",
  NONCE_TOO_HIGH: "TXPOOL_NONCE_TOO_HIGH",
  REPLACEMENT_UNDERPRICED: "TXPOOL_REPLACEMENT_UNDERPRICED",
  INSUFFICIENT_FUNDS: "TXPOOL_INSUFFICIENT_FUNDS",
  INTRINSIC_GAS_TOO_LOW: "TXPOOL_INTRINSIC_GAS_TOO_LOW",
  FEE_CAP_TOO_LOW: "TXPOOL_FEE_CAP_TOO_LOW",
  UNDERPRICED: "TXPOOL_UNDERPRICED",
  INVALID_SENDER: "TXPOOL_INVALID_SENDER",
  INVALID_CHAIN_ID: "TXPOOL_INVALID_CHAIN_ID",
  GAS_LIMIT: "TXPOOL_GAS_LIMIT",
  ALREADY_KNOWN: "TXPOOL_ALREADY_KNOWN",
  POOL_FULL: "TXPOOL_FULL",
  OVERSIZED_DATA: "TXPOOL_OVERSIZED_DATA",
  TIP_ABOVE_FEE_CAP: "TXPOOL_TIP_ABOVE_FEE_CAP",
  TX_TYPE_NOT_SUPPORTED: "TXPOOL_TX_TYPE_NOT_SUPPORTED",
  INVALID_TX: "TXPOOL_INVALID_TX",
  NEGATIVE_VALUE: "TXPOOL_NEGATIVE_VALUE",
  FEE_CAP_VERY_HIGH: "TXPOOL_FEE_CAP_VERY_HIGH",
  INIT_CODE_TOO_LARGE: "TXPOOL_INIT_CODE_TOO_LARGE",
} as const;
export type TxPoolErrorCode = (typeof TxPoolErrorCode)[keyof typeof TxPoolErrorCode];

/** geth's wording (core/txpool/errors.go, core/error.go). */
export const TX_POOL_MESSAGES: Record<TxPoolErrorCode, string> = {
  TXPOOL_NONCE_TOO_LOW: "nonce too low",
  TXPOOL_NONCE_TOO_HIGH: "nonce too high",
  TXPOOL_REPLACEMENT_UNDERPRICED: "replacement transaction underpriced",
  TXPOOL_INSUFFICIENT_FUNDS: "insufficient funds for gas * price + value",
  TXPOOL_INTRINSIC_GAS_TOO_LOW: "intrinsic gas too low",
  TXPOOL_FEE_CAP_TOO_LOW: "max fee per gas less than block base fee",
  TXPOOL_UNDERPRICED: "transaction underpriced",
  TXPOOL_INVALID_SENDER: "invalid sender",
  TXPOOL_INVALID_CHAIN_ID: "invalid chain id",
  TXPOOL_GAS_LIMIT: "exceeds block gas limit",
  TXPOOL_ALREADY_KNOWN: "already known",
  TXPOOL_FULL: "txpool is full",
  TXPOOL_OVERSIZED_DATA: "oversized data",
  TXPOOL_TIP_ABOVE_FEE_CAP: "max priority fee per gas higher than max fee per gas",
  TXPOOL_TX_TYPE_NOT_SUPPORTED: "transaction type not supported",
  TXPOOL_INVALID_TX: "invalid transaction",
  TXPOOL_NEGATIVE_VALUE: "negative value",
  TXPOOL_FEE_CAP_VERY_HIGH: "fee cap higher than 2^256-1",
  TXPOOL_INIT_CODE_TOO_LARGE: "max initcode size exceeded",
};

/** A pool rejection. `message` starts with geth's text; `detail` (in `data`) explains the specific values. */
export class TxPoolError extends CodedError<TxPoolErrorCode> {
  /** geth's message alone, for clients that compare the whole string. */
  readonly gethMessage: string;

  constructor(code: TxPoolErrorCode, detail?: string) {
    const base = TX_POOL_MESSAGES[code];
    super(code, detail ? `${base}: ${detail}` : base, detail ? { detail } : undefined);
    this.name = "TxPoolError";
    this.gethMessage = base;
  }
}

export function isTxPoolError(err: unknown): err is TxPoolError {
  return err instanceof TxPoolError;
}

/** Codes of `ExecutionError` (eth_call / eth_estimateGas outcomes). */
export const ExecutionErrorCode = {
  /** The EVM reverted; `data.data` holds the revert bytes (hex). RPC: code 3, "execution reverted[: reason]". */
  REVERTED: "EXECUTION_REVERTED",
  /** The call could not run or failed otherwise (out of gas, invalid opcode, gas cap). RPC: -32000 with message. */
  FAILED: "EXECUTION_FAILED",
} as const;
export type ExecutionErrorCode = (typeof ExecutionErrorCode)[keyof typeof ExecutionErrorCode];

export class ExecutionError extends CodedError<ExecutionErrorCode> {
  /** Revert data as hex ("0x" when none). */
  readonly returnData: string;

  constructor(code: ExecutionErrorCode, message: string, returnData = "0x") {
    super(code, message, { data: returnData });
    this.name = "ExecutionError";
    this.returnData = returnData;
  }
}
