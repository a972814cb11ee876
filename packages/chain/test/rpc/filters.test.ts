import { Bloom } from "@ethereumjs/vm";
import { hexToBytes } from "@zgnode/utils";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bloomMayMatch, bloomQuery, FilterRegistry, matchLog, parseLogCriteria, parseLogFilter } from "../../src/rpc/filters.ts";

const A = `0x${"0a".repeat(20)}`;
const B = `0x${"0b".repeat(20)}`;
const T1 = `0x${"01".repeat(32)}`;
const T2 = `0x${"02".repeat(32)}`;
const T3 = `0x${"03".repeat(32)}`;

describe("log filter matching", () => {
  const log = { address: hexToBytes(A), topics: [hexToBytes(T1), hexToBytes(T2)] };
  const matches = (f: Record<string, unknown>) => matchLog(parseLogCriteria(f), log.address, log.topics);

  it("matches single addresses and address arrays", () => {
    expect(matches({})).toBe(true);
    expect(matches({ address: A })).toBe(true);
    expect(matches({ address: A.toUpperCase().replace("0X", "0x") })).toBe(true);
    expect(matches({ address: [B, A] })).toBe(true);
    expect(matches({ address: [B] })).toBe(false);
  });

  it("matches topics by position with null and [] wildcards and OR-lists", () => {
    expect(matches({ topics: [T1] })).toBe(true);
    expect(matches({ topics: [T2] })).toBe(false);
    expect(matches({ topics: [null, T2] })).toBe(true);
    expect(matches({ topics: [[], [T3, T2]] })).toBe(true);
    expect(matches({ topics: [[T3], T2] })).toBe(false);
    // More topic positions than the log has: no match, even with a wildcard.
    expect(matches({ topics: [T1, T2, null] })).toBe(false);
  });

  it("equals a reference definition on random filters", () => {
    const topic = fc.constantFrom(T1, T2, T3);
    const position = fc.oneof(fc.constant(null), topic, fc.array(topic, { maxLength: 3 }));
    fc.assert(
      fc.property(fc.array(position, { maxLength: 4 }), (topics) => {
        const logTopics = [T1, T2];
        const expected =
          topics.length <= logTopics.length &&
          topics.every(
            (p, i) => p === null || (Array.isArray(p) ? p.length === 0 || p.includes(logTopics[i]!) : p === logTopics[i]),
          );
        expect(matches({ topics })).toBe(expected);
      }),
    );
  });

  it("rejects malformed filters with -32602", () => {
    expect(() => parseLogCriteria({ address: "0x12" })).toThrow(expect.objectContaining({ code: -32602 }));
    expect(() => parseLogCriteria({ topics: [T1, T1, T1, T1, T1] })).toThrow(expect.objectContaining({ code: -32602 }));
    expect(() => parseLogFilter({ blockHash: T1, toBlock: "0x1" })).toThrow(expect.objectContaining({ code: -32602 }));
    expect(() => parseLogFilter({ fromBlock: "12" })).toThrow(expect.objectContaining({ code: -32602 }));
  });
});

describe("FilterRegistry", () => {
  it("expires filters not polled within the timeout, and polling keeps them alive", () => {
    let now = 0;
    const reg = new FilterRegistry(1000, () => now);
    const a = reg.install({ kind: "blocks", pending: [] });
    const b = reg.install({ kind: "blocks", pending: [] });
    expect(a).not.toBe(b);
    expect(a).toMatch(/^0x[0-9a-f]{32}$/);
    now = 900;
    expect(reg.poll(a)).toBeDefined();
    now = 1500;
    expect(reg.poll(a)).toBeDefined();
    expect(reg.poll(b)).toBeUndefined();
    expect(reg.size).toBe(1);
    expect(reg.uninstall(a)).toBe(true);
    expect(reg.uninstall(a)).toBe(false);
  });
});

describe("bloom pre-filter", () => {
  it("agrees with @ethereumjs's Bloom: passes blocks that may hold a match, rejects provable misses", () => {
    const bloom = new Bloom();
    bloom.add(hexToBytes(A));
    bloom.add(hexToBytes(T1));
    bloom.add(hexToBytes(T2));
    const may = (f: Record<string, unknown>) => bloomMayMatch(bloom.bitvector, bloomQuery(parseLogCriteria(f)));
    expect(may({})).toBe(true);
    expect(may({ address: [B, A], topics: [T1, [T3, T2]] })).toBe(true);
    expect(may({ address: B })).toBe(false);
    expect(may({ topics: [null, T3] })).toBe(false);
    expect(may({ topics: [[], [T3, T1]] })).toBe(true);
  });
});
