export const DbErrorCode = {
  NOT_OPEN: "DB_NOT_OPEN",
  CORRUPT: "DB_CORRUPT",
  LOCKED: "DB_LOCKED",
} as const;
export type DbErrorCode = (typeof DbErrorCode)[keyof typeof DbErrorCode];
