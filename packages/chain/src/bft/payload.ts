import { type Block, createBlockFromRLP } from "@ethereumjs/block";
import type { Common } from "@ethereumjs/common";
import { RLP } from "@ethereumjs/rlp";
import { keccak256 } from "@zgnode/crypto";
import { bytesToHex, equalBytes, type Hex } from "@zgnode/utils";
import { ByteReader, ByteWriter, readVote, writeVote } from "../consensus/codec.ts";
import type { DuplicateVoteEvidence } from "../consensus/types.ts";
import { BftError, BftErrorCode } from "./errors.ts";

/**
 * What a proposal carries: the execution block plus the equivocation evidence it commits. The block's extraData
 * is the keccak256 of the evidence list (empty extraData when there is none), so the block hash, which is the
 * consensus block id, commits to the evidence too and a relayer cannot swap it.
 */
export interface BftPayload {
  block: Block;
  evidence: DuplicateVoteEvidence[];
}

export function encodeEvidence(ev: DuplicateVoteEvidence): Uint8Array {
  const w = new ByteWriter();
  writeVote(w, ev.voteA);
  writeVote(w, ev.voteB);
  return w.finish();
}

export function decodeEvidence(bytes: Uint8Array): DuplicateVoteEvidence {
  const r = new ByteReader(bytes);
  const voteA = readVote(r);
  const voteB = readVote(r);
  r.end();
  return { voteA, voteB };
}

/** keccak256 of one evidence: the id the staking contract records (`evidenceProcessed`) so it slashes once. */
export function evidenceHash(ev: DuplicateVoteEvidence): Uint8Array {
  // Order-independent: the same two votes in either order are the same offence.
  const a = encodeEvidence(ev);
  const b = encodeEvidence({ voteA: ev.voteB, voteB: ev.voteA });
  return keccak256(bytesToHex(a) < bytesToHex(b) ? a : b);
}

/** The extraData of a block carrying `evidence`: empty without evidence, else keccak256(rlp(list)). */
export function evidenceRoot(evidence: DuplicateVoteEvidence[]): Uint8Array {
  if (evidence.length === 0) return new Uint8Array(0);
  return keccak256(RLP.encode(evidence.map(encodeEvidence)));
}

export function encodePayload(p: BftPayload): Uint8Array {
  return RLP.encode([p.block.serialize(), p.evidence.map(encodeEvidence)]);
}

export function decodePayload(bytes: Uint8Array, common: Common): BftPayload {
  let block: Block;
  let evidence: DuplicateVoteEvidence[];
  try {
    const decoded = RLP.decode(bytes) as unknown;
    if (!Array.isArray(decoded) || decoded.length !== 2 || !(decoded[0] instanceof Uint8Array) || !Array.isArray(decoded[1]))
      throw new Error("payload must be [block, evidence[]]");
    block = createBlockFromRLP(decoded[0], { common, setHardfork: true });
    evidence = (decoded[1] as unknown[]).map((e) => {
      if (!(e instanceof Uint8Array)) throw new Error("evidence must be bytes");
      return decodeEvidence(e);
    });
  } catch (err) {
    throw new BftError(BftErrorCode.INVALID_PAYLOAD, `undecodable block payload: ${(err as Error).message}`);
  }
  if (!equalBytes(block.header.extraData, evidenceRoot(evidence)))
    throw new BftError(BftErrorCode.INVALID_PAYLOAD, "block extraData does not commit to the evidence it carries");
  return { block, evidence };
}

/** The consensus block id of a payload: the execution block hash. */
export function payloadBlockId(bytes: Uint8Array): Hex {
  const decoded = RLP.decode(bytes) as unknown;
  if (!Array.isArray(decoded) || !(decoded[0] instanceof Uint8Array))
    throw new BftError(BftErrorCode.INVALID_PAYLOAD, "payload must be [block, evidence[]]");
  const blockFields = RLP.decode(decoded[0]) as unknown;
  if (!Array.isArray(blockFields) || !Array.isArray(blockFields[0]))
    throw new BftError(BftErrorCode.INVALID_PAYLOAD, "payload block is not an RLP list");
  // The block hash is keccak256 of the RLP header, which is the first item of the block list.
  return bytesToHex(keccak256(RLP.encode(blockFields[0] as Uint8Array[])));
}
