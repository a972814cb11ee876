import { describe, expect, it } from "vitest";
import { ValidatorSet } from "../../src/consensus/validators.ts";

const key = (i: number) => Uint8Array.from({ length: 48 }, (_, j) => (j === 0 ? i : j));

describe("ValidatorSet proposer rotation", () => {
  it("matches CometBFT's TestProposerSelection1 sequence (powers 1000/300/330, 99 rounds)", () => {
    const names = new Map([
      ["foo", key(1)],
      ["bar", key(2)],
      ["baz", key(3)],
    ]);
    let set = ValidatorSet.create([
      { publicKey: key(1), power: 1000 },
      { publicKey: key(2), power: 300 },
      { publicKey: key(3), power: 330 },
    ]);
    const nameOf = (pk: Uint8Array) => [...names].find(([, k]) => k[0] === pk[0])?.[0];
    const seq: string[] = [];
    for (let i = 0; i < 99; i++) {
      seq.push(nameOf(set.proposer.publicKey) as string);
      set = set.copyIncremented(1);
    }
    // Expected sequence from cometbft types/validator_set_test.go TestProposerSelection1.
    const expected =
      "foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar foo baz foo foo bar foo baz foo foo bar foo baz foo foo foo baz bar foo foo foo baz foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar foo baz foo foo bar foo baz foo foo";
    expect(seq.join(" ")).toBe(expected);
  });

  it("gives each validator proposer turns in proportion to its power", () => {
    const powers = [7, 3, 1, 9];
    let set = ValidatorSet.create(powers.map((power, i) => ({ publicKey: key(i + 1), power })));
    const counts = new Map<number, number>();
    const rounds = 20 * 1000;
    for (let i = 0; i < rounds; i++) {
      const p = set.proposer;
      counts.set(p.power, (counts.get(p.power) ?? 0) + 1);
      set = set.copyIncremented(1);
    }
    for (const p of powers) expect(Math.abs((counts.get(p) ?? 0) - (rounds * p) / 20)).toBeLessThanOrEqual(2);
  });

  it("copyIncremented(n) equals n single increments, and does not mutate the original", () => {
    const base = ValidatorSet.create([5, 4, 3, 2].map((power, i) => ({ publicKey: key(i + 1), power })));
    let stepped = base;
    for (let i = 0; i < 5; i++) stepped = stepped.copyIncremented(1);
    const before = base.validators.map((v) => v.proposerPriority);
    expect(base.copyIncremented(5).proposer.publicKey).toEqual(base.copyIncremented(5).proposer.publicKey);
    expect(base.validators.map((v) => v.proposerPriority)).toEqual(before);
    expect(stepped.validators.length).toBe(4);
  });

  it("sorts by power, computes quorum thresholds and rejects bad sets", () => {
    const set = ValidatorSet.create([1, 2, 3].map((power, i) => ({ publicKey: key(i + 1), power })));
    expect(set.validators.map((v) => v.power)).toEqual([3, 2, 1]);
    expect(set.hasQuorum(4)).toBe(false);
    expect(set.hasQuorum(5)).toBe(true);
    expect(set.hasOneThird(2)).toBe(false);
    expect(set.hasOneThird(3)).toBe(true);
    expect(() => ValidatorSet.create([])).toThrow(/empty/);
    expect(() =>
      ValidatorSet.create([
        { publicKey: key(1), power: 1 },
        { publicKey: key(1), power: 2 },
      ]),
    ).toThrow(/duplicate/);
    expect(() => ValidatorSet.create([{ publicKey: key(1), power: -1 }])).toThrow(/invalid voting power/);
  });

  it("new validators start behind (cannot propose at once) and removed ones leave", () => {
    const set = ValidatorSet.create([10, 10, 10].map((power, i) => ({ publicKey: key(i + 1), power })));
    const updated = set.withUpdates([
      { publicKey: key(4), power: 30 },
      { publicKey: key(3), power: 0 },
    ]);
    expect(updated.size).toBe(3);
    expect(updated.indexOf(key(3))).toBe(-1);
    expect(updated.proposer.publicKey[0]).not.toBe(4);
    expect(updated.totalPower).toBe(50);
  });
});
