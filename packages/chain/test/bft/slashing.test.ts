import { STAKING_ADDRESS, stakingInterface } from "@zgnode/contracts";
import { bytesToHex, hexToBytes } from "@zgnode/utils";
import { describe, expect, it } from "vitest";
import { DEV_ACCOUNTS } from "../../src/devAccounts.ts";
import { dialAll, ETHER, startTestNode, type TestBftNode, testGenesis, testKeys, testNetworkScope, until } from "./helpers.ts";

const { nodes, tempDir } = testNetworkScope();

async function validatorInfo(n: TestBftNode, operator: string) {
  const res = await n.chain.call({
    to: hexToBytes(STAKING_ADDRESS),
    data: hexToBytes(stakingInterface.encodeFunctionData("getValidator", [operator]) as `0x${string}`),
  });
  expect(res.success).toBe(true);
  return stakingInterface.decodeFunctionResult("getValidator", bytesToHex(res.returnData))[0] as {
    tokens: bigint;
    jailed: boolean;
    active: boolean;
  };
}

describe("equivocation -> evidence -> slash -> leaves the set (4 in-process validators over libp2p)", () => {
  it("a double-signing validator is slashed, jailed and removed at the next epoch; rewards accrue", async () => {
    const dir = await tempDir("zgnode-slash-");
    const keys = testKeys(4);
    const epochLength = 6;
    const genesis = await testGenesis(keys, epochLength);
    for (let i = 0; i < 4; i++) nodes.push(await startTestNode(genesis, { key: keys[i], dir, index: i, doubleSign: i === 3 }));
    await dialAll(nodes);
    await Promise.all(nodes.map((n) => n.driver.start()));

    const byzantine = DEV_ACCOUNTS[3].address.toLowerCase();
    const honest = DEV_ACCOUNTS[0].address.toLowerCase();
    await until(async () => (await validatorInfo(nodes[0], byzantine)).jailed, 90_000, "the double signer jailed");
    const info = await validatorInfo(nodes[0], byzantine);
    // 2% of the 32 ETH-units stake (plus any rewards it earned before) is gone.
    expect(info.tokens).toBeLessThan(32n * ETHER);
    const jailedAt = Number(nodes[0].chain.head.header.number);
    const nextEpochEnd = Math.ceil((jailedAt + 1) / epochLength) * epochLength;
    await until(() => nodes[0].chain.head.header.number > BigInt(nextEpochEnd + 1), 90_000, "the next epoch");
    const set = await nodes[0].source.validatorSet(nextEpochEnd + 1);
    expect(set.size).toBe(3);
    expect(set.indexOf(keys[3].toPublicKey().toBytes())).toBe(-1);
    expect((await validatorInfo(nodes[1], byzantine)).active).toBe(false);
    // Honest validators earn the block reward (bonded tokens grow beyond the genesis stake).
    expect((await validatorInfo(nodes[0], honest)).tokens).toBeGreaterThan(32n * ETHER);
    // Everyone agrees on the resulting chain.
    const h = Math.min(...nodes.map((n) => Number(n.chain.head.header.number)));
    const hashes = await Promise.all(
      nodes.map(async (n) => bytesToHex((await n.chain.getCanonicalHash(BigInt(h))) as Uint8Array)),
    );
    expect(new Set(hashes).size).toBe(1);
  });
});
