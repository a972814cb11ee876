import { bytesToHex, type Hex, uintToBytes } from "@zgnode/utils";
import { createSignerKey, type SignerKey, type Validator } from "../src/index.ts";

/** Validators with real BLS keys derived from fixed seeds; stakes as given. */
export function makeValidators(stakes: bigint[]): { validators: Validator[]; keys: Map<Hex, SignerKey> } {
  const keys = new Map<Hex, SignerKey>();
  const validators = stakes.map((stake, i) => {
    const key = createSignerKey(uintToBytes(i + 1, 32));
    const address = bytesToHex(uintToBytes(0xa000 + i * 7919, 20)) as Hex;
    keys.set(address, key);
    return { address, blsPublicKey: key.publicKey, stake };
  });
  return { validators, keys };
}
