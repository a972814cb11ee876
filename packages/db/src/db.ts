import { CodedError, concatBytes, withDefaults } from "@zgnode/utils";
import { ClassicLevel } from "classic-level";
import { DbErrorCode } from "./errors.ts";
import { type DbOptions, defaultDbOptions } from "./options.ts";

export type BatchOp = { type: "put"; key: Uint8Array; value: Uint8Array } | { type: "del"; key: Uint8Array };

/** The small key-value interface every repository is written against; LevelDB in production, a Map in tests. */
export interface KeyValueStore {
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  put(key: Uint8Array, value: Uint8Array): Promise<void>;
  del(key: Uint8Array): Promise<void>;
  /** Applies all operations atomically: all land or none. */
  batch(ops: BatchOp[]): Promise<void>;
  entries(range: {
    gte?: Uint8Array;
    lt?: Uint8Array;
    reverse?: boolean;
    limit?: number;
  }): AsyncIterable<[Uint8Array, Uint8Array]>;
}

/** The node's one LevelDB (classic-level), opened with binary keys and values. */
export class LevelDb implements KeyValueStore {
  readonly level: ClassicLevel<Uint8Array, Uint8Array>;

  private constructor(level: ClassicLevel<Uint8Array, Uint8Array>) {
    this.level = level;
  }

  static async open(opts: Partial<DbOptions> & { path: string }): Promise<LevelDb> {
    const o = withDefaults({ ...defaultDbOptions, path: opts.path }, opts);
    const level = new ClassicLevel<Uint8Array, Uint8Array>(o.path, {
      keyEncoding: "view",
      valueEncoding: "view",
      cacheSize: o.cacheSize,
      writeBufferSize: o.writeBufferSize,
    });
    try {
      await level.open();
    } catch (err) {
      const code =
        (err as { cause?: { code?: string } }).cause?.code === "LEVEL_LOCKED" ? DbErrorCode.LOCKED : DbErrorCode.CORRUPT;
      throw new CodedError(code, `cannot open database at ${o.path}: ${(err as Error).message}`, undefined, { cause: err });
    }
    return new LevelDb(level);
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return (await this.level.get(key)) ?? undefined;
  }

  put(key: Uint8Array, value: Uint8Array): Promise<void> {
    return this.level.put(key, value);
  }

  del(key: Uint8Array): Promise<void> {
    return this.level.del(key);
  }

  batch(ops: BatchOp[]): Promise<void> {
    return this.level.batch(ops);
  }

  entries(range: {
    gte?: Uint8Array;
    lt?: Uint8Array;
    reverse?: boolean;
    limit?: number;
  }): AsyncIterable<[Uint8Array, Uint8Array]> {
    return this.level.iterator({ ...range, limit: range.limit ?? -1 });
  }

  close(): Promise<void> {
    return this.level.close();
  }
}

/** An in-memory store with the same semantics, for deterministic tests. */
export class MemoryStore implements KeyValueStore {
  private readonly map = new Map<string, Uint8Array>();

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.map.get(Buffer.from(key).toString("hex"));
  }

  async put(key: Uint8Array, value: Uint8Array): Promise<void> {
    this.map.set(Buffer.from(key).toString("hex"), value);
  }

  async del(key: Uint8Array): Promise<void> {
    this.map.delete(Buffer.from(key).toString("hex"));
  }

  async batch(ops: BatchOp[]): Promise<void> {
    for (const op of ops) op.type === "put" ? await this.put(op.key, op.value) : await this.del(op.key);
  }

  async *entries(range: {
    gte?: Uint8Array;
    lt?: Uint8Array;
    reverse?: boolean;
    limit?: number;
  }): AsyncIterable<[Uint8Array, Uint8Array]> {
    const gte = range.gte ? Buffer.from(range.gte).toString("hex") : undefined;
    const lt = range.lt ? Buffer.from(range.lt).toString("hex") : undefined;
    let keys = [...this.map.keys()].filter((k) => (gte === undefined || k >= gte) && (lt === undefined || k < lt)).sort();
    if (range.reverse) keys.reverse();
    if (range.limit !== undefined && range.limit >= 0) keys = keys.slice(0, range.limit);
    for (const k of keys) yield [new Uint8Array(Buffer.from(k, "hex")), this.map.get(k) as Uint8Array];
  }
}

/**
 * A typed view of one key prefix (a "bucket") in a store: keys and values pass through codecs, so repositories
 * never hand-build prefixed keys.
 */
export class Bucket<K, V> {
  readonly store: KeyValueStore;
  readonly prefix: Uint8Array;
  readonly encodeKey: (k: K) => Uint8Array;
  readonly codec: { encode: (v: V) => Uint8Array; decode: (b: Uint8Array) => V };

  constructor(
    store: KeyValueStore,
    prefix: Uint8Array,
    encodeKey: (k: K) => Uint8Array,
    codec: { encode: (v: V) => Uint8Array; decode: (b: Uint8Array) => V },
  ) {
    this.store = store;
    this.prefix = prefix;
    this.encodeKey = encodeKey;
    this.codec = codec;
  }

  key(k: K): Uint8Array {
    return concatBytes(this.prefix, this.encodeKey(k));
  }

  async get(k: K): Promise<V | undefined> {
    const raw = await this.store.get(this.key(k));
    return raw === undefined ? undefined : this.codec.decode(raw);
  }

  put(k: K, v: V): Promise<void> {
    return this.store.put(this.key(k), this.codec.encode(v));
  }

  /** A batch operation for this bucket, to be combined with others into one atomic write. */
  putOp(k: K, v: V): BatchOp {
    return { type: "put", key: this.key(k), value: this.codec.encode(v) };
  }

  delOp(k: K): BatchOp {
    return { type: "del", key: this.key(k) };
  }

  /** All values in key order; keys are returned without the prefix. */
  async *values(opts: { reverse?: boolean; limit?: number } = {}): AsyncIterable<[Uint8Array, V]> {
    const lt = prefixEnd(this.prefix);
    for await (const [k, v] of this.store.entries({ gte: this.prefix, lt, ...opts })) {
      yield [k.subarray(this.prefix.length), this.codec.decode(v)];
    }
  }
}

/** The smallest key greater than every key starting with `prefix`. */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  const end = Uint8Array.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
}

export const rawCodec = { encode: (v: Uint8Array) => v, decode: (b: Uint8Array) => b };
export const jsonCodec = <T>() => ({
  encode: (v: T) => new TextEncoder().encode(JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? `${x}n` : x))),
  decode: (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)) as T,
});
