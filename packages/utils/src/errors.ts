/**
 * A coded error: `code` is stable and machine-readable (clients and tests match on it), `message` is for humans.
 * Every package declares its own codes in its `errors.ts` and throws `CodedError`s (or subclasses) with them.
 */
export class CodedError<C extends string = string> extends Error {
  readonly code: C;
  readonly data: Record<string, unknown> | undefined;

  constructor(code: C, message: string, data?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CodedError";
    this.code = code;
    this.data = data;
  }
}

export function isCodedError(err: unknown): err is CodedError {
  return err instanceof CodedError;
}

/** Throws a coded error when `cond` is false. */
export function assertCoded<C extends string>(
  cond: unknown,
  code: C,
  message: string,
  data?: Record<string, unknown>,
): asserts cond {
  if (!cond) throw new CodedError(code, message, data);
}
