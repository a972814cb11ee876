import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BYTES_PER_BLOB,
  blobCountForLength,
  blobsToPayload,
  DaErrorCode,
  MAX_PAYLOAD_BYTES,
  payloadToBlobs,
  USABLE_BYTES_PER_BLOB,
} from "../src/index.ts";
import { seededBytes } from "./helpers.ts";

describe("payload framing", () => {
  it("documents a maximum of at least 16 MiB", () => {
    expect(MAX_PAYLOAD_BYTES).toBeGreaterThanOrEqual(16 * 1024 * 1024);
    expect(blobCountForLength(MAX_PAYLOAD_BYTES)).toBe(256);
  });

  it("round-trips payloads at blob boundaries", () => {
    for (const length of [0, 1, 31, 32, USABLE_BYTES_PER_BLOB - 4, USABLE_BYTES_PER_BLOB - 3, 2 * USABLE_BYTES_PER_BLOB]) {
      const payload = seededBytes(length, length);
      const blobs = payloadToBlobs(payload);
      expect(blobs.length).toBe(blobCountForLength(length));
      expect(blobs.length).toBe(Math.max(1, Math.ceil((length + 4) / USABLE_BYTES_PER_BLOB)));
      for (const b of blobs) expect(b.length).toBe(BYTES_PER_BLOB);
      expect(blobsToPayload(blobs)).toEqual(payload);
    }
  });

  it("keeps every field element canonical (top byte zero) even for 0xff data", () => {
    const blobs = payloadToBlobs(new Uint8Array(200_000).fill(0xff));
    for (const blob of blobs) for (let e = 0; e < 4096; e++) expect(blob[e * 32]).toBe(0);
  });

  it("round-trips arbitrary payloads (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (payload) => {
        expect(blobsToPayload(payloadToBlobs(payload))).toEqual(payload);
      }),
      { numRuns: 50 },
    );
  });

  it("rejects oversize payloads with a coded error", () => {
    expect(() => payloadToBlobs(new Uint8Array(1001), 1000)).toThrow(
      expect.objectContaining({ code: DaErrorCode.PAYLOAD_TOO_LARGE }),
    );
    expect(() => blobCountForLength(MAX_PAYLOAD_BYTES + 1)).toThrow(
      expect.objectContaining({ code: DaErrorCode.PAYLOAD_TOO_LARGE }),
    );
  });

  it("rejects frames the encoder could not have produced", () => {
    const blobs = payloadToBlobs(seededBytes(1000));
    const topByte = blobs.map((b) => b.slice());
    topByte[0][32 * 7] = 1;
    expect(() => blobsToPayload(topByte)).toThrow(expect.objectContaining({ code: DaErrorCode.INVALID_FRAME }));

    const padding = blobs.map((b) => b.slice());
    padding[0][32 * 100 + 5] = 9; // far past 1004 frame bytes
    expect(() => blobsToPayload(padding)).toThrow(expect.objectContaining({ code: DaErrorCode.INVALID_FRAME }));

    const extraBlob = [...blobs, new Uint8Array(BYTES_PER_BLOB)];
    expect(() => blobsToPayload(extraBlob)).toThrow(expect.objectContaining({ code: DaErrorCode.INVALID_FRAME }));

    const hugeLength = blobs.map((b) => b.slice());
    hugeLength[0][1] = 0x7f; // length prefix now far beyond one blob
    expect(() => blobsToPayload(hugeLength)).toThrow(expect.objectContaining({ code: DaErrorCode.INVALID_FRAME }));

    expect(() => blobsToPayload([new Uint8Array(100)])).toThrow(expect.objectContaining({ code: DaErrorCode.INVALID_LENGTH }));
    expect(() => blobsToPayload([])).toThrow(expect.objectContaining({ code: DaErrorCode.INVALID_FRAME }));
  });
});
