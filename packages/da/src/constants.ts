/**
 * EIP-4844 / EIP-7594 geometry (fixed by the Ethereum KZG trusted setup) and the payload framing built on it.
 * Kept free of imports so worker threads can load it cheaply.
 */
export const BYTES_PER_FIELD_ELEMENT = 32;
export const FIELD_ELEMENTS_PER_BLOB = 4096;
export const BYTES_PER_BLOB = BYTES_PER_FIELD_ELEMENT * FIELD_ELEMENTS_PER_BLOB; // 131072 = 128 KiB
export const CELLS_PER_BLOB = 128; // cells of the 2x extended blob
export const FIELD_ELEMENTS_PER_CELL = 64;
export const BYTES_PER_CELL = BYTES_PER_FIELD_ELEMENT * FIELD_ELEMENTS_PER_CELL; // 2048
/** Cells needed to recover a blob: the extension rate is 1/2. */
export const CELLS_FOR_RECOVERY = CELLS_PER_BLOB / 2;
export const BYTES_PER_COMMITMENT = 48;
export const BYTES_PER_PROOF = 48;

/**
 * Field-element-safe packing: 31 payload bytes per 32-byte element, the element's first (most significant,
 * big-endian) byte is zero, so every element is below the BLS12-381 scalar modulus whatever the data.
 */
export const USABLE_BYTES_PER_ELEMENT = 31;
export const USABLE_BYTES_PER_BLOB = USABLE_BYTES_PER_ELEMENT * FIELD_ELEMENTS_PER_BLOB; // 126976
/** Frame = u32 big-endian payload length ‖ payload ‖ zero padding to whole blobs. */
export const LENGTH_PREFIX_BYTES = 4;
/**
 * At most 256 blobs per payload: 256 × 126,976 = 32,505,856 frame bytes (31 × 2^20, the same frame size as
 * 0G's encoder), so the largest payload is 32,505,852 bytes (31 MiB minus the prefix).
 */
export const MAX_BLOBS_PER_PAYLOAD = 256;
export const MAX_PAYLOAD_BYTES = MAX_BLOBS_PER_PAYLOAD * USABLE_BYTES_PER_BLOB - LENGTH_PREFIX_BYTES;
