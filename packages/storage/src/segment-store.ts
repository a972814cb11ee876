import { type FileHandle, mkdir, open, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { type BatchOp, LevelDb, prefixEnd } from "@zgnode/db";
import { bytesToHex, withDefaults } from "@zgnode/utils";
import { CHUNK_SIZE, CHUNKS_PER_SEGMENT, SEGMENT_SIZE } from "./constants.ts";
import { StorageError, StorageErrorCode } from "./errors.ts";
import type { StorageMetrics } from "./metrics.ts";
import { defaultSegmentStoreOptions, type SegmentStoreOptions } from "./options.ts";

/*
 * Layout. Segments are appended to numbered data files (`data/000001.seg`, ...) as self-describing records:
 *
 *   magic u32 "ZGS1" | fileId bytes32 | segment u32 | length u32 | crc32 u32 | payload[length]
 *
 * (big-endian; crc32 covers the 44 header bytes before it and the payload). A LevelDB index maps
 * (fileId, segment) to (data file, offset, length, crc) and keeps per-file and total space counters plus the
 * "indexed up to" position of the log. The log is written (and, by policy, synced) before the index, so the
 * index never points at bytes that are not on disk. On open the log is scanned from the indexed position:
 * whole records with a valid checksum are indexed (a crash between the two writes loses nothing), and the
 * first torn or corrupt record and everything after it are cut off. Every read re-checks the record's
 * header and checksum, so damaged bytes are refused, never served.
 */

const MAGIC = 0x5a475331;
export const RECORD_HEADER_SIZE = 48;
const INDEX_VALUE_SIZE = 20;

const P_SEGMENT = 0x73; // 's' + fileId + u32 segment -> location
const P_USAGE = 0x75; // 'u' + fileId -> u32 segments, u64 bytes
const K_ACTIVE = new Uint8Array([0x6d, 0x61]); // "ma": u32 data file number, u64 indexed end offset
const K_TOTALS = new Uint8Array([0x6d, 0x74]); // "mt": u64 segments, u64 bytes

interface Location {
  fileNo: number;
  offset: number;
  length: number;
  crc: number;
}

interface PendingWrite {
  fileId: Uint8Array;
  index: number;
  data: Uint8Array;
  crc: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface SegmentStoreStats {
  liveSegments: number;
  liveBytes: number;
  /** Bytes of all data files on disk (records, headers, deleted segments). */
  diskBytes: number;
  /** Disk bytes not belonging to an indexed segment (deleted files; reclaimed only by compaction). */
  garbageBytes: number;
  dataFiles: number;
}

export interface RecoveryReport {
  /** Log bytes examined past the indexed position. */
  scannedBytes: number;
  /** Whole, valid records found there and indexed. */
  recoveredRecords: number;
  /** Torn or corrupt tail bytes cut off. */
  truncatedBytes: number;
  /** Index entries whose bytes were lost (data file shorter than the index says) and were removed. */
  droppedEntries: number;
}

function segmentKey(fileId: Uint8Array, index: number): Uint8Array {
  const k = new Uint8Array(37);
  k[0] = P_SEGMENT;
  k.set(fileId, 1);
  new DataView(k.buffer).setUint32(33, index);
  return k;
}

function usageKey(fileId: Uint8Array): Uint8Array {
  const k = new Uint8Array(33);
  k[0] = P_USAGE;
  k.set(fileId, 1);
  return k;
}

function encodeLocation(l: Location): Uint8Array {
  const v = new Uint8Array(INDEX_VALUE_SIZE);
  const dv = new DataView(v.buffer);
  dv.setUint32(0, l.fileNo);
  dv.setBigUint64(4, BigInt(l.offset));
  dv.setUint32(12, l.length);
  dv.setUint32(16, l.crc);
  return v;
}

function decodeLocation(v: Uint8Array): Location {
  if (v.length !== INDEX_VALUE_SIZE) throw new StorageError(StorageErrorCode.STORE_CORRUPT, "index entry has the wrong size");
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  return { fileNo: dv.getUint32(0), offset: Number(dv.getBigUint64(4)), length: dv.getUint32(12), crc: dv.getUint32(16) };
}

function encodePair(a: number, b: number): Uint8Array {
  const v = new Uint8Array(16);
  const dv = new DataView(v.buffer);
  dv.setBigUint64(0, BigInt(a));
  dv.setBigUint64(8, BigInt(b));
  return v;
}

function decodePair(v: Uint8Array | undefined): [number, number] {
  if (v === undefined) return [0, 0];
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  return [Number(dv.getBigUint64(0)), Number(dv.getBigUint64(8))];
}

function recordHeader(fileId: Uint8Array, index: number, data: Uint8Array): { header: Uint8Array; crc: number } {
  const header = new Uint8Array(RECORD_HEADER_SIZE);
  const dv = new DataView(header.buffer);
  dv.setUint32(0, MAGIC);
  header.set(fileId, 4);
  dv.setUint32(36, index);
  dv.setUint32(40, data.length);
  const crc = crc32(data, crc32(header.subarray(0, 44)));
  dv.setUint32(44, crc);
  return { header, crc };
}

/** Checks a record read back from disk; returns its payload or a reason it is unusable. */
function parseRecord(buf: Uint8Array): { fileId: Uint8Array; index: number; data: Uint8Array; crc: number } | string {
  if (buf.length < RECORD_HEADER_SIZE) return "short header";
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (dv.getUint32(0) !== MAGIC) return "bad magic";
  const length = dv.getUint32(40);
  if (length === 0 || length > SEGMENT_SIZE || length % CHUNK_SIZE !== 0) return `bad length ${length}`;
  if (buf.length < RECORD_HEADER_SIZE + length) return "short payload";
  const data = buf.subarray(RECORD_HEADER_SIZE, RECORD_HEADER_SIZE + length);
  const crc = crc32(data, crc32(buf.subarray(0, 44)));
  if (crc !== dv.getUint32(44)) return "checksum mismatch";
  return { fileId: buf.subarray(4, 36), index: dv.getUint32(36), data, crc };
}

const dataFileName = (n: number) => `${String(n).padStart(6, "0")}.seg`;

/**
 * Append-only, crash-safe segment storage keyed by (file id, segment index), with a LevelDB index.
 * Writes are group-committed: concurrent `put`s share one append, one sync and one index batch.
 */
export class SegmentStore {
  readonly opts: SegmentStoreOptions;
  readonly recovery: RecoveryReport;
  private readonly index: LevelDb;
  private readonly dataDir: string;
  private readonly handles = new Map<number, Promise<FileHandle>>();
  private readonly fileSizes = new Map<number, number>();
  private readonly usage = new Map<string, [number, number]>();
  private readonly metrics: StorageMetrics | undefined;
  private activeNo: number;
  private activeEnd: number;
  private totals: [number, number];
  private pending: PendingWrite[] = [];
  private flushing = false;
  private serial: Promise<unknown> = Promise.resolve();
  private closed = false;
  private syncTimer: NodeJS.Timeout | undefined;
  private dirty = false;

  private constructor(
    opts: SegmentStoreOptions,
    index: LevelDb,
    state: { activeNo: number; activeEnd: number; totals: [number, number]; recovery: RecoveryReport },
    metrics: StorageMetrics | undefined,
  ) {
    this.opts = opts;
    this.index = index;
    this.dataDir = join(opts.dir, "data");
    this.activeNo = state.activeNo;
    this.activeEnd = state.activeEnd;
    this.totals = state.totals;
    this.recovery = state.recovery;
    this.metrics = metrics;
  }

  static async open(options: Partial<SegmentStoreOptions> & { dir: string }, metrics?: StorageMetrics): Promise<SegmentStore> {
    const opts = withDefaults({ ...defaultSegmentStoreOptions, dir: options.dir }, options);
    const dataDir = join(opts.dir, "data");
    await mkdir(dataDir, { recursive: true });
    const index = await LevelDb.open({ path: join(opts.dir, "index") });
    try {
      const [activeNo0, activeEnd0] = decodePair(await index.get(K_ACTIVE));
      const files = (await readdir(dataDir))
        .map((f) => /^(\d{6})\.seg$/.exec(f))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => Number(m[1]))
        .sort((a, b) => a - b);
      const start = activeNo0 === 0 ? 1 : activeNo0;
      const toScan = files.filter((n) => n >= start);
      if (toScan.length === 0) toScan.push(start);
      const store = new SegmentStore(
        opts,
        index,
        {
          activeNo: start,
          activeEnd: activeNo0 === 0 ? 0 : activeEnd0,
          totals: decodePair(await index.get(K_TOTALS)),
          recovery: { scannedBytes: 0, recoveredRecords: 0, truncatedBytes: 0, droppedEntries: 0 },
        },
        metrics,
      );
      for (const n of files) if (n < start) store.fileSizes.set(n, (await (await store.handle(n)).stat()).size);
      for (const n of toScan) await store.recover(n, n === start ? store.activeEnd : 0);
      if (opts.fsync === "interval") {
        store.syncTimer = setInterval(() => void store.syncNow().catch(() => {}), opts.syncIntervalMs);
        store.syncTimer.unref();
      }
      metrics?.liveBytes.set(store.totals[1]);
      return store;
    } catch (err) {
      await index.close();
      throw err;
    }
  }

  /** Scans data file `fileNo` from `from`, indexing whole valid records and cutting off a torn tail. */
  private async recover(fileNo: number, from: number): Promise<void> {
    const h = await this.handle(fileNo);
    const size = (await h.stat()).size;
    // The index claims bytes the file does not have: its tail was lost (power loss without fsync). Re-validate
    // the file from the start to find where the intact records end; nothing before `from` is re-indexed
    // (those records are either indexed already or belong to deleted files).
    const lost = from > size;
    const indexFrom = lost ? size : from;
    let pos = lost ? 0 : from;
    const buf = new Uint8Array(RECORD_HEADER_SIZE + SEGMENT_SIZE);
    const ops: BatchOp[] = [];
    const queued = new Set<string>();
    while (pos < size) {
      const want = Math.min(buf.length, size - pos);
      const { bytesRead } = await h.read(buf, 0, want, pos);
      const rec = parseRecord(buf.subarray(0, bytesRead));
      if (typeof rec === "string") break;
      const key = segmentKey(rec.fileId, rec.index);
      const length = rec.data.length;
      if (pos < indexFrom) {
        pos += RECORD_HEADER_SIZE + length;
        continue;
      }
      // A record is only indexed once: a retried put after a crash may have appended the same segment twice.
      if (!queued.has(bytesToHex(key)) && (await this.index.get(key)) === undefined) {
        queued.add(bytesToHex(key));
        ops.push({ type: "put", key, value: encodeLocation({ fileNo, offset: pos, length, crc: rec.crc }) });
        const u = await this.loadUsage(rec.fileId);
        u[0] += 1;
        u[1] += length;
        this.totals = [this.totals[0] + 1, this.totals[1] + length];
        this.recovery.recoveredRecords++;
      }
      pos += RECORD_HEADER_SIZE + length;
    }
    this.recovery.scannedBytes += lost ? pos : pos - from;
    if (lost) await this.dropLostEntries(fileNo, pos, ops);
    if (pos < size) {
      await h.truncate(pos);
      await h.datasync();
      this.recovery.truncatedBytes += size - pos;
      this.metrics?.truncatedBytes.inc(size - pos);
    }
    this.metrics?.recoveredRecords.inc(this.recovery.recoveredRecords);
    this.fileSizes.set(fileNo, pos);
    this.activeNo = fileNo;
    this.activeEnd = pos;
    for (const [id, u] of this.usage) ops.push({ type: "put", key: usageKey(hexKey(id)), value: encodePair(u[0], u[1]) });
    ops.push({ type: "put", key: K_TOTALS, value: encodePair(this.totals[0], this.totals[1]) });
    ops.push({ type: "put", key: K_ACTIVE, value: encodePair(fileNo, pos) });
    await this.index.batch(ops);
  }

  /**
   * The index claims more of this data file than exists: its tail was lost (power loss under the `interval` or
   * `never` policy). Entries pointing past the surviving bytes are removed so those segments read as absent.
   */
  private async dropLostEntries(fileNo: number, size: number, ops: BatchOp[]): Promise<void> {
    const start = new Uint8Array([P_SEGMENT]);
    for await (const [key, value] of this.index.entries({ gte: start, lt: prefixEnd(start) })) {
      const loc = decodeLocation(value);
      if (loc.fileNo !== fileNo || loc.offset + RECORD_HEADER_SIZE + loc.length <= size) continue;
      ops.push({ type: "del", key: key.slice() });
      const fileId = key.slice(1, 33);
      const u = await this.loadUsage(fileId);
      u[0] -= 1;
      u[1] -= loc.length;
      this.totals = [this.totals[0] - 1, this.totals[1] - loc.length];
      this.recovery.droppedEntries++;
    }
  }

  private handle(fileNo: number): Promise<FileHandle> {
    let h = this.handles.get(fileNo);
    if (h === undefined) {
      const path = join(this.dataDir, dataFileName(fileNo));
      // "a+" creates a missing file; the handle we keep is "r+" so writes land at explicit positions.
      h = open(path, "a+")
        .then((created) => created.close())
        .then(() => open(path, "r+"));
      this.handles.set(fileNo, h);
    }
    return h;
  }

  private async loadUsage(fileId: Uint8Array): Promise<[number, number]> {
    const id = bytesToHex(fileId);
    let u = this.usage.get(id);
    if (u === undefined) {
      u = decodePair(await this.index.get(usageKey(fileId)));
      this.usage.set(id, u);
    }
    return u;
  }

  private check(fileId: Uint8Array, index: number): void {
    if (this.closed) throw new StorageError(StorageErrorCode.STORE_CLOSED, "segment store is closed");
    if (!(fileId instanceof Uint8Array) || fileId.length !== 32) {
      throw new StorageError(StorageErrorCode.INVALID_ARGUMENT, "file id must be 32 bytes");
    }
    if (!Number.isInteger(index) || index < 0 || index > 0xffffffff) {
      throw new StorageError(StorageErrorCode.SEGMENT_INDEX, `segment index ${index} out of range`);
    }
  }

  /**
   * Stores segment `index` of file `fileId`. Resolves once the segment is committed (appended, synced per policy,
   * indexed). Storing identical bytes again is a no-op; different bytes for a stored segment are refused.
   * `data` is written as given: do not modify it until the promise settles.
   */
  put(fileId: Uint8Array, index: number, data: Uint8Array): Promise<void> {
    try {
      this.check(fileId, index);
      if (data.length === 0 || data.length > SEGMENT_SIZE || data.length % CHUNK_SIZE !== 0) {
        throw new StorageError(StorageErrorCode.SEGMENT_SIZE, `segment must be 1..1024 whole chunks, got ${data.length} bytes`);
      }
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ fileId: fileId.slice(), index, data, crc: 0, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        this.serial = this.serial.then(() => this.flushAll());
      }
    });
  }

  private async flushAll(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        let bytes = 0;
        let n = 0;
        while (n < this.pending.length && (n === 0 || bytes + this.pending[n].data.length <= this.opts.maxGroupBytes)) {
          bytes += this.pending[n].data.length;
          n++;
        }
        const group = this.pending.splice(0, n);
        try {
          await this.commitGroup(group);
        } catch (err) {
          for (const w of group) w.reject(err as Error);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private async commitGroup(group: PendingWrite[]): Promise<void> {
    const started = performance.now();
    const toWrite: PendingWrite[] = [];
    const seen = new Map<string, PendingWrite>();
    const done: (() => void)[] = [];
    for (const w of group) {
      const key = segmentKey(w.fileId, w.index);
      const { header, crc } = recordHeader(w.fileId, w.index, w.data);
      w.crc = crc;
      const k = bytesToHex(key);
      const prior = seen.get(k);
      const existing = await this.index.get(key);
      const sameAs = (loc: { length: number; crc: number }) => loc.length === w.data.length && loc.crc === crc;
      if (existing !== undefined || prior !== undefined) {
        const match =
          existing !== undefined ? sameAs(decodeLocation(existing)) : sameAs({ length: prior!.data.length, crc: prior!.crc });
        if (match) done.push(w.resolve);
        else
          w.reject(
            new StorageError(
              StorageErrorCode.STORE_CONFLICT,
              `segment ${w.index} of ${bytesToHex(w.fileId)} is stored with different bytes`,
            ),
          );
        continue;
      }
      seen.set(k, w);
      toWrite.push(w);
      (w as PendingWrite & { header?: Uint8Array }).header = header;
    }
    if (toWrite.length > 0) {
      const bytes = toWrite.reduce((s, w) => s + RECORD_HEADER_SIZE + w.data.length, 0);
      if (this.activeEnd > 0 && this.activeEnd + bytes > this.opts.maxDataFileBytes) await this.rotate();
      const h = await this.handle(this.activeNo);
      const buffers: Uint8Array[] = [];
      const ops: BatchOp[] = [];
      let offset = this.activeEnd;
      for (const w of toWrite) {
        buffers.push((w as PendingWrite & { header: Uint8Array }).header, w.data);
        ops.push({
          type: "put",
          key: segmentKey(w.fileId, w.index),
          value: encodeLocation({ fileNo: this.activeNo, offset, length: w.data.length, crc: w.crc }),
        });
        offset += RECORD_HEADER_SIZE + w.data.length;
        const u = await this.loadUsage(w.fileId);
        u[0] += 1;
        u[1] += w.data.length;
      }
      try {
        const hooks = this.opts.testHooks;
        if (hooks?.midAppend) {
          const all = Buffer.concat(buffers);
          const half = Math.floor(all.length / 2);
          await writeFully(h, [all.subarray(0, half)], this.activeEnd);
          await hooks.midAppend();
          await writeFully(h, [all.subarray(half)], this.activeEnd + half);
        } else {
          await writeFully(h, buffers, this.activeEnd);
        }
        if (this.opts.fsync === "always") await h.datasync();
        else this.dirty = true;
        await hooks?.afterAppend?.();
      } catch (err) {
        // Leave no half-written record behind: cut the log back to the last committed end.
        await h.truncate(this.activeEnd).catch(() => {});
        for (const w of toWrite) {
          const u = await this.loadUsage(w.fileId);
          u[0] -= 1;
          u[1] -= w.data.length;
        }
        throw new StorageError(StorageErrorCode.STORE_CORRUPT, `append failed: ${(err as Error).message}`, undefined, {
          cause: err,
        });
      }
      const payload = toWrite.reduce((s, w) => s + w.data.length, 0);
      this.activeEnd = offset;
      this.fileSizes.set(this.activeNo, offset);
      this.totals = [this.totals[0] + toWrite.length, this.totals[1] + payload];
      const touched = new Set(toWrite.map((w) => bytesToHex(w.fileId)));
      for (const id of touched) ops.push({ type: "put", key: usageKey(hexKey(id)), value: encodePair(...this.usage.get(id)!) });
      ops.push({ type: "put", key: K_TOTALS, value: encodePair(this.totals[0], this.totals[1]) });
      ops.push({ type: "put", key: K_ACTIVE, value: encodePair(this.activeNo, this.activeEnd) });
      await this.index.batch(ops);
      this.metrics?.segmentsWritten.inc(toWrite.length);
      this.metrics?.bytesWritten.inc(payload);
      this.metrics?.liveBytes.set(this.totals[1]);
      for (const w of toWrite) done.push(w.resolve);
    }
    this.metrics?.commitGroupSeconds.observe((performance.now() - started) / 1000);
    for (const r of done) r();
  }

  private async rotate(): Promise<void> {
    const h = await this.handle(this.activeNo);
    await h.datasync();
    this.activeNo += 1;
    this.activeEnd = 0;
    await this.handle(this.activeNo);
    this.fileSizes.set(this.activeNo, 0);
    await this.index.put(K_ACTIVE, encodePair(this.activeNo, 0));
  }

  /** Forces appended data to stable storage now (used by the `interval` policy's timer). */
  async syncNow(): Promise<void> {
    if (!this.dirty || this.closed) return;
    this.dirty = false;
    await (await this.handle(this.activeNo)).datasync();
  }

  private async locate(fileId: Uint8Array, index: number): Promise<Location | undefined> {
    this.check(fileId, index);
    const v = await this.index.get(segmentKey(fileId, index));
    return v === undefined ? undefined : decodeLocation(v);
  }

  async has(fileId: Uint8Array, index: number): Promise<boolean> {
    return (await this.locate(fileId, index)) !== undefined;
  }

  /** The stored bytes of a segment, checksum-verified; undefined when not stored. */
  async get(fileId: Uint8Array, index: number): Promise<Uint8Array | undefined> {
    const loc = await this.locate(fileId, index);
    if (loc === undefined) return undefined;
    const buf = new Uint8Array(RECORD_HEADER_SIZE + loc.length);
    const h = await this.handle(loc.fileNo);
    const { bytesRead } = await h.read(buf, 0, buf.length, loc.offset);
    const rec = parseRecord(buf.subarray(0, bytesRead));
    const fail = (why: string): never => {
      this.metrics?.corruptReads.inc();
      throw new StorageError(
        StorageErrorCode.STORE_CORRUPT,
        `segment ${index} of ${bytesToHex(fileId)} is damaged on disk: ${why}`,
        {
          fileNo: loc.fileNo,
          offset: loc.offset,
        },
      );
    };
    if (typeof rec === "string") return fail(rec);
    if (rec.index !== index || !keyEq(rec.fileId, fileId) || rec.crc !== loc.crc || rec.data.length !== loc.length) {
      return fail("record does not match its index entry");
    }
    this.metrics?.segmentsRead.inc();
    this.metrics?.bytesRead.inc(loc.length);
    return rec.data;
  }

  /**
   * Chunks [start, end) of a file (file-relative chunk indices, end exclusive), gathered across segments.
   * Every segment touched must be stored and long enough.
   */
  async readChunks(fileId: Uint8Array, start: number, end: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end <= start) {
      throw new StorageError(StorageErrorCode.STORE_RANGE, `invalid chunk range [${start}, ${end})`);
    }
    const out = new Uint8Array((end - start) * CHUNK_SIZE);
    for (let c = start; c < end; ) {
      const seg = Math.floor(c / CHUNKS_PER_SEGMENT);
      const data = await this.get(fileId, seg);
      if (data === undefined) {
        throw new StorageError(StorageErrorCode.STORE_NOT_FOUND, `segment ${seg} of ${bytesToHex(fileId)} is not stored`, {
          segment: seg,
        });
      }
      const from = c - seg * CHUNKS_PER_SEGMENT;
      const to = Math.min(end - seg * CHUNKS_PER_SEGMENT, CHUNKS_PER_SEGMENT);
      if (to * CHUNK_SIZE > data.length) {
        throw new StorageError(
          StorageErrorCode.STORE_RANGE,
          `chunk ${seg * CHUNKS_PER_SEGMENT + to - 1} is past the end of segment ${seg}`,
        );
      }
      out.set(data.subarray(from * CHUNK_SIZE, to * CHUNK_SIZE), (c - start) * CHUNK_SIZE);
      c = seg * CHUNKS_PER_SEGMENT + to;
    }
    return out;
  }

  /** Indices of the stored segments of a file, ascending. */
  async segmentIndexes(fileId: Uint8Array): Promise<number[]> {
    this.check(fileId, 0);
    const prefix = segmentKey(fileId, 0).subarray(0, 33);
    const out: number[] = [];
    for await (const [k] of this.index.entries({ gte: prefix, lt: prefixEnd(prefix) })) {
      out.push(new DataView(k.buffer, k.byteOffset, k.byteLength).getUint32(33));
    }
    return out;
  }

  /** Segments and payload bytes stored for one file. */
  async fileUsage(fileId: Uint8Array): Promise<{ segments: number; bytes: number }> {
    this.check(fileId, 0);
    const [segments, bytes] = await this.serialized(() => this.loadUsage(fileId));
    return { segments, bytes };
  }

  /** Drops a file's segments from the index (their log bytes become garbage until compaction). */
  deleteFile(fileId: Uint8Array): Promise<number> {
    this.check(fileId, 0);
    return this.serialized(async () => {
      const indexes = await this.segmentIndexes(fileId);
      const u = await this.loadUsage(fileId);
      const ops: BatchOp[] = indexes.map((i) => ({ type: "del", key: segmentKey(fileId, i) }));
      ops.push({ type: "del", key: usageKey(fileId) });
      this.totals = [this.totals[0] - u[0], this.totals[1] - u[1]];
      ops.push({ type: "put", key: K_TOTALS, value: encodePair(this.totals[0], this.totals[1]) });
      await this.index.batch(ops);
      this.usage.delete(bytesToHex(fileId));
      this.metrics?.liveBytes.set(this.totals[1]);
      return indexes.length;
    });
  }

  stats(): SegmentStoreStats {
    const diskBytes = [...this.fileSizes.values()].reduce((s, n) => s + n, 0);
    return {
      liveSegments: this.totals[0],
      liveBytes: this.totals[1],
      diskBytes,
      garbageBytes: diskBytes - this.totals[1] - this.totals[0] * RECORD_HEADER_SIZE,
      dataFiles: this.fileSizes.size,
    };
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.serial.then(fn);
    this.serial = run.catch(() => {});
    return run;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.serialized(async () => {});
    this.closed = true;
    if (this.syncTimer) clearInterval(this.syncTimer);
    for (const hp of this.handles.values()) {
      const h = await hp;
      if (this.opts.fsync !== "never") await h.datasync().catch(() => {});
      await h.close();
    }
    this.handles.clear();
    await this.index.close();
  }

  /** Removes the store's directory (tests, scratch nodes). */
  static async destroy(dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true });
  }
}

function keyEq(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function hexKey(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex.slice(2), "hex"));
}

async function writeFully(h: FileHandle, buffers: Uint8Array[], position: number): Promise<void> {
  const total = buffers.reduce((s, b) => s + b.length, 0);
  const { bytesWritten } = await h.writev(buffers, position);
  if (bytesWritten === total) return;
  // Partial vectored write (rare): finish byte range by byte range.
  let skip = bytesWritten;
  let pos = position + bytesWritten;
  for (const b of buffers) {
    if (skip >= b.length) {
      skip -= b.length;
      continue;
    }
    let part = b.subarray(skip);
    skip = 0;
    while (part.length > 0) {
      const r = await h.write(part, 0, part.length, pos);
      part = part.subarray(r.bytesWritten);
      pos += r.bytesWritten;
    }
  }
}
