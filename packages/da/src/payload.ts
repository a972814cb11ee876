import { computePayloadRoot } from "./commitment.ts";
import { MAX_PAYLOAD_BYTES } from "./constants.ts";
import { payloadToBlobs } from "./framing.ts";
import { type EncodedBlob, encodeBlob } from "./kzg.ts";

/** What a verifier or sampler needs to check cells of a payload: the root, the length and the blob commitments. */
export interface PayloadHeader {
  root: Uint8Array;
  length: number;
  commitments: Uint8Array[];
}

export interface EncodedPayload extends PayloadHeader {
  blobs: EncodedBlob[];
}

/** Builds the payload header from encoded blobs. */
export function assemblePayload(length: number, blobs: EncodedBlob[]): EncodedPayload {
  const commitments = blobs.map((b) => b.commitment);
  return { root: computePayloadRoot(commitments, length), length, commitments, blobs };
}

/**
 * Encodes a payload on the calling thread: framing, then commitment, cells and proofs per blob. About a quarter of
 * a second of native work per 124 KiB blob, so the node uses `KzgWorkerPool.encodePayload`; this is the
 * single-core reference and the path for tools.
 */
export function encodePayload(payload: Uint8Array, maxPayloadBytes = MAX_PAYLOAD_BYTES): EncodedPayload {
  const blobs = payloadToBlobs(payload, maxPayloadBytes);
  return assemblePayload(payload.length, blobs.map(encodeBlob));
}

export function payloadHeader(encoded: EncodedPayload): PayloadHeader {
  return { root: encoded.root, length: encoded.length, commitments: encoded.commitments };
}
