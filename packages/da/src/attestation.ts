import {
  type BlsSecretKey,
  blsAggregateSignatures,
  blsFastAggregateVerify,
  blsKeyFromSeed,
  blsProofOfPossession,
  blsSign,
  blsVerify,
  blsVerifyProofOfPossession,
} from "@zgnode/crypto";
import { concatBytes, uintToBytes, utf8ToBytes } from "@zgnode/utils";
import { DaError, DaErrorCode } from "./errors.ts";
import type { Quorum } from "./quorum.ts";

/** What a signer attests: it holds its columns of the payload with this root, for this epoch, chain and quorum. */
export interface AttestationData {
  payloadRoot: Uint8Array;
  epoch: bigint | number;
  chainId: bigint | number;
  quorumId: number;
}

/** An aggregate attestation: one BLS signature and the bitmap of quorum members (member order) who signed. */
export interface AggregateAttestation {
  data: AttestationData;
  /** Bit i (byte i >> 3, bit i & 7, least significant first) set when member i signed. */
  bitmap: Uint8Array;
  signature: Uint8Array;
}

export interface SignerKey {
  secretKey: BlsSecretKey;
  publicKey: Uint8Array;
  /** Proof of possession, checked before a key may join any quorum (defeats rogue-key aggregation attacks). */
  proofOfPossession: Uint8Array;
}

const ATTESTATION_DOMAIN = utf8ToBytes("zgnode/da-attestation/v1");

export function createSignerKey(seed: Uint8Array): SignerKey {
  const secretKey = blsKeyFromSeed(seed);
  return {
    secretKey,
    publicKey: secretKey.toPublicKey().toBytes(),
    proofOfPossession: blsProofOfPossession(secretKey),
  };
}

/** Registration check for a signer key; throws `DA_INVALID_PROOF_OF_POSSESSION`. */
export function verifySignerRegistration(publicKey: Uint8Array, proofOfPossession: Uint8Array): void {
  if (!blsVerifyProofOfPossession(publicKey, proofOfPossession)) {
    throw new DaError(DaErrorCode.INVALID_PROOF_OF_POSSESSION, "BLS proof of possession does not verify");
  }
}

/**
 * The signed bytes: domain ‖ chainId (u64) ‖ epoch (u64) ‖ quorumId (u32) ‖ payloadRoot (32). Fixed-width fields,
 * so no two attestations share a message; the domain keeps them apart from consensus votes and PoPs.
 */
export function attestationMessage(data: AttestationData): Uint8Array {
  if (!(data.payloadRoot instanceof Uint8Array) || data.payloadRoot.length !== 32) {
    throw new DaError(DaErrorCode.INVALID_LENGTH, "payload root must be 32 bytes");
  }
  try {
    return concatBytes(
      ATTESTATION_DOMAIN,
      uintToBytes(data.chainId, 8),
      uintToBytes(data.epoch, 8),
      uintToBytes(data.quorumId, 4),
      data.payloadRoot,
    );
  } catch (err) {
    throw new DaError(DaErrorCode.INVALID_ARGUMENT, "chain id, epoch or quorum id out of range", undefined, { cause: err });
  }
}

export function signAttestation(secretKey: BlsSecretKey, data: AttestationData): Uint8Array {
  return blsSign(secretKey, attestationMessage(data));
}

function checkQuorumMatches(quorum: Quorum, data: AttestationData): void {
  if (BigInt(data.epoch) !== quorum.epoch || data.quorumId !== quorum.quorumId) {
    throw new DaError(DaErrorCode.INVALID_ARGUMENT, "attestation epoch or quorum id differs from the quorum's", {
      epoch: String(data.epoch),
      quorumId: data.quorumId,
    });
  }
}

export interface AggregationResult {
  aggregate: AggregateAttestation;
  /** Member indices whose signature did not verify (left out of the aggregate). */
  rejected: number[];
  signedStake: bigint;
}

/**
 * Aggregates members' signatures. Optimistic first: aggregate everything and check once (about 1 ms for 100
 * signers); only if that fails is each signature checked on its own (one pairing each), so a bad signature costs
 * its sender its place rather than spoiling the aggregate. Duplicates of a member count once.
 */
