import type { Stream, StreamCloseEvent, StreamMessageEvent } from "@libp2p/interface";
import { CodedError, concatBytes } from "@zgnode/utils";
import { NetworkErrorCode } from "./errors.ts";

/**
 * Reads a stream until the remote closes its write side; more than `max` bytes, or the signal firing, aborts the
 * stream (so a silent peer cannot hold a request open forever).
 *
 * Built on the stream's events, not its async iterator: the iterator ends only on 'remoteCloseWrite' or 'close',
 * and a remote that sent its bytes and closed before we started reading (a small request landing with its FIN)
 * has already fired 'remoteCloseWrite', so the iterator waited for the deadline (seen as block sync stalling 10 s
 * at a time). 'end' fires once the buffered bytes are delivered, and `readableEnded` covers an 'end' already past.
 */
export function readAll(stream: Stream, max: number, signal?: AbortSignal): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const parts: Uint8Array[] = [];
    let size = 0;
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      stream.removeEventListener("message", onMessage);
      stream.removeEventListener("end", onEnd);
      stream.removeEventListener("close", onClose);
      signal?.removeEventListener("abort", onAbort);
      if (err) reject(err);
      else resolve(concatBytes(...parts));
    };
    // Settle first: aborting dispatches 'end'/'close', which would otherwise resolve with the partial bytes.
    const fail = (err: Error) => {
      finish(err);
      stream.abort(err);
    };
    const onMessage = (evt: StreamMessageEvent) => {
      const bytes = evt.data instanceof Uint8Array ? evt.data : evt.data.subarray();
      size += bytes.length;
      if (size > max) fail(new CodedError(NetworkErrorCode.MESSAGE_TOO_LARGE, `stream exceeded ${max} bytes`));
      else parts.push(bytes);
    };
    const onEnd = () => finish();
    const onClose = (evt: StreamCloseEvent) => finish(evt.error);
    const onAbort = () => fail(new CodedError(NetworkErrorCode.REQUEST_TIMEOUT, "stream deadline passed"));
    if (signal?.aborted) return onAbort();
    if (stream.status === "aborted" || stream.status === "reset")
      return finish(new CodedError(NetworkErrorCode.REQUEST_FAILED, `stream already ${stream.status}`));
    signal?.addEventListener("abort", onAbort);
    stream.addEventListener("end", onEnd);
    stream.addEventListener("close", onClose);
    // Adding a 'message' listener queues a microtask that delivers what is already buffered.
    stream.addEventListener("message", onMessage);
    if (stream.readableEnded) queueMicrotask(() => finish());
  });
}
