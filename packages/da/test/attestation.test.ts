import { blsVerify } from "@zgnode/crypto";
import { describe, expect, it } from "vitest";
import {
  type AttestationData,
  aggregateAttestations,
  attestationMessage,
  createSignerKey,
  DaErrorCode,
  exceedsTwoThirds,
  type Quorum,
  selectQuorum,
  signAttestation,
  verifyAggregateAttestation,
  verifySignerRegistration,
} from "../src/index.ts";
import { makeValidators } from "./fixtures.ts";

const root = new Uint8Array(32).fill(0x5a);
const data: AttestationData = { payloadRoot: root, epoch: 7n, chainId: 16600n, quorumId: 0 };

/** A quorum in which every validator holds columns: 12 members, stakes 1..12 units (total 78). */
function quorum12(): { quorum: Quorum; sign: (member: number, d?: AttestationData) => Uint8Array } {
  const { validators, keys } = makeValidators(Array.from({ length: 12 }, (_, i) => BigInt(i + 1) * 10n ** 18n));
  const quorum = selectQuorum({ validators, seed: new Uint8Array([1, 2, 3]), epoch: 7n, quorumId: 0, holdersPerColumn: 12 });
  const sign = (member: number, d = data) => {
    const key = keys.get(quorum.members[member].address);
    if (!key) throw new Error("no key");
    return signAttestation(key.secretKey, d);
  };
  return { quorum, sign };
}

describe("signer keys", () => {
  it("carry a proof of possession that verifies only for its own key", () => {
    const a = createSignerKey(new Uint8Array(32).fill(1));
    const b = createSignerKey(new Uint8Array(32).fill(2));
    verifySignerRegistration(a.publicKey, a.proofOfPossession);
    expect(() => verifySignerRegistration(a.publicKey, b.proofOfPossession)).toThrow(
      expect.objectContaining({ code: DaErrorCode.INVALID_PROOF_OF_POSSESSION }),
    );
  });
});

describe("attestation message", () => {
  it("binds payload root, epoch, chain id and quorum id", () => {
    const base = attestationMessage(data);
    const variants: AttestationData[] = [
      { ...data, payloadRoot: new Uint8Array(32).fill(0x5b) },
      { ...data, epoch: 8n },
      { ...data, chainId: 16601n },
      { ...data, quorumId: 1 },
    ];
    const { quorum, sign } = quorum12();
    const sig = sign(0);
    const pk = quorum.members[0].publicKey;
    expect(blsVerify(pk, base, sig)).toBe(true);
    for (const v of variants) {
      expect(attestationMessage(v)).not.toEqual(base);
      // a signature over one never verifies for another
      expect(blsVerify(pk, attestationMessage(v), sig)).toBe(false);
    }
    expect(() => attestationMessage({ ...data, payloadRoot: new Uint8Array(31) })).toThrow(
      expect.objectContaining({ code: DaErrorCode.INVALID_LENGTH }),
    );
  });
});