export function aggregateAttestations(
  quorum: Quorum,
  data: AttestationData,
  signatures: Array<{ member: number; signature: Uint8Array }>,
): AggregationResult {
  checkQuorumMatches(quorum, data);
  const msg = attestationMessage(data);
  const seen = new Set<number>();
  const candidates: Array<{ member: number; signature: Uint8Array }> = [];
  for (const part of signatures) {
    const { member } = part;
    if (!Number.isInteger(member) || member < 0 || member >= quorum.members.length) {
      throw new DaError(DaErrorCode.INVALID_INDEX, `member ${member} is not in the quorum`, { member });
    }
    if (seen.has(member)) continue;
    seen.add(member);
    candidates.push(part);
  }
  let accepted = candidates;
  const rejected: number[] = [];
  let signature: Uint8Array | undefined;
  try {
    const all = blsAggregateSignatures(candidates.map((c) => c.signature));
    const keys = candidates.map((c) => quorum.members[c.member].publicKey);
    if (blsFastAggregateVerify(keys, msg, all)) signature = all;
  } catch {
    // a malformed signature among them: fall through to one-by-one checks
  }
  if (!signature) {
    accepted = [];
    for (const c of candidates) {
      if (blsVerify(quorum.members[c.member].publicKey, msg, c.signature)) accepted.push(c);
      else rejected.push(c.member);
    }
    if (accepted.length === 0) throw new DaError(DaErrorCode.INVALID_SIGNATURE, "no valid signature to aggregate", { rejected });
    signature = blsAggregateSignatures(accepted.map((c) => c.signature));
  }
  const bitmap = new Uint8Array(Math.ceil(quorum.members.length / 8));
  let signedStake = 0n;
  for (const c of accepted) {
    bitmap[c.member >> 3] |= 1 << (c.member & 7);
    signedStake += quorum.members[c.member].stake;
  }
  return { aggregate: { data, bitmap, signature }, rejected: rejected.sort((a, b) => a - b), signedStake };
}

/** True when `signed` is strictly more than two thirds of `total` (exact integer arithmetic). */
export function exceedsTwoThirds(signed: bigint, total: bigint): boolean {
  return 3n * signed > 2n * total;
}

/**
 * Verifies an aggregate attestation against the quorum: bitmap shape, stake threshold (more than 2/3 of the
 * quorum's stake), then one aggregate pairing check over the signers' keys. Throws `DA_INVALID_BITMAP`,
 * `DA_BELOW_THRESHOLD` or `DA_INVALID_SIGNATURE`; returns the signed and total stake.
 */
export function verifyAggregateAttestation(
  quorum: Quorum,
  aggregate: AggregateAttestation,
): { signedStake: bigint; totalStake: bigint; signers: number } {
  checkQuorumMatches(quorum, aggregate.data);
  const count = quorum.members.length;
  const { bitmap } = aggregate;
  if (!(bitmap instanceof Uint8Array) || bitmap.length !== Math.ceil(count / 8)) {
    throw new DaError(DaErrorCode.INVALID_BITMAP, `bitmap must be ${Math.ceil(count / 8)} bytes for ${count} members`);
  }
  if (count % 8 !== 0 && bitmap[bitmap.length - 1] >> (count % 8) !== 0) {
    throw new DaError(DaErrorCode.INVALID_BITMAP, "bitmap marks members beyond the quorum");
  }
  const keys = [];
  let signedStake = 0n;
  for (let i = 0; i < count; i++) {
    if (bitmap[i >> 3] & (1 << (i & 7))) {
      keys.push(quorum.members[i].publicKey);
      signedStake += quorum.members[i].stake;
    }
  }
  if (keys.length === 0) throw new DaError(DaErrorCode.INVALID_BITMAP, "bitmap marks no signer");
  if (!exceedsTwoThirds(signedStake, quorum.totalStake)) {
    throw new DaError(DaErrorCode.BELOW_THRESHOLD, "signers hold no more than 2/3 of the quorum's stake", {
      signedStake: signedStake.toString(),
      totalStake: quorum.totalStake.toString(),
    });
  }
  if (!blsFastAggregateVerify(keys, attestationMessage(aggregate.data), aggregate.signature)) {
    throw new DaError(DaErrorCode.INVALID_SIGNATURE, "aggregate signature does not verify for the marked signers");
  }
  return { signedStake, totalStake: quorum.totalStake, signers: keys.length };
}
