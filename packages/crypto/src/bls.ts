import {
  aggregatePublicKeys,
  aggregateSignatures,
  fastAggregateVerify,
  PublicKey,
  SecretKey,
  Signature,
  verify,
} from "@chainsafe/blst";
import { CodedError, concatBytes, utf8ToBytes } from "@zgnode/utils";
import { CryptoErrorCode } from "./errors.ts";

/**
 * BLS12-381 (min-pubkey: 48-byte G1 public keys, 96-byte G2 signatures) through @chainsafe/blst (native).
 * The binding fixes the hash-to-curve DST to Ethereum's proof-of-possession suite, so every message we sign is
 * domain-separated by a prefix instead: consensus votes, DA attestations and proofs of possession can never collide.
 */
export const BLS_PUBLIC_KEY_LENGTH = 48;
export const BLS_SIGNATURE_LENGTH = 96;
const POP_DOMAIN = utf8ToBytes("zgnode/bls-pop/v1");

export { PublicKey as BlsPublicKey, SecretKey as BlsSecretKey, Signature as BlsSignature };

export function blsKeyFromSeed(ikm: Uint8Array): SecretKey {
  if (ikm.length < 32) throw new CodedError(CryptoErrorCode.INVALID_LENGTH, "BLS key seed must be at least 32 bytes");
  return SecretKey.fromKeygen(ikm);
}

export function blsSecretKeyFromBytes(bytes: Uint8Array): SecretKey {
  try {
    return SecretKey.fromBytes(bytes);
  } catch (err) {
    throw new CodedError(CryptoErrorCode.INVALID_KEY, "invalid BLS secret key", undefined, { cause: err });
  }
}

/** Parses and group-checks a public key (rejects infinity and points off the subgroup). */
export function blsPublicKeyFromBytes(bytes: Uint8Array): PublicKey {
  try {
    return PublicKey.fromBytes(bytes, true);
  } catch (err) {
    throw new CodedError(CryptoErrorCode.INVALID_KEY, "invalid BLS public key", undefined, { cause: err });
  }
}

export function blsSignatureFromBytes(bytes: Uint8Array): Signature {
  try {
    return Signature.fromBytes(bytes, true);
  } catch (err) {
    throw new CodedError(CryptoErrorCode.INVALID_SIGNATURE, "invalid BLS signature", undefined, { cause: err });
  }
}

export function blsSign(sk: SecretKey, msg: Uint8Array): Uint8Array {
  return sk.sign(msg).toBytes();
}

/** Verifies one signature; malformed keys or signatures verify as false rather than throwing. */
export function blsVerify(pk: Uint8Array | PublicKey, msg: Uint8Array, sig: Uint8Array): boolean {
  try {
    const p = pk instanceof PublicKey ? pk : blsPublicKeyFromBytes(pk);
    return verify(msg, p, blsSignatureFromBytes(sig));
  } catch {
    return false;
  }
}

export function blsAggregateSignatures(sigs: Uint8Array[]): Uint8Array {
  if (sigs.length === 0) throw new CodedError(CryptoErrorCode.INVALID_SIGNATURE, "nothing to aggregate");
  return aggregateSignatures(sigs.map((s) => blsSignatureFromBytes(s))).toBytes();
}

export function blsAggregatePublicKeys(pks: Array<Uint8Array | PublicKey>): PublicKey {
  return aggregatePublicKeys(pks.map((p) => (p instanceof PublicKey ? p : blsPublicKeyFromBytes(p))));
}

/**
 * Verifies an aggregate signature by many signers over one message. Only safe for keys whose proof of
 * possession was checked at registration (rogue-key defence).
 */
export function blsFastAggregateVerify(pks: Array<Uint8Array | PublicKey>, msg: Uint8Array, aggSig: Uint8Array): boolean {
  try {
    if (pks.length === 0) return false;
    const keys = pks.map((p) => (p instanceof PublicKey ? p : blsPublicKeyFromBytes(p)));
    return fastAggregateVerify(msg, keys, blsSignatureFromBytes(aggSig));
  } catch {
    return false;
  }
}

function popMessage(pk: Uint8Array): Uint8Array {
  return concatBytes(POP_DOMAIN, pk);
}

/** Proof of possession: the key signs its own public key under the PoP domain. */
export function blsProofOfPossession(sk: SecretKey): Uint8Array {
  return blsSign(sk, popMessage(sk.toPublicKey().toBytes()));
}

export function blsVerifyProofOfPossession(pk: Uint8Array, pop: Uint8Array): boolean {
  return blsVerify(pk, popMessage(pk), pop);
}
