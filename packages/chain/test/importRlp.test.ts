import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { MemoryStore } from "@zgnode/db";
import { bytesToHex, hexToBytes } from "@zgnode/utils";
import { describe, expect, it } from "vitest";
import { Chain } from "../src/chain.ts";
import { ChainErrorCode } from "../src/errors.ts";
import { createDevGenesis, parseGethGenesis } from "../src/genesis.ts";
import { importRlpChain } from "../src/importRlp.ts";

// The execution-apis rpc-compat chain (hive's hivechain output), read in place beside the repository.
const dir = resolve(import.meta.dirname, "../../../../shared/conformance/execution-apis/tests");
const present = existsSync(resolve(dir, "chain.rlp"));

describe("decodeRlpBlocks", () => {
  it("refuses garbage with a coded error and leaves the chain as it was", async () => {
    const chain = await Chain.open({ db: new MemoryStore(), genesis: createDevGenesis() });
    for (const bad of [hexToBytes("0xdeadbeef"), hexToBytes("0x83010203"), hexToBytes("0xc3010203")]) {
      await expect(importRlpChain(chain, bad)).rejects.toMatchObject({ code: ChainErrorCode.INVALID_RLP });
    }
    expect(chain.head.header.number).toBe(0n);
  });

  it("parseGethGenesis refuses malformed genesis files with a coded error", () => {
    for (const bad of [null, 42, {}, { config: "x" }, { config: { chainId: "not-a-number" }, alloc: { zz: {} } }]) {
      expect(() => parseGethGenesis(bad), JSON.stringify(bad)).toThrow(
        expect.objectContaining({ code: ChainErrorCode.INVALID_GENESIS }),
      );
    }
  });
});

describe.skipIf(!present)("importRlpChain (execution-apis chain: PoW -> PoS -> Prague/Osaka/BPO)", () => {
  it("imports all 54 blocks to the head hive expects", async () => {
    const genesis = parseGethGenesis(JSON.parse(readFileSync(resolve(dir, "genesis.json"), "utf8")));
    const chain = await Chain.open({ db: new MemoryStore(), genesis });
    const res = await importRlpChain(chain, readFileSync(resolve(dir, "chain.rlp")));
    expect(res.rejected).toEqual([]);
    expect(res.imported).toBe(54);
    const fcu = JSON.parse(readFileSync(resolve(dir, "headfcu.json"), "utf8"));
    const expected = fcu.params[0].headBlockHash as string;
    expect(bytesToHex(chain.head.hash())).toBe(expected);
    const r = await chain.getReceipts(chain.head.hash());
    expect(r?.length).toBe(chain.head.transactions.length);
    // Pre-Byzantium receipts keep their intermediate state root.
    const b3 = await chain.getBlockByNumber(3n);
    const r3 = await chain.getReceipts(b3!.hash());
    expect(r3!.length).toBeGreaterThan(0);
    expect(r3![0].root?.length).toBe(32);
    expect(r![0]?.root).toBeUndefined();
  });
});
