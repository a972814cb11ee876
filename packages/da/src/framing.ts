import {
  BYTES_PER_BLOB,
  BYTES_PER_FIELD_ELEMENT,
  FIELD_ELEMENTS_PER_BLOB,
  LENGTH_PREFIX_BYTES,
  MAX_BLOBS_PER_PAYLOAD,
  MAX_PAYLOAD_BYTES,
  USABLE_BYTES_PER_BLOB,
  USABLE_BYTES_PER_ELEMENT,
} from "./constants.ts";
import { DaError, DaErrorCode } from "./errors.ts";

/**
 * Payload framing. The frame is `u32be(length) ‖ payload ‖ zeros`, cut into 31-byte pieces, each stored in the low
 * 31 bytes of a big-endian field element whose top byte is zero (always below the BLS12-381 modulus). The frame
 * fills whole blobs; the blob count follows from the length, so an encoding is canonical: one payload, one set of
 * blobs, one root. Decoding rejects anything else (non-zero top bytes or padding, a wrong blob count).
 */

export function blobCountForLength(length: number): number {
  checkPayloadLength(length);
  return Math.max(1, Math.ceil((length + LENGTH_PREFIX_BYTES) / USABLE_BYTES_PER_BLOB));
}

export function checkPayloadLength(length: number, max = MAX_PAYLOAD_BYTES): void {
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new DaError(DaErrorCode.INVALID_ARGUMENT, `payload length must be a non-negative integer, got ${length}`);
  }
  if (length > Math.min(max, MAX_PAYLOAD_BYTES)) {
    throw new DaError(DaErrorCode.PAYLOAD_TOO_LARGE, `payload of ${length} bytes exceeds the ${max}-byte maximum`, {
      length,
      max,
    });
  }
}

/** The frame of a payload: `u32be(length) ‖ payload ‖ zeros`, a whole number of blobs' worth of usable bytes. */
export function framePayload(payload: Uint8Array, maxPayloadBytes = MAX_PAYLOAD_BYTES): Uint8Array {
  checkPayloadLength(payload.length, maxPayloadBytes);
  const frame = new Uint8Array(blobCountForLength(payload.length) * USABLE_BYTES_PER_BLOB);
  new DataView(frame.buffer).setUint32(0, payload.length, false);
  frame.set(payload, LENGTH_PREFIX_BYTES);
  return frame;
}

/** Packs blob `b` of a frame: 31 frame bytes into the low bytes of each 32-byte element. */
export function packBlob(frame: Uint8Array, b: number): Uint8Array {
  const blob = new Uint8Array(BYTES_PER_BLOB);
  const base = b * USABLE_BYTES_PER_BLOB;
  for (let e = 0; e < FIELD_ELEMENTS_PER_BLOB; e++) {
    const from = base + e * USABLE_BYTES_PER_ELEMENT;
    blob.set(frame.subarray(from, from + USABLE_BYTES_PER_ELEMENT), e * BYTES_PER_FIELD_ELEMENT + 1);
  }
  return blob;
}

/** Frames a payload into EIP-4844 blobs (128 KiB each, every element canonical). */
export function payloadToBlobs(payload: Uint8Array, maxPayloadBytes = MAX_PAYLOAD_BYTES): Uint8Array[] {
  const frame = framePayload(payload, maxPayloadBytes);
  const blobs: Uint8Array[] = [];
  for (let b = 0; b < frame.length / USABLE_BYTES_PER_BLOB; b++) blobs.push(packBlob(frame, b));
  return blobs;
}

/** Inverse of `payloadToBlobs`; throws `DA_INVALID_FRAME` on anything `payloadToBlobs` could not have produced. */
export function blobsToPayload(blobs: Uint8Array[]): Uint8Array {
  if (blobs.length === 0 || blobs.length > MAX_BLOBS_PER_PAYLOAD) {
    throw new DaError(DaErrorCode.INVALID_FRAME, `a payload has 1..${MAX_BLOBS_PER_PAYLOAD} blobs, got ${blobs.length}`);
  }
  const frame = new Uint8Array(blobs.length * USABLE_BYTES_PER_BLOB);
  for (let b = 0; b < blobs.length; b++) {
    const blob = blobs[b];
    if (!(blob instanceof Uint8Array) || blob.length !== BYTES_PER_BLOB) {
      throw new DaError(DaErrorCode.INVALID_LENGTH, `blob ${b} must be ${BYTES_PER_BLOB} bytes`, { blob: b });
    }
    const base = b * USABLE_BYTES_PER_BLOB;
    for (let e = 0; e < FIELD_ELEMENTS_PER_BLOB; e++) {
      const at = e * BYTES_PER_FIELD_ELEMENT;
      if (blob[at] !== 0) {
        throw new DaError(DaErrorCode.INVALID_FRAME, `blob ${b} element ${e} has a non-zero top byte`, {
          blob: b,
          element: e,
        });
      }
      frame.set(blob.subarray(at + 1, at + BYTES_PER_FIELD_ELEMENT), base + e * USABLE_BYTES_PER_ELEMENT);
    }
  }
  const length = new DataView(frame.buffer).getUint32(0, false);
  if (length > MAX_PAYLOAD_BYTES || length + LENGTH_PREFIX_BYTES > frame.length) {
    throw new DaError(DaErrorCode.INVALID_FRAME, `length prefix ${length} does not fit in ${blobs.length} blobs`, {
      length,
    });
  }
  if (blobCountForLength(length) !== blobs.length) {
    throw new DaError(
      DaErrorCode.INVALID_FRAME,
      `length ${length} needs ${blobCountForLength(length)} blobs, frame has ${blobs.length}`,
      { length },
    );
  }
  const end = LENGTH_PREFIX_BYTES + length;
  for (let i = end; i < frame.length; i++) {
    if (frame[i] !== 0) throw new DaError(DaErrorCode.INVALID_FRAME, "non-zero byte in frame padding", { offset: i });
  }
  return frame.slice(LENGTH_PREFIX_BYTES, end);
}
