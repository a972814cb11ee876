import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blsKeyFromSeed, blsVerify } from "@zgnode/crypto";
import { bytesToHex } from "@zgnode/utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bitmapHas,
  buildCommitCertificate,
  verifyCommitCertificate,
  verifyDuplicateVoteEvidence,
  verifyProposalSignature,
  verifyVoteSignature,
} from "../../src/consensus/certificate.ts";
import { decodeCertificate, encodeCertificate, voteSignBytes } from "../../src/consensus/codec.ts";
import { FilePrivValidator } from "../../src/consensus/privval.ts";
import { type Proposal, type Vote, VoteType } from "../../src/consensus/types.ts";
import { ValidatorSet } from "../../src/consensus/validators.ts";

const CHAIN_ID = 8888n;
const id = (n: number) => bytesToHex(Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? n : 7)));
const secretKeys = [1, 2, 3, 4].map((i) => blsKeyFromSeed(new Uint8Array(32).fill(i)));
const powers = [10, 20, 30, 40];
const set = ValidatorSet.create(secretKeys.map((sk, i) => ({ publicKey: sk.toPublicKey().toBytes(), power: powers[i] })));
const skOf = (index: number) => secretKeys[secretKeys.findIndex((sk) => set.indexOf(sk.toPublicKey().toBytes()) === index)];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "zgnode-privval-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function unsignedVote(validatorIndex: number, blockId: string | null, round = 0, type: VoteType = VoteType.PRECOMMIT): Vote {
  return { type, height: 5, round, blockId: blockId as Vote["blockId"], validatorIndex, signature: new Uint8Array(0) };
}

async function signedVotes(indices: number[], blockId = id(1)): Promise<Vote[]> {
  const out: Vote[] = [];
  for (const i of indices) {
    const pv = await FilePrivValidator.open(join(dir, `cert-${i}-${blockId}.json`), skOf(i), CHAIN_ID);
    out.push(await pv.signVote(unsignedVote(i, blockId)));
  }
  return out;
}

