import { MerklePatriciaTrie } from "@ethereumjs/mpt";
import { RLP } from "@ethereumjs/rlp";
import { keccak256 } from "@zgnode/crypto";
import { bytesToHex } from "@zgnode/utils";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { orderedTrieRoot } from "../src/orderedTrie.ts";

async function reference(values: Uint8Array[]): Promise<string> {
  const trie = new MerklePatriciaTrie();
  for (const [i, v] of values.entries()) await trie.put(RLP.encode(i), v);
  return bytesToHex(trie.root());
}

describe("orderedTrieRoot", () => {
  it("equals incremental MerklePatriciaTrie inserts at the sizes where the trie shape changes", async () => {
    for (const n of [0, 1, 2, 3, 15, 16, 17, 127, 128, 129, 255, 256, 257, 1000]) {
      const values = Array.from({ length: n }, (_, i) => {
        // Short values (inline children) and long ones (hashed children) both occur.
        const len = i % 3 === 0 ? 1 + (i % 5) : 40 + (i % 90);
        return Uint8Array.from({ length: len }, (_, k) => (i * 31 + k * 7) & 0xff);
      });
      expect(bytesToHex(orderedTrieRoot(values, keccak256)), `n=${n}`).toBe(await reference(values));
    }
  });

  it("equals the reference on random value lists", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 1, maxLength: 80 }), { maxLength: 300 }), async (values) => {
        expect(bytesToHex(orderedTrieRoot(values, keccak256))).toBe(await reference(values));
      }),
      { numRuns: 60 },
    );
  });
});
