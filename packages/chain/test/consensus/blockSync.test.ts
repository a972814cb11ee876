import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keccak256 } from "@zgnode/crypto";
import { bytesToHex } from "@zgnode/utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  blocksByRangeRequestCodec,
  type SyncedBlock,
  syncedBlocksCodec,
  verifySyncedBlock,
} from "../../src/consensus/blockSync.ts";
import { buildCommitCertificate } from "../../src/consensus/certificate.ts";
import {
  decodeEngineInput,
  decodeProposal,
  decodeVote,
  encodeEngineInput,
  encodeProposal,
  encodeVote,
} from "../../src/consensus/codec.ts";
import { FilePrivValidator } from "../../src/consensus/privval.ts";
import { type Proposal, type Vote, VoteType } from "../../src/consensus/types.ts";
import { ValidatorSet } from "../../src/consensus/validators.ts";
import { CHAIN_ID, validatorKeys } from "./harness.ts";

const keys = validatorKeys(4);
const set = ValidatorSet.create(keys.map((k, i) => ({ publicKey: k.toPublicKey().toBytes(), power: 10 + i })));
const blockIdOf = (payload: Uint8Array) => bytesToHex(keccak256(payload));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "zgnode-sync-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function certifiedBlock(height: number, payload: Uint8Array, signers: number[]): Promise<SyncedBlock> {
  const blockId = blockIdOf(payload);
  const votes: Vote[] = [];
  for (const i of signers) {
    const key = keys.find((k) => set.indexOf(k.toPublicKey().toBytes()) === i);
    const pv = await FilePrivValidator.open(join(dir, `${height}-${i}-${blockId}.json`), key as (typeof keys)[0], CHAIN_ID);
    votes.push(
      await pv.signVote({ type: VoteType.PRECOMMIT, height, round: 1, blockId, validatorIndex: i, signature: new Uint8Array(0) }),
    );
  }
  return { payload, certificate: buildCommitCertificate(set, votes) };
}

describe("blocks_by_range", () => {
  it("round-trips requests and responses and rejects malformed ones", async () => {
    expect(blocksByRangeRequestCodec.decode(blocksByRangeRequestCodec.encode({ startHeight: 7, count: 3 }))).toEqual({
      startHeight: 7,
      count: 3,
    });
    expect(() => blocksByRangeRequestCodec.decode(blocksByRangeRequestCodec.encode({ startHeight: 7, count: 1000 }))).toThrow(
      /bad blocks_by_range/,
    );
    expect(() => blocksByRangeRequestCodec.decode(Uint8Array.of(1, 2))).toThrow(/truncated/);
    const blocks = [
      await certifiedBlock(5, Uint8Array.of(5, 5), [0, 1, 2]),
      await certifiedBlock(6, Uint8Array.of(6), [1, 2, 3]),
    ];
    const decoded = syncedBlocksCodec.decode(syncedBlocksCodec.encode(blocks));
    expect(decoded).toEqual(blocks);
    expect(() => syncedBlocksCodec.decode(syncedBlocksCodec.encode(blocks).subarray(0, 20))).toThrow();
  });

  it("accepts a block only with a certificate for exactly it, at the expected height, by > 2/3 of the stake", async () => {
    const good = await certifiedBlock(5, Uint8Array.of(1, 2, 3), [1, 2, 3]);
    expect(() => verifySyncedBlock(CHAIN_ID, 5, set, good, blockIdOf)).not.toThrow();
    expect(() => verifySyncedBlock(CHAIN_ID, 6, set, good, blockIdOf)).toThrow(/expected height 6/);
    // Same certificate, different block bytes.
    expect(() => verifySyncedBlock(CHAIN_ID, 5, set, { ...good, payload: Uint8Array.of(9) }, blockIdOf)).toThrow(
      /certificate is for/,
    );
    // Too little stake: validators 2 and 3 hold 11 + 10 = 21 of 46.
    const weak = await certifiedBlock(5, Uint8Array.of(1, 2, 3), [2, 3]);
    expect(() => verifySyncedBlock(CHAIN_ID, 5, set, weak, blockIdOf)).toThrow(
      expect.objectContaining({ code: "CONSENSUS_INVALID_CERTIFICATE" }),
    );
  });
});

describe("consensus codecs", () => {
  it("round-trip votes, proposals and WAL inputs, and reject garbage with coded errors", () => {
    const v: Vote = {
      type: VoteType.PRECOMMIT,
      height: 2 ** 40,
      round: 3,
      blockId: null,
      validatorIndex: 7,
      signature: Uint8Array.of(1, 2),
    };
    expect(decodeVote(encodeVote(v))).toEqual(v);
    const p: Proposal = {
      height: 9,
      round: 2,
      polRound: -1,
      blockId: blockIdOf(Uint8Array.of(1)),
      payload: new Uint8Array(1000).fill(3),
      proposerIndex: 1,
      signature: new Uint8Array(96).fill(4),
    };
    expect(decodeProposal(encodeProposal(p))).toEqual(p);
    expect(decodeProposal(encodeProposal({ ...p, polRound: 1 })).polRound).toBe(1);
    const t = { type: "timeout" as const, timeout: { height: 3, round: 1, step: "rebroadcast" as const } };
    expect(decodeEngineInput(encodeEngineInput(t))).toEqual(t);
    expect(() => decodeVote(encodeVote(v).subarray(0, 10))).toThrow(
      expect.objectContaining({ code: "CONSENSUS_INVALID_MESSAGE" }),
    );
    expect(() => decodeVote(Uint8Array.of(9, ...encodeVote(v).subarray(1)))).toThrow(/unknown vote type/);
    expect(() => decodeProposal(Uint8Array.of(...encodeProposal(p), 0))).toThrow(/trailing/);
  });
});
