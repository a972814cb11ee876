import { describe, expect, it } from "vitest";
import { CELLS_PER_BLOB, DaErrorCode, type Quorum, selectQuorum, type Validator } from "../src/index.ts";
import { makeValidators } from "./fixtures.ts";

const seed = new Uint8Array([9, 9, 9, 9]);

function assignmentOf(q: Quorum): string {
  return JSON.stringify(q.holders.map((hs) => hs.map((m) => q.members[m].address)));
}

describe("quorum selection", () => {
  const { validators } = makeValidators(Array.from({ length: 40 }, (_, i) => BigInt(1 + (i % 4))));

  it("is deterministic and independent of the input order", () => {
    const a = selectQuorum({ validators, seed, epoch: 3, quorumId: 0, holdersPerColumn: 4 });
    const b = selectQuorum({ validators: [...validators].reverse(), seed, epoch: 3, quorumId: 0, holdersPerColumn: 4 });
    expect(assignmentOf(b)).toBe(assignmentOf(a));
    expect(b.members.map((m) => m.address)).toEqual(a.members.map((m) => m.address));
    const sorted = [...a.members.map((m) => m.address)].sort();
    expect(a.members.map((m) => m.address)).toEqual(sorted);
  });

  it("changes with the seed, the epoch and the quorum id", () => {
    const base = assignmentOf(selectQuorum({ validators, seed, epoch: 3, quorumId: 0, holdersPerColumn: 4 }));
    expect(
      assignmentOf(selectQuorum({ validators, seed: new Uint8Array([9, 9, 9, 8]), epoch: 3, quorumId: 0, holdersPerColumn: 4 })),
    ).not.toBe(base);
    expect(assignmentOf(selectQuorum({ validators, seed, epoch: 4, quorumId: 0, holdersPerColumn: 4 }))).not.toBe(base);
    expect(assignmentOf(selectQuorum({ validators, seed, epoch: 3, quorumId: 1, holdersPerColumn: 4 }))).not.toBe(base);
  });

  it("gives every column the requested number of distinct holders, consistently indexed", () => {
    const q = selectQuorum({ validators, seed, epoch: 3, quorumId: 0, holdersPerColumn: 4 });
    expect(q.holders.length).toBe(CELLS_PER_BLOB);
    for (const [column, hs] of q.holders.entries()) {
      expect(new Set(hs).size).toBe(4);
      for (const m of hs) expect(q.members[m].columns).toContain(column);
    }
    const slots = q.members.reduce((n, m) => n + m.columns.length, 0);
    expect(slots).toBe(4 * CELLS_PER_BLOB);
    expect(q.totalStake).toBe(q.members.reduce((s, m) => s + m.stake, 0n));
    // fewer validators than holders per column: everyone holds everything
    const small = selectQuorum({ validators: validators.slice(0, 3), seed, epoch: 3, quorumId: 0, holdersPerColumn: 4 });
    for (const hs of small.holders) expect(hs).toEqual([0, 1, 2]);
  });

  it("assigns columns in proportion to stake", () => {
    // 40 validators in four stake classes (1, 2, 3, 4 units; 10 each; total 100); many columns for statistics.
    const columns = 8000;
    const holdersPerColumn = 4;
    const q = selectQuorum({ validators, seed, epoch: 1, quorumId: 0, holdersPerColumn, columns });
    const byClass = new Map<bigint, number>();
    for (const m of q.members) byClass.set(m.stake, (byClass.get(m.stake) ?? 0) + m.columns.length);
    const slots = columns * holdersPerColumn;
    for (const stake of [1n, 2n, 3n, 4n]) {
      const expected = (slots * Number(stake) * 10) / 100;
      // Drawing without replacement inside a column flattens shares slightly (heavier validators cannot be drawn
      // twice): at 4% maximum stake light classes gain up to ~4%; sampling noise is ~2% for the lightest class.
      expect(Math.abs((byClass.get(stake) ?? 0) - expected) / expected).toBeLessThan(0.1);
    }
    const perUnit = [1n, 2n, 3n, 4n].map((s) => (byClass.get(s) as number) / Number(s));
    expect(Math.max(...perUnit) / Math.min(...perUnit)).toBeLessThan(1.15);
  });

  it("puts a dominant validator in nearly every column", () => {
    const { validators: vs } = makeValidators([900n, 25n, 25n, 25n, 25n, 1n, 1n, 1n]);
    const q = selectQuorum({ validators: vs, seed, epoch: 1, quorumId: 0, holdersPerColumn: 2 });
    const whale = q.members.findIndex((m) => m.stake === 900n);
    const share = q.members[whale].columns.length / CELLS_PER_BLOB;
    expect(share).toBeGreaterThan(0.95);
  });

  it("rejects malformed validator sets with coded errors", () => {
    const bad = (vs: Validator[]) => () => selectQuorum({ validators: vs, seed, epoch: 1, quorumId: 0, holdersPerColumn: 2 });
    const code = { code: DaErrorCode.INVALID_VALIDATOR_SET };
    expect(bad([])).toThrow(expect.objectContaining(code));
    expect(bad([validators[0], { ...validators[1], address: validators[0].address }])).toThrow(expect.objectContaining(code));
    expect(bad([{ ...validators[0], stake: 0n }])).toThrow(expect.objectContaining(code));
    expect(bad([{ ...validators[0], blsPublicKey: new Uint8Array(48) }])).toThrow(expect.objectContaining(code));
    expect(bad([{ ...validators[0], address: "0x1234" }])).toThrow(expect.objectContaining(code));
  });
});
