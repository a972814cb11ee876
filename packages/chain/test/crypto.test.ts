import { createTx } from "@ethereumjs/tx";
import { ecrecover } from "@ethereumjs/util";
import { hexToBytes } from "@zgnode/utils";
import { describe, expect, it } from "vitest";
import { getNativeSecp256k1, nativeEcrecover } from "../src/crypto.ts";
import { DEV_ACCOUNTS } from "../src/devAccounts.ts";
import { createDevGenesis } from "../src/genesis.ts";

describe("native sender recovery", () => {
  it("loads libsecp256k1 and agrees with the JS ecrecover on legacy and typed signatures", () => {
    expect(getNativeSecp256k1()).not.toBeNull();
    const { common } = createDevGenesis();
    for (const [i, acct] of DEV_ACCOUNTS.slice(0, 4).entries()) {
      for (const type of [0, 2]) {
        const tx = createTx(
          {
            type,
            nonce: BigInt(i),
            gasLimit: 21000n,
            to: DEV_ACCOUNTS[9].address as `0x${string}`,
            gasPrice: type === 0 ? 1n : undefined,
            maxFeePerGas: type === 2 ? 2n : undefined,
            chainId: 8888n,
          },
          { common },
        ).sign(hexToBytes(acct.privateKey));
        const msg = tx.getMessageToVerifySignature();
        const r = hexToBytes(`0x${tx.r!.toString(16).padStart(64, "0")}`);
        const s = hexToBytes(`0x${tx.s!.toString(16).padStart(64, "0")}`);
        const chainId = type === 0 ? 8888n : undefined;
        const native = nativeEcrecover(msg, tx.v!, r, s, chainId);
        expect(native).toEqual(ecrecover(msg, tx.v!, r, s, chainId));
        expect(tx.getSenderAddress().toString()).toBe(acct.address.toLowerCase());
      }
    }
    expect(() => nativeEcrecover(new Uint8Array(32), 5n, new Uint8Array(32), new Uint8Array(32))).toThrow();
  });
});

describe("KZG", () => {
  it("loads the trusted setup lazily and computes a commitment that verifies", async () => {
    const { getKzg, isKzgLoaded } = await import("../src/crypto.ts");
    const kzg = getKzg();
    createDevGenesis(); // creating chains must not load it
    expect(isKzgLoaded()).toBe(false);
    const blob = `0x${"00".repeat(131072)}`;
    const commitment = kzg.blobToKzgCommitment(blob);
    expect(isKzgLoaded()).toBe(true);
    const proof = kzg.computeBlobProof(blob, commitment);
    expect(kzg.verifyBlobProofBatch([blob], [commitment], [proof])).toBe(true);
  });
});
