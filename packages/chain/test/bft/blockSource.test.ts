import { createBlock } from "@ethereumjs/block";
import { MemoryStore } from "@zgnode/db";
import { bytesToHex, hexToBytes } from "@zgnode/utils";
import { describe, expect, it } from "vitest";
import { ChainBlockSource } from "../../src/bft/blockSource.ts";
import { EvidencePool } from "../../src/bft/evidencePool.ts";
import { bftGenesisSpec } from "../../src/bft/genesis.ts";
import { decodePayload, encodePayload, payloadBlockId } from "../../src/bft/payload.ts";
import { CertifiedBlockStore } from "../../src/bft/store.ts";
import { StakingValidatorSets } from "../../src/bft/validatorSets.ts";
import { Chain } from "../../src/chain.ts";
import { DEV_ACCOUNTS } from "../../src/devAccounts.ts";
import { TxPool } from "../../src/txPool.ts";
import { transfer } from "../helpers.ts";
import { testGenesis, testKeys } from "./helpers.ts";

async function source(genesisFile: Awaited<ReturnType<typeof testGenesis>>, coinbase = DEV_ACCOUNTS[0].address) {
  const db = new MemoryStore();
  const chain = await Chain.open({ db, genesis: bftGenesisSpec(genesisFile) });
  const pool = new TxPool(chain);
  const sets = new StakingValidatorSets(chain);
  const src = new ChainBlockSource(
    { coinbase },
    { chain, pool, store: new CertifiedBlockStore(db), sets, evidence: new EvidencePool(chain.chainId, sets) },
  );
  await src.enableStakingSystemCalls();
  return { chain, pool, src };
}

describe("ChainBlockSource validation by re-execution", () => {
  it("accepts a proposer's block on another node and rejects tampered, future or undecodable ones", async () => {
    const genesis = await testGenesis(testKeys(4), 10);
    const proposer = await source(genesis);
    const validator = await source(genesis, DEV_ACCOUNTS[1].address);
    await proposer.pool.add(transfer(proposer.chain, { from: DEV_ACCOUNTS[6], nonce: 0n, value: 7n }));
    const { blockId, payload } = await proposer.src.buildBlock(1, 0);
    expect(decodePayload(payload, proposer.chain.common).block.transactions).toHaveLength(1);
    expect(payloadBlockId(payload)).toBe(blockId);
    expect(await validator.src.validateBlock(1, blockId, payload)).toBe(true);
    // Building did not commit anything.
    expect(proposer.chain.head.header.number).toBe(0n);

    const { block } = decodePayload(payload, proposer.chain.common);
    // A wrong state root: the hash changes and re-execution gives the honest block instead.
    const badRoot = createBlock(
      {
        header: { ...block.header.toJSON(), stateRoot: new Uint8Array(32).fill(1) },
        transactions: block.transactions.map((t) => t.toJSON()),
      },
      { common: proposer.chain.common },
    );
    const badPayload = encodePayload({ block: badRoot, evidence: [] });
    expect(await validator.src.validateBlock(1, payloadBlockId(badPayload), badPayload)).toBe(false);
    // A timestamp far in the future.
    const future = await proposer.chain.buildBlock([], {
      commit: false,
      timestamp: BigInt(Math.floor(Date.now() / 1000) + 3600),
    });
    const futurePayload = encodePayload({ block: future.block, evidence: [] });
    expect(await validator.src.validateBlock(1, payloadBlockId(futurePayload), futurePayload)).toBe(false);
    // The wrong height, and bytes that are no payload at all.
    expect(await validator.src.validateBlock(2, blockId, payload)).toBe(false);
    const junk = hexToBytes("0xc3010203");
    expect(await validator.src.validateBlock(1, bytesToHex(new Uint8Array(32)), junk)).toBe(false);
  });
});
