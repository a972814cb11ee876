import {
  type BlsPublicKey,
  blsAggregateSignatures,
  blsFastAggregateVerify,
  blsPublicKeyFromBytes,
  blsVerify,
} from "@zgnode/crypto";
import { CodedError } from "@zgnode/utils";
import { proposalSignBytes, voteSignBytes } from "./codec.ts";
import { ConsensusErrorCode } from "./errors.ts";
import type { CommitCertificate, DuplicateVoteEvidence, Proposal, Vote } from "./types.ts";
import { VoteType } from "./types.ts";
import type { ValidatorSet } from "./validators.ts";

/** Parsed (group-checked) public keys, cached per key bytes object: parsing costs more than a verification. */
const keyCache = new WeakMap<Uint8Array, BlsPublicKey>();

function publicKey(bytes: Uint8Array): BlsPublicKey {
  let pk = keyCache.get(bytes);
  if (!pk) {
    pk = blsPublicKeyFromBytes(bytes);
    keyCache.set(bytes, pk);
  }
  return pk;
}

export function verifyVoteSignature(chainId: bigint, set: ValidatorSet, vote: Vote): boolean {
  const v = set.validators[vote.validatorIndex];
  if (!v) return false;
  return blsVerify(publicKey(v.publicKey), voteSignBytes(chainId, vote), vote.signature);
}

/** `set` must be the validator set of the proposal's height; the proposer of its round is checked too. */
export function verifyProposalSignature(chainId: bigint, set: ValidatorSet, proposal: Proposal): boolean {
  const roundSet = proposal.round === 0 ? set : set.copyIncremented(proposal.round);
  if (roundSet.proposerIdx !== proposal.proposerIndex) return false;
  const v = set.validators[proposal.proposerIndex];
  return blsVerify(publicKey(v.publicKey), proposalSignBytes(chainId, proposal), proposal.signature);
}

export function bitmapSet(bitmap: Uint8Array, i: number): void {
  bitmap[i >> 3] |= 1 << (i & 7);
}

export function bitmapHas(bitmap: Uint8Array, i: number): boolean {
  return (((bitmap[i >> 3] ?? 0) >> (i & 7)) & 1) === 1;
}

/** Aggregates the precommits of a decision into one certificate. All must be precommits for one (height, round, block). */
export function buildCommitCertificate(set: ValidatorSet, precommits: Vote[]): CommitCertificate {
  const first = precommits[0];
  if (!first || first.blockId === null)
    throw new CodedError(ConsensusErrorCode.INVALID_CERTIFICATE, "a certificate needs precommits for a block");
  const signers = new Uint8Array(Math.ceil(set.size / 8));
  const sigs: Uint8Array[] = [];
  for (const v of precommits) {
    if (v.type !== VoteType.PRECOMMIT || v.height !== first.height || v.round !== first.round || v.blockId !== first.blockId)
      throw new CodedError(ConsensusErrorCode.INVALID_CERTIFICATE, "precommits disagree on height, round or block");
    if (v.validatorIndex >= set.size || bitmapHas(signers, v.validatorIndex)) continue;
    bitmapSet(signers, v.validatorIndex);
    sigs.push(v.signature);
  }
  return {
    height: first.height,
    round: first.round,
    blockId: first.blockId,
    signature: blsAggregateSignatures(sigs),
    signers,
  };
}

/**
 * Checks a commit certificate against the validator set of its height: the bitmap names validators holding more
 * than 2/3 of the stake, and the aggregate signature verifies over the precommit sign bytes with their aggregated
 * keys. Throws CONSENSUS_INVALID_CERTIFICATE with the reason otherwise.
 */
export function verifyCommitCertificate(chainId: bigint, set: ValidatorSet, cert: CommitCertificate): void {
  const fail = (why: string) => {
    throw new CodedError(ConsensusErrorCode.INVALID_CERTIFICATE, `certificate for height ${cert.height}: ${why}`);
  };
  if (cert.signers.length !== Math.ceil(set.size / 8)) fail("signer bitmap has the wrong length");
  const keys: BlsPublicKey[] = [];
  let power = 0;
  for (let i = 0; i < cert.signers.length * 8; i++) {
    if (!bitmapHas(cert.signers, i)) continue;
    if (i >= set.size) fail(`bitmap names validator ${i} outside the set`);
    keys.push(publicKey(set.validators[i].publicKey));
    power += set.validators[i].power;
  }
  if (!set.hasQuorum(power)) fail(`signers hold ${power} of ${set.totalPower} power, not more than 2/3`);
  const msg = voteSignBytes(chainId, { type: VoteType.PRECOMMIT, height: cert.height, round: cert.round, blockId: cert.blockId });
  if (!blsFastAggregateVerify(keys, msg, cert.signature)) fail("aggregate signature does not verify");
}

/**
 * Checks duplicate-vote evidence (CometBFT spec/consensus/evidence.md): same validator, height, round and type,
 * different block ids, both signatures valid under the validator's key in the set of that height.
 */
export function verifyDuplicateVoteEvidence(chainId: bigint, set: ValidatorSet, ev: DuplicateVoteEvidence): void {
  const { voteA: a, voteB: b } = ev;
  const fail = (why: string) => {
    throw new CodedError(ConsensusErrorCode.INVALID_MESSAGE, `invalid duplicate-vote evidence: ${why}`);
  };
  if (a.validatorIndex !== b.validatorIndex || a.height !== b.height || a.round !== b.round || a.type !== b.type)
    fail("votes are not from the same validator, height, round and type");
  if (a.blockId === b.blockId) fail("votes do not conflict");
  if (!verifyVoteSignature(chainId, set, a) || !verifyVoteSignature(chainId, set, b)) fail("a signature does not verify");
}
