import { secp256k1 } from "@noble/curves/secp256k1.js";
import { keccak256 } from "./keccak.ts";

export { secp256k1 };

/** The Ethereum address (20 bytes) of an uncompressed or compressed secp256k1 public key. */
export function publicKeyToAddress(pub: Uint8Array): Uint8Array {
  const uncompressed = pub.length === 65 ? pub : secp256k1.Point.fromBytes(pub).toBytes(false);
  return keccak256(uncompressed.subarray(1)).subarray(12);
}

export function privateKeyToAddress(priv: Uint8Array): Uint8Array {
  return publicKeyToAddress(secp256k1.getPublicKey(priv, false));
}