describe("aggregate attestations", () => {
  it("aggregates all members and verifies against bitmap and stakes", () => {
    const { quorum, sign } = quorum12();
    expect(quorum.members.length).toBe(12);
    const { aggregate, rejected, signedStake } = aggregateAttestations(
      quorum,
      data,
      quorum.members.map((_, member) => ({ member, signature: sign(member) })),
    );
    expect(rejected).toEqual([]);
    expect(signedStake).toBe(quorum.totalStake);
    expect(aggregate.bitmap).toEqual(new Uint8Array([0xff, 0x0f]));
    const out = verifyAggregateAttestation(quorum, aggregate);
    expect(out).toEqual({ signedStake: quorum.totalStake, totalStake: 78n * 10n ** 18n, signers: 12 });
  });

  it("requires strictly more than 2/3 of the quorum's stake", () => {
    expect(exceedsTwoThirds(2n, 3n)).toBe(false);
    expect(exceedsTwoThirds(53n, 78n)).toBe(true);
    expect(exceedsTwoThirds(52n, 78n)).toBe(false); // exactly 2/3
    const { quorum, sign } = quorum12();
    const stakeOf = (m: number) => quorum.members[m].stake / 10n ** 18n;
    // Members are in address order; pick subsets by their stakes: exactly 52 of 78 units, then 53.
    const pickUnits = (target: bigint): number[] => {
      // greedy from the largest stake down, then fill with smaller ones (stakes 1..12 reach every target ≤ 78)
      const order = quorum.members.map((_, i) => i).sort((a, b) => Number(stakeOf(b) - stakeOf(a)));
      const chosen: number[] = [];
      let left = target;
      for (const m of order) {
        if (stakeOf(m) <= left) {
          chosen.push(m);
          left -= stakeOf(m);
        }
      }
      expect(left).toBe(0n);
      return chosen;
    };
    const at = (units: bigint) =>
      aggregateAttestations(
        quorum,
        data,
        pickUnits(units).map((member) => ({ member, signature: sign(member) })),
      ).aggregate;
    expect(() => verifyAggregateAttestation(quorum, at(52n))).toThrow(
      expect.objectContaining({ code: DaErrorCode.BELOW_THRESHOLD }),
    );
    expect(verifyAggregateAttestation(quorum, at(53n)).signedStake).toBe(53n * 10n ** 18n);
  });

  it("rejects a bitmap that claims a member who did not sign", () => {
    const { quorum, sign } = quorum12();
    const { aggregate } = aggregateAttestations(
      quorum,
      data,
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((member) => ({ member, signature: sign(member) })),
    );
    const bitmap = aggregate.bitmap.slice();
    bitmap[1] |= 1 << 3; // member 11
    expect(() => verifyAggregateAttestation(quorum, { ...aggregate, bitmap })).toThrow(
      expect.objectContaining({ code: DaErrorCode.INVALID_SIGNATURE }),
    );
  });

  it("rejects malformed bitmaps and mismatched quorums", () => {
    const { quorum, sign } = quorum12();
    const { aggregate } = aggregateAttestations(
      quorum,
      data,
      quorum.members.map((_, member) => ({ member, signature: sign(member) })),
    );
    const code = (bitmap: Uint8Array) => {
      try {
        verifyAggregateAttestation(quorum, { ...aggregate, bitmap });
      } catch (err) {
        return (err as { code: string }).code;
      }
      return "none";
    };
    expect(code(new Uint8Array([0xff]))).toBe(DaErrorCode.INVALID_BITMAP);
    expect(code(new Uint8Array([0xff, 0x1f]))).toBe(DaErrorCode.INVALID_BITMAP); // bit 12 is past the quorum
    expect(code(new Uint8Array([0, 0]))).toBe(DaErrorCode.INVALID_BITMAP);
    expect(code(aggregate.bitmap)).toBe("none");
    expect(() => verifyAggregateAttestation(quorum, { ...aggregate, data: { ...data, epoch: 8n } })).toThrow(
      expect.objectContaining({ code: DaErrorCode.INVALID_ARGUMENT }),
    );
  });

  it("drops signatures that do not verify and counts duplicates once", () => {
    const { quorum, sign } = quorum12();
    const parts = quorum.members.map((_, member) => ({ member, signature: sign(member) }));
    parts[4] = { member: 4, signature: sign(5) }; // someone else's signature
    parts[6] = { member: 6, signature: sign(6, { ...data, epoch: 9n }) }; // wrong message
    parts.push({ member: 0, signature: sign(0) });
    const { aggregate, rejected, signedStake } = aggregateAttestations(quorum, data, parts);
    expect(rejected).toEqual([4, 6]);
    expect(signedStake).toBe(quorum.totalStake - quorum.members[4].stake - quorum.members[6].stake);
    expect(aggregate.bitmap).toEqual(new Uint8Array([0xaf, 0x0f]));
    expect(verifyAggregateAttestation(quorum, aggregate).signers).toBe(10);
  });
});
