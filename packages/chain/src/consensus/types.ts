import type { Hex } from "@zgnode/utils";

/**
 * Message and value types of the BFT engine. Block ids are opaque 32-byte hashes (hex strings so they work as map
 * keys); the engine never looks inside a block, it only carries the proposer's payload bytes to the driver.
 */
export type BlockId = Hex;

export const VoteType = {
  PREVOTE: 1,
  PRECOMMIT: 2,
} as const;
export type VoteType = (typeof VoteType)[keyof typeof VoteType];

/** Steps of a round, ordered; the numbers are also the privval step numbers (propose 1, prevote 2, precommit 3). */
export const Step = {
  PROPOSE: 1,
  PREVOTE: 2,
  PRECOMMIT: 3,
  /** The height is decided; the engine waits for the driver to start the next one. */
  COMMIT: 4,
} as const;
export type Step = (typeof Step)[keyof typeof Step];

export interface Vote {
  type: VoteType;
  height: number;
  round: number;
  /** null is a vote for nil. */
  blockId: BlockId | null;
  validatorIndex: number;
  /** BLS signature over `voteSignBytes`; empty until signed. */
  signature: Uint8Array;
}

export interface Proposal {
  height: number;
  round: number;
  /** The round of the proof-of-lock this value carries, or -1 for a fresh value. */
  polRound: number;
  blockId: BlockId;
  /** The block itself (opaque to the engine; the driver's BlockSource encodes and decodes it). */
  payload: Uint8Array;
  proposerIndex: number;
  signature: Uint8Array;
}

/** Two conflicting votes by one validator for the same height, round and type: proof of equivocation. */
export interface DuplicateVoteEvidence {
  voteA: Vote;
  voteB: Vote;
}

/**
 * Proof that a block was committed: > 2/3 of the stake precommitted `blockId` at (height, round). `signature` is the
 * BLS aggregate of their precommit signatures; `signers` is a bitmap over validator-set indices (bit i of byte i>>3,
 * least significant bit first).
 */
export interface CommitCertificate {
  height: number;
  round: number;
  blockId: BlockId;
  signature: Uint8Array;
  signers: Uint8Array;
}

export type TimeoutStep = "propose" | "prevote" | "precommit" | "newHeight" | "rebroadcast";

export interface Timeout {
  height: number;
  round: number;
  step: TimeoutStep;
}

/** Everything that can happen to the engine. Time only enters as timeout events. */
export type EngineInput =
  | { type: "proposal"; proposal: Proposal }
  | { type: "vote"; vote: Vote }
  | { type: "timeout"; timeout: Timeout }
  /** Answer to a `buildBlock` output. */
  | { type: "blockBuilt"; height: number; round: number; blockId: BlockId; payload: Uint8Array };

/** Everything the engine asks the outside world to do. */
export type EngineOutput =
  /** Sign (through privval, after the WAL is synced), broadcast, then feed the signed message back as an input. */
  | { type: "signProposal"; proposal: Proposal }
  | { type: "signVote"; vote: Vote }
  /** Re-send already signed messages (own votes, the proposal being locked on) so lossy links still converge. */
  | { type: "rebroadcast"; proposals: Proposal[]; votes: Vote[] }
  | { type: "scheduleTimeout"; timeout: Timeout; durationMs: number }
  /** Build a new block for (height, round) and answer with a `blockBuilt` input. */
  | { type: "buildBlock"; height: number; round: number }
  /** The height is decided: commit `proposal.payload` with the certificate built from `precommits`. */
  | { type: "commit"; height: number; round: number; proposal: Proposal; precommits: Vote[] }
  | { type: "evidence"; evidence: DuplicateVoteEvidence }
  /** A validator sent a message for a later height: we are probably behind and should block-sync from it. */
  | { type: "peerAhead"; height: number; validatorIndex: number };
