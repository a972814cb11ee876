import { type FileHandle, mkdir, open, rename, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { CodedError, concatBytes } from "@zgnode/utils";
import { ByteWriter, decodeEngineInput, encodeEngineInput } from "./codec.ts";
import { crc32c } from "./crc32c.ts";
import { ConsensusErrorCode } from "./errors.ts";
import type { EngineInput } from "./types.ts";

/**
 * The consensus write-ahead log (CometBFT consensus/wal.go): every engine input is appended before the engine
 * handles it; before the node's own vote or proposal is signed and sent, everything up to it is fsynced; after a
 * height is committed an end-height marker is written and synced. On restart the inputs after the last
 * end-height marker are replayed into a fresh engine, which regains its locks and the votes it already cast.
 *
 * Record: CRC-32C of the payload (4 bytes BE) | payload length (4 bytes BE) | payload. Payload tag 1 = engine
 * input, 2 = end-height marker (u64). A torn or corrupt tail (crash mid-write) is cut off at the last good record.
 */
export const WAL_MAX_RECORD_BYTES = 64 * 1024 * 1024;
const TAG_INPUT = 1;
const TAG_END_HEIGHT = 2;

export type WalRecord = { type: "input"; input: EngineInput } | { type: "endHeight"; height: number };

export interface WalOpenResult {
  wal: ConsensusWal;
  /** Bytes cut from a torn or corrupt tail (0 for a clean log). */
  truncatedBytes: number;
}

export class ConsensusWal {
  readonly path: string;
  private fh: FileHandle;
  private size: number;
  private records: WalRecord[];
  private closed = false;
  private queue: Promise<unknown> = Promise.resolve();
  /** Start a fresh file at the next end-height marker once the log exceeds this size. */
  readonly rotateBytes: number;

  private constructor(path: string, fh: FileHandle, size: number, records: WalRecord[], rotateBytes: number) {
    this.path = path;
    this.fh = fh;
    this.size = size;
    this.records = records;
    this.rotateBytes = rotateBytes;
  }

  static async open(path: string, opts: { rotateBytes?: number } = {}): Promise<WalOpenResult> {
    await mkdir(dirname(path), { recursive: true });
    const fh = await open(path, "a+");
    const data = new Uint8Array(await fh.readFile());
    const { records, goodBytes } = parseWal(data);
    let truncatedBytes = 0;
    if (goodBytes < data.length) {
      truncatedBytes = data.length - goodBytes;
      await fh.truncate(goodBytes);
      await fh.sync();
    }
    return { wal: new ConsensusWal(path, fh, goodBytes, records, opts.rotateBytes ?? 64 * 1024 * 1024), truncatedBytes };
  }

  /** Inputs to replay for `height`: those after the end-height marker of `height - 1` (or from the start) up to the next marker. */
  inputsSince(height: number): EngineInput[] {
    let start = 0;
    for (let i = this.records.length - 1; i >= 0; i--) {
      const r = this.records[i];
      if (r.type === "endHeight" && r.height < height) {
        start = i + 1;
        break;
      }
    }
    const out: EngineInput[] = [];
    for (let i = start; i < this.records.length; i++) {
      const r = this.records[i];
      if (r.type === "endHeight") break;
      out.push(r.input);
    }
    return out;
  }

  /** Appends an input (written, not yet fsynced). */
  append(input: EngineInput): Promise<void> {
    return this.write({ type: "input", input }, false);
  }

  /** Fsyncs everything appended so far. Call before releasing an own vote or proposal. */
  sync(): Promise<void> {
    return this.enqueue(async () => {
      await this.fh.sync();
    });
  }

  /** Marks `height` as committed (fsynced); may start a fresh file. */
  async writeEndHeight(height: number): Promise<void> {
    await this.write({ type: "endHeight", height }, true);
    // Only the inputs after the latest marker can ever be replayed by this process: drop the rest from memory.
    this.records = [{ type: "endHeight", height }];
    if (this.size > this.rotateBytes) await this.enqueue(() => this.rotate(height));
  }

  close(): Promise<void> {
    return this.enqueue(async () => {
      if (this.closed) return;
      this.closed = true;
      await this.fh.close();
    });
  }

  private write(record: WalRecord, sync: boolean): Promise<void> {
    const frame = encodeWalRecord(record);
    this.records.push(record);
    return this.enqueue(async () => {
      if (this.closed) throw new CodedError(ConsensusErrorCode.WAL_CLOSED, "WAL is closed");
      await this.fh.write(frame);
      this.size += frame.length;
      if (sync) await this.fh.sync();
    });
  }

  /** Replaces the log with one holding just the latest end-height marker (temp file + fsync + rename). */
  private async rotate(height: number): Promise<void> {
    const tmp = `${this.path}.new`;
    const fresh = await open(tmp, "w");
    const frame = encodeWalRecord({ type: "endHeight", height });
    await fresh.write(frame);
    await fresh.sync();
    await fresh.close();
    await this.fh.close();
    await rename(tmp, this.path);
    this.fh = await open(this.path, "a+");
    this.size = (await stat(this.path)).size;
    this.records = [{ type: "endHeight", height }];
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

export function encodeWalRecord(record: WalRecord): Uint8Array {
  const payload =
    record.type === "input"
      ? concatBytes(Uint8Array.of(TAG_INPUT), encodeEngineInput(record.input))
      : new ByteWriter().u8(TAG_END_HEIGHT).u64(record.height).finish();
  if (payload.length > WAL_MAX_RECORD_BYTES)
    throw new CodedError(ConsensusErrorCode.INVALID_MESSAGE, `WAL record of ${payload.length} bytes is too large`);
  return new ByteWriter().u32(crc32c(payload)).u32(payload.length).bytes(payload).finish();
}

/** Parses records up to the first torn or corrupt one; `goodBytes` is where the valid prefix ends. */
export function parseWal(data: Uint8Array): { records: WalRecord[]; goodBytes: number } {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const records: WalRecord[] = [];
  let pos = 0;
  while (pos + 8 <= data.length) {
    const crc = view.getUint32(pos);
    const len = view.getUint32(pos + 4);
    if (len === 0 || len > WAL_MAX_RECORD_BYTES || pos + 8 + len > data.length) break;
    const payload = data.subarray(pos + 8, pos + 8 + len);
    if (crc32c(payload) !== crc) break;
    try {
      records.push(decodeWalPayload(payload));
    } catch {
      break;
    }
    pos += 8 + len;
  }
  return { records, goodBytes: pos };
}

function decodeWalPayload(payload: Uint8Array): WalRecord {
  if (payload[0] === TAG_INPUT) return { type: "input", input: decodeEngineInput(payload.subarray(1)) };
  if (payload[0] === TAG_END_HEIGHT && payload.length === 9) {
    const height = Number(new DataView(payload.buffer, payload.byteOffset + 1, 8).getBigUint64(0));
    return { type: "endHeight", height };
  }
  throw new CodedError(ConsensusErrorCode.WAL_CORRUPT, `unknown WAL record tag ${payload[0]}`);
}
