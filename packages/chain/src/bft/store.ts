import type { KeyValueStore } from "@zgnode/db";
import { prefixEnd } from "@zgnode/db";
import { concatBytes, utf8ToBytes } from "@zgnode/utils";
import type { SyncedBlock } from "../consensus/blockSync.ts";
import { ByteReader, ByteWriter, encodeCertificate, readCertificate } from "../consensus/codec.ts";

const PREFIX = utf8ToBytes("bft/c/");

function heightKey(height: number): Uint8Array {
  const k = new Uint8Array(8);
  new DataView(k.buffer).setBigUint64(0, BigInt(height));
  return concatBytes(PREFIX, k);
}

/**
 * Committed consensus payloads with their commit certificates, by height, in the chain's own database under the
 * key prefix `bft/c/` (the execution store does not know about certificates). A record is written BEFORE the block
 * is imported, so after a crash between the two the node re-imports it at start (see `ChainBlockSource.recover`).
 */
export class CertifiedBlockStore {
  readonly db: KeyValueStore;

  constructor(db: KeyValueStore) {
    this.db = db;
  }

  async put(height: number, block: SyncedBlock): Promise<void> {
    const value = new ByteWriter().varBytes(block.payload).varBytes(encodeCertificate(block.certificate)).finish();
    await this.db.put(heightKey(height), value);
  }

  async get(height: number): Promise<SyncedBlock | undefined> {
    const raw = await this.db.get(heightKey(height));
    if (!raw) return undefined;
    const r = new ByteReader(raw);
    const payload = r.varBytes();
    const cr = new ByteReader(r.varBytes(1 << 20));
    const certificate = readCertificate(cr);
    cr.end();
    r.end();
    return { payload, certificate };
  }

  async range(start: number, count: number): Promise<SyncedBlock[]> {
    const out: SyncedBlock[] = [];
    for (let h = start; h < start + count; h++) {
      const b = await this.get(h);
      if (!b) break;
      out.push(b);
    }
    return out;
  }

  /** Highest stored height (0 when none). */
  async highest(): Promise<number> {
    for await (const [key] of this.db.entries({ gte: PREFIX, lt: prefixEnd(PREFIX), reverse: true, limit: 1 })) {
      return Number(new DataView(key.buffer, key.byteOffset + PREFIX.length, 8).getBigUint64(0));
    }
    return 0;
  }
}
