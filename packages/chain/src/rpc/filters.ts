import { keccak256 } from "@zgnode/crypto";
import { bytesToHex, hexToBytes, invalidParams } from "@zgnode/utils";
import { type BlockRef, parseBlockNumberOrTag, parseHash } from "./params.ts";

/**
 * Log filters (eth_getLogs, eth_newFilter, eth_subscribe "logs") and the installed-filter registry with geth's
 * expiry: a filter not polled for `timeoutMs` (5 minutes) is dropped.
 */

export interface LogCriteria {
  /** Lowercase 0x addresses; empty = any. */
  addresses: string[];
  /** Per position: undefined/empty = any; otherwise one of these lowercase topics. */
  topics: (string[] | undefined)[];
}

export interface LogFilterParams extends LogCriteria {
  fromBlock: BlockRef | undefined;
  toBlock: BlockRef | undefined;
  blockHash: Uint8Array | undefined;
}

const MAX_TOPICS = 4;

function lowerHex(value: unknown, what: string, length: number): string {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]*$/.test(value) || value.length !== 2 + length * 2) {
    throw invalidParams(`invalid ${what}: ${JSON.stringify(value)}`);
  }
  return value.toLowerCase();
}

export function parseLogCriteria(o: Record<string, unknown>): LogCriteria {
  const addresses: string[] = [];
  if (o.address !== undefined && o.address !== null) {
    const list = Array.isArray(o.address) ? o.address : [o.address];
    for (const a of list) addresses.push(lowerHex(a, "address", 20));
  }
  const topics: (string[] | undefined)[] = [];
  if (o.topics !== undefined && o.topics !== null) {
    if (!Array.isArray(o.topics)) throw invalidParams("invalid topics: expected an array");
    if (o.topics.length > MAX_TOPICS) throw invalidParams("exceed max topics");
    for (const t of o.topics) {
      if (t === null) topics.push(undefined);
      else if (Array.isArray(t)) topics.push(t.length === 0 ? undefined : t.map((x) => lowerHex(x, "topic", 32)));
      else topics.push([lowerHex(t, "topic", 32)]);
    }
  }
  return { addresses, topics };
}

export function parseLogFilter(value: unknown): LogFilterParams {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw invalidParams("invalid argument 0: expected a filter object");
  const o = value as Record<string, unknown>;
  const hasRange = (o.fromBlock !== undefined && o.fromBlock !== null) || (o.toBlock !== undefined && o.toBlock !== null);
  if (o.blockHash !== undefined && o.blockHash !== null && hasRange) {
    throw invalidParams("invalid argument 0: cannot specify both BlockHash and FromBlock/ToBlock, choose one or the other");
  }
  return {
    ...parseLogCriteria(o),
    blockHash: o.blockHash === undefined || o.blockHash === null ? undefined : parseHash(o.blockHash, 0),
    fromBlock: o.fromBlock === undefined || o.fromBlock === null ? undefined : parseBlockNumberOrTag(o.fromBlock, 0),
    toBlock: o.toBlock === undefined || o.toBlock === null ? undefined : parseBlockNumberOrTag(o.toBlock, 0),
  };
}

/** True when a log (address, topics) satisfies the criteria: address in set, topics position-wise OR-matched. */
export function matchLog(criteria: LogCriteria, address: Uint8Array, topics: Uint8Array[]): boolean {
  if (criteria.addresses.length > 0 && !criteria.addresses.includes(bytesToHex(address))) return false;
  if (criteria.topics.length > topics.length) return false;
  for (let i = 0; i < criteria.topics.length; i++) {
    const wanted = criteria.topics[i];
    if (wanted === undefined) continue;
    if (!wanted.includes(bytesToHex(topics[i]!))) return false;
  }
  return true;
}

/** The three bloom bits (byte index, mask) of one value, as the 2048-bit logs bloom sets them. */
export type BloomBits = [number, number][];

export function bloomBits(value: Uint8Array): BloomBits {
  const hash = keccak256(value);
  const bits: BloomBits = [];
  for (let i = 0; i < 6; i += 2) {
    const bit = ((hash[i]! << 8) | hash[i + 1]!) & 2047;
    bits.push([255 - (bit >> 3), 1 << (bit & 7)]);
  }
  return bits;
}

/** A filter's bloom query, hashed once: per address / per topic position, the alternatives' bits. */
export interface BloomQuery {
  addresses: BloomBits[];
  topics: (BloomBits[] | undefined)[];
}

export function bloomQuery(criteria: LogCriteria): BloomQuery {
  return {
    addresses: criteria.addresses.map((a) => bloomBits(hexToBytes(a))),
    topics: criteria.topics.map((t) => t?.map((x) => bloomBits(hexToBytes(x)))),
  };
}

function hasBits(bloom: Uint8Array, bits: BloomBits): boolean {
  for (const [byte, mask] of bits) if ((bloom[byte]! & mask) === 0) return false;
  return true;
}

/** False when the block's bloom proves no log can match (some address or topic position has no candidate). */
export function bloomMayMatch(bloom: Uint8Array, q: BloomQuery): boolean {
  if (q.addresses.length > 0 && !q.addresses.some((b) => hasBits(bloom, b))) return false;
  for (const alternatives of q.topics) {
    if (alternatives !== undefined && !alternatives.some((b) => hasBits(bloom, b))) return false;
  }
  return true;
}

export type InstalledFilter =
  | { kind: "logs"; criteria: LogFilterParams; pending: unknown[]; lastPoll: number }
  | { kind: "blocks"; pending: string[]; lastPoll: number }
  | { kind: "pendingTxs"; pending: string[]; lastPoll: number };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Installed filters by id; `sweep` drops those not polled within the timeout. */
export class FilterRegistry {
  private readonly filters = new Map<string, InstalledFilter>();
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private counter = 0n;

  constructor(timeoutMs: number, now: () => number) {
    this.timeoutMs = timeoutMs;
    this.now = now;
  }

  install(filter: DistributiveOmit<InstalledFilter, "lastPoll">): string {
    this.sweep();
    const id = newFilterId(++this.counter);
    this.filters.set(id, { ...filter, lastPoll: this.now() } as InstalledFilter);
    return id;
  }

  /** Returns the filter and marks it polled, or undefined when unknown or expired. */
  poll(id: string): InstalledFilter | undefined {
    this.sweep();
    const f = this.filters.get(id);
    if (f !== undefined) f.lastPoll = this.now();
    return f;
  }

  get(id: string): InstalledFilter | undefined {
    this.sweep();
    return this.filters.get(id);
  }

  uninstall(id: string): boolean {
    return this.filters.delete(id);
  }

  all(): IterableIterator<InstalledFilter> {
    return this.filters.values();
  }

  get size(): number {
    return this.filters.size;
  }

  sweep(): void {
    const now = this.now();
    for (const [id, f] of this.filters) if (now - f.lastPoll > this.timeoutMs) this.filters.delete(id);
  }
}

/** 16-byte random-looking hex ids like geth's (counter mixed with randomness, never reused in a process). */
export function newFilterId(counter: bigint): string {
  const rand = crypto.getRandomValues(new Uint8Array(8));
  let hex = "";
  for (const b of rand) hex += b.toString(16).padStart(2, "0");
  return `0x${hex}${counter.toString(16).padStart(16, "0")}`;
}
