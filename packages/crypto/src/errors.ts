export const CryptoErrorCode = {
  INVALID_LENGTH: "CRYPTO_INVALID_LENGTH",
  INVALID_KEY: "CRYPTO_INVALID_KEY",
  INVALID_SIGNATURE: "CRYPTO_INVALID_SIGNATURE",
} as const;
export type CryptoErrorCode = (typeof CryptoErrorCode)[keyof typeof CryptoErrorCode];
