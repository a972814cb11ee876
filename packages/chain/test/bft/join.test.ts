import { descriptionTuple, expandProofOfPossession, STAKING_ADDRESS, stakingInterface } from "@zgnode/contracts";
import { blsKeyFromSeed, blsProofOfPossession } from "@zgnode/crypto";
import { hexToBytes } from "@zgnode/utils";
import { describe, expect, it } from "vitest";
import { bitmapHas } from "../../src/consensus/certificate.ts";
import { DEV_ACCOUNTS } from "../../src/devAccounts.ts";
import { transfer } from "../helpers.ts";
import { dialAll, ETHER, loopbackAddr, startTestNode, testGenesis, testKeys, testNetworkScope, until } from "./helpers.ts";

const { nodes, tempDir } = testNetworkScope();

describe("becoming a validator on a running network", () => {
  it("a following node registers with createValidator, enters the set at the epoch boundary and signs", async () => {
    const dir = await tempDir("zgnode-join-");
    const keys = testKeys(4);
    const epochLength = 5;
    const genesis = await testGenesis(keys, epochLength);
    for (let i = 0; i < 4; i++) nodes.push(await startTestNode(genesis, { key: keys[i], dir, index: i }));
    await dialAll(nodes);
    await Promise.all(nodes.map((n) => n.driver.start()));
    // The newcomer: a node with a fresh BLS key that is in no set yet (it follows without voting).
    const newKey = blsKeyFromSeed(new Uint8Array(32).fill(99));
    const newcomer = await startTestNode(genesis, { key: newKey, dir, index: 5, bootnodes: nodes.map(loopbackAddr) });
    nodes.push(newcomer);
    await newcomer.host.dialBootnodes();
    await newcomer.driver.start();

    const data = stakingInterface.encodeFunctionData("createValidator", [
      newKey.toPublicKey().toBytes(),
      expandProofOfPossession(blsProofOfPossession(newKey)),
      50_000,
      descriptionTuple({ moniker: "newcomer" }),
    ]);
    const tx = transfer(newcomer.chain, {
      from: DEV_ACCOUNTS[5],
      to: STAKING_ADDRESS,
      nonce: 0n,
      value: 32n * ETHER,
      gasLimit: 2_000_000n,
      data: hexToBytes(data as `0x${string}`),
    });
    await newcomer.pool.add(tx);
    await until(async () => (await nodes[0].chain.getTransaction(tx.hash())) !== undefined, 60_000, "createValidator included");
    expect((await nodes[0].chain.getTransaction(tx.hash()))?.receipt.status).toBe(1);
    const included = Number((await nodes[0].chain.getTransaction(tx.hash()))?.block.header.number);
    const boundary = Math.ceil((included + 1) / epochLength) * epochLength;
    await until(() => newcomer.chain.head.header.number >= BigInt(boundary + 3), 90_000, "blocks after the epoch boundary");
    const set = await newcomer.source.validatorSet(boundary + 1);
    expect(set.size).toBe(5);
    const idx = set.indexOf(newKey.toPublicKey().toBytes());
    expect(idx).toBeGreaterThanOrEqual(0);
    // Its precommit is part of a commit certificate after it joined.
    await until(
      async () => {
        const h = Number(nodes[0].chain.head.header.number);
        for (let k = boundary + 1; k <= h; k++) {
          const c = (await nodes[0].source.committedBlocks(k, 1))[0];
          if (
            c &&
            bitmapHas(c.certificate.signers, (await nodes[0].source.validatorSet(k)).indexOf(newKey.toPublicKey().toBytes()))
          )
            return true;
        }
        return false;
      },
      60_000,
      "a certificate signed by the newcomer",
    );
  }, 240_000);
});
