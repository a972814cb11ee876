import { describe, expect, it } from "vitest";
import {
  blsAggregateSignatures,
  blsFastAggregateVerify,
  blsKeyFromSeed,
  blsProofOfPossession,
  blsSign,
  blsVerify,
  blsVerifyProofOfPossession,
} from "../src/index.ts";

const seed = (i: number) => new Uint8Array(32).fill(i + 1);

describe("bls", () => {
  it("signs, verifies and rejects a changed message", () => {
    const sk = blsKeyFromSeed(seed(0));
    const msg = new TextEncoder().encode("hello");
    const sig = blsSign(sk, msg);
    expect(blsVerify(sk.toPublicKey().toBytes(), msg, sig)).toBe(true);
    expect(blsVerify(sk.toPublicKey().toBytes(), new TextEncoder().encode("hellp"), sig)).toBe(false);
    expect(blsVerify(sk.toPublicKey().toBytes(), msg, new Uint8Array(96))).toBe(false);
  });

  it("aggregates and checks proofs of possession", () => {
    const sks = [0, 1, 2].map((i) => blsKeyFromSeed(seed(i)));
    const msg = new Uint8Array([1, 2, 3]);
    const agg = blsAggregateSignatures(sks.map((sk) => blsSign(sk, msg)));
    const pks = sks.map((sk) => sk.toPublicKey().toBytes());
    expect(blsFastAggregateVerify(pks, msg, agg)).toBe(true);
    expect(blsFastAggregateVerify(pks.slice(0, 2), msg, agg)).toBe(false);
    const pop = blsProofOfPossession(sks[0]);
    expect(blsVerifyProofOfPossession(pks[0], pop)).toBe(true);
    expect(blsVerifyProofOfPossession(pks[1], pop)).toBe(false);
  });
});
