import { CodedError, concatBytes } from "@zgnode/utils";
import { NetworkErrorCode } from "./errors.ts";

/** Encodes and decodes one message type. `decode` throws on malformed input (the message is then rejected). */
export interface Codec<T> {
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

/** What happens to a gossip message after validation: relay it, drop it quietly, or drop it and penalise the sender. */
export type GossipVerdict = "accept" | "ignore" | "reject";

/**
 * A gossip topic declared as data. `validate` runs BEFORE the message is relayed to other peers (gossipsub async
 * validation); `handle` runs only for accepted messages. Topic strings are `/zgnode/<chainId>/<name>/<version>`.
 */
export interface GossipTopic<T> {
  name: string;
  version: number;
  codec: Codec<T>;
  validate(message: T, from: string): GossipVerdict | Promise<GossipVerdict>;
  handle(message: T, from: string): void | Promise<void>;
}

/** A request/response protocol declared as data; the id is `/zgnode/<chainId>/<name>/<version>`. */
export interface ReqRespProtocol<Req, Res> {
  name: string;
  version: number;
  requestCodec: Codec<Req>;
  responseCodec: Codec<Res>;
  handle(request: Req, from: string): Res | Promise<Res>;
}

// biome-ignore lint/suspicious/noExplicitAny: a heterogeneous table of topics; each entry is typed where declared.
export type AnyGossipTopic = GossipTopic<any>;
// biome-ignore lint/suspicious/noExplicitAny: as above, for protocols.
export type AnyReqRespProtocol = ReqRespProtocol<any, any>;

export function protocolId(chainId: bigint | number, p: { name: string; version: number }): string {
  return `/zgnode/${chainId}/${p.name}/${p.version}`;
}

/** Response status byte of req/resp (like Ethereum's consensus req/resp result codes). */
export const ResponseStatus = {
  OK: 0,
  INVALID_REQUEST: 1,
  SERVER_ERROR: 2,
  RESOURCE_UNAVAILABLE: 3,
} as const;
export type ResponseStatus = (typeof ResponseStatus)[keyof typeof ResponseStatus];

/** A list of items, each length-prefixed: the wire shape of batched gossip (e.g. many transactions per message). */
export function listCodec<T>(item: Codec<T>, maxItems = 10_000): Codec<T[]> {
  return {
    encode(values) {
      const parts: Uint8Array[] = [u32(values.length)];
      for (const v of values) {
        const b = item.encode(v);
        parts.push(u32(b.length), b);
      }
      return concatBytes(...parts);
    },
    decode(bytes) {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const bad = (why: string) => new CodedError(NetworkErrorCode.INVALID_MESSAGE, `malformed list: ${why}`);
      if (bytes.length < 4) throw bad("truncated");
      const n = view.getUint32(0);
      if (n > maxItems) throw bad(`${n} items exceeds ${maxItems}`);
      const out: T[] = [];
      let pos = 4;
      for (let i = 0; i < n; i++) {
        if (pos + 4 > bytes.length) throw bad("truncated");
        const len = view.getUint32(pos);
        pos += 4;
        if (pos + len > bytes.length) throw bad("truncated");
        out.push(item.decode(bytes.subarray(pos, pos + len)));
        pos += len;
      }
      if (pos !== bytes.length) throw bad("trailing bytes");
      return out;
    },
  };
}

export const bytesCodec: Codec<Uint8Array> = { encode: (b) => b, decode: (b) => b };

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}