describe("FilePrivValidator", () => {
  it("signs real BLS votes and refuses to double-sign after a crash (reopen from disk)", async () => {
    const path = join(dir, "last-sign.json");
    const sk = skOf(0);
    const pv = await FilePrivValidator.open(path, sk, CHAIN_ID);
    const a = await pv.signVote(unsignedVote(0, id(1)));
    expect(blsVerify(set.validators[0].publicKey, voteSignBytes(CHAIN_ID, a), a.signature)).toBe(true);
    expect(verifyVoteSignature(CHAIN_ID, set, a)).toBe(true);

    // "Crash": forget the object, reopen from the file.
    const restarted = await FilePrivValidator.open(path, sk, CHAIN_ID);
    expect(restarted.lastSignState?.height).toBe(5);
    await expect(restarted.signVote(unsignedVote(0, id(2)))).rejects.toMatchObject({ code: "CONSENSUS_DOUBLE_SIGN" });
    await expect(restarted.signVote(unsignedVote(0, null))).rejects.toMatchObject({ code: "CONSENSUS_DOUBLE_SIGN" });
    // The identical vote is re-signed with the stored signature (a replayed WAL re-emits exactly what it sent).
    const again = await restarted.signVote(unsignedVote(0, id(1)));
    expect(bytesToHex(again.signature)).toBe(bytesToHex(a.signature));
    // Lower steps and rounds are refused; higher ones are fine.
    await expect(restarted.signVote(unsignedVote(0, id(1), 0, VoteType.PREVOTE))).rejects.toMatchObject({
      code: "CONSENSUS_DOUBLE_SIGN",
    });
    const next = await restarted.signVote(unsignedVote(0, null, 1, VoteType.PREVOTE));
    expect(verifyVoteSignature(CHAIN_ID, set, next)).toBe(true);
  });

  it("serializes concurrent requests so only one of two conflicting votes is signed", async () => {
    const pv = await FilePrivValidator.open(join(dir, "race.json"), skOf(1), CHAIN_ID);
    const results = await Promise.allSettled([pv.signVote(unsignedVote(1, id(1))), pv.signVote(unsignedVote(1, id(2)))]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
  });

  it("rejects a corrupt last-sign file with a coded error", async () => {
    const path = join(dir, "corrupt.json");
    await writeFile(path, "{not json");
    await expect(FilePrivValidator.open(path, skOf(0), CHAIN_ID)).rejects.toMatchObject({ code: "CONSENSUS_PRIVVAL_CORRUPT" });
  });

  it("signs proposals that verify only for the round's proposer", async () => {
    const proposer = set.proposerIdx;
    const pv = await FilePrivValidator.open(join(dir, "proposal.json"), skOf(proposer), CHAIN_ID);
    const p: Proposal = {
      height: 5,
      round: 0,
      polRound: -1,
      blockId: id(3),
      payload: Uint8Array.of(1),
      proposerIndex: proposer,
      signature: new Uint8Array(0),
    };
    const signed = await pv.signProposal(p);
    expect(verifyProposalSignature(CHAIN_ID, set, signed)).toBe(true);
    expect(verifyProposalSignature(CHAIN_ID, set, { ...signed, blockId: id(4) })).toBe(false);
    expect(verifyProposalSignature(CHAIN_ID, set, { ...signed, round: 1 })).toBe(false);
  });
});

describe("commit certificates (real BLS aggregation)", () => {
  it("aggregates > 2/3 precommits into one signature plus bitmap that verifies", async () => {
    const votes = await signedVotes([0, 1, 2]); // 40 + 30 + 20 = 90 of 100
    const cert = buildCommitCertificate(set, votes);
    expect(cert.signature.length).toBe(96);
    expect([0, 1, 2, 3].map((i) => bitmapHas(cert.signers, i))).toEqual([true, true, true, false]);
    expect(() => verifyCommitCertificate(CHAIN_ID, set, cert)).not.toThrow();
    const roundTrip = decodeCertificate(encodeCertificate(cert));
    expect(() => verifyCommitCertificate(CHAIN_ID, set, roundTrip)).not.toThrow();
  });

  it("rejects too little stake, a wrong bitmap, another block, another chain and a bad signature", async () => {
    const votes = await signedVotes([0, 1, 2]);
    const cert = buildCommitCertificate(set, votes);
    const weak = buildCommitCertificate(set, votes.slice(1)); // 30 + 20 = 50 of 100
    expect(() => verifyCommitCertificate(CHAIN_ID, set, weak)).toThrow(/not more than 2\/3/);
    expect(() => verifyCommitCertificate(CHAIN_ID, set, { ...cert, signers: Uint8Array.of(0b1011) })).toThrow(/does not verify/);
    expect(() => verifyCommitCertificate(CHAIN_ID, set, { ...cert, signers: Uint8Array.of(0b10111) })).toThrow(/outside the set/);
    expect(() => verifyCommitCertificate(CHAIN_ID, set, { ...cert, blockId: id(9) })).toThrow(/does not verify/);
    expect(() => verifyCommitCertificate(CHAIN_ID, set, { ...cert, round: 1 })).toThrow(/does not verify/);
    expect(() => verifyCommitCertificate(9999n, set, cert)).toThrow(/does not verify/);
    const other = buildCommitCertificate(set, await signedVotes([0, 1, 2], id(2)));
    expect(() => verifyCommitCertificate(CHAIN_ID, set, { ...cert, signature: other.signature })).toThrow(
      expect.objectContaining({ code: "CONSENSUS_INVALID_CERTIFICATE" }),
    );
  });

  it("refuses to build a certificate from mixed precommits", async () => {
    const a = await signedVotes([0], id(1));
    const b = await signedVotes([1], id(2));
    expect(() => buildCommitCertificate(set, [...a, ...b])).toThrow(/disagree/);
  });

  it("verifies duplicate-vote evidence and rejects forged or non-conflicting pairs", async () => {
    const sk = skOf(3);
    const sign = async (blockId: string | null, file: string) =>
      (await FilePrivValidator.open(join(dir, file), sk, CHAIN_ID)).signVote(unsignedVote(3, blockId, 2, VoteType.PREVOTE));
    const a = await sign(id(1), "ev-a.json");
    const b = await sign(null, "ev-b.json");
    expect(() => verifyDuplicateVoteEvidence(CHAIN_ID, set, { voteA: a, voteB: b })).not.toThrow();
    expect(() => verifyDuplicateVoteEvidence(CHAIN_ID, set, { voteA: a, voteB: a })).toThrow(/do not conflict/);
    expect(() => verifyDuplicateVoteEvidence(CHAIN_ID, set, { voteA: a, voteB: { ...b, signature: a.signature } })).toThrow(
      /signature/,
    );
    expect(() => verifyDuplicateVoteEvidence(CHAIN_ID, set, { voteA: a, voteB: { ...b, round: 3 } })).toThrow(/same validator/);
  });
});
