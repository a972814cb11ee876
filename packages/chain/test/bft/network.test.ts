import { bytesToHex } from "@zgnode/utils";
import { describe, expect, it } from "vitest";
import { payloadBlockId } from "../../src/bft/payload.ts";
import { verifyCommitCertificate } from "../../src/consensus/certificate.ts";
import { transfer } from "../helpers.ts";
import { dialAll, loopbackAddr, startTestNode, testGenesis, testKeys, testNetworkScope, until } from "./helpers.ts";

const { nodes, tempDir } = testNetworkScope();

describe("BFT over libp2p (4 validators in one process, real chains, staking genesis)", () => {
  it("commits identical blocks with certificates, includes a gossiped tx, and a full node follows", async () => {
    const dir = await tempDir("zgnode-bft-");
    const keys = testKeys(4);
    const genesis = await testGenesis(keys);
    for (let i = 0; i < 4; i++) nodes.push(await startTestNode(genesis, { key: keys[i], dir, index: i }));
    await dialAll(nodes);
    await Promise.all(nodes.map((n) => n.driver.start()));

    // A transfer submitted to node 3 only must reach the proposers through tx gossip.
    const tx = transfer(nodes[3].chain, { nonce: 0n, value: 12345n });
    await nodes[3].pool.add(tx);
    await until(async () => nodes.every((n) => n.chain.head.header.number >= 4n), 60_000, "height 4 on every node", 50);
    await until(async () => (await nodes[0].chain.getTransaction(tx.hash())) !== undefined, 30_000, "tx inclusion", 50);

    const h = Math.min(...nodes.map((n) => Number(n.chain.head.header.number)));
    for (let k = 1; k <= h; k++) {
      const hashes = await Promise.all(
        nodes.map(async (n) => bytesToHex((await n.chain.getCanonicalHash(BigInt(k))) as Uint8Array)),
      );
      expect(new Set(hashes).size, `height ${k}`).toBe(1);
      const cert = (await nodes[1].source.committedBlocks(k, 1))[0];
      expect(cert.certificate.blockId).toBe(hashes[0]);
      expect(payloadBlockId(cert.payload)).toBe(hashes[0]);
      verifyCommitCertificate(nodes[0].chain.chainId, await nodes[2].source.validatorSet(k), cert.certificate);
    }
    const where = await nodes[2].chain.getTransaction(tx.hash());
    expect(where?.receipt.status).toBe(1);

    // A full node joining late syncs from genesis over blocks_by_range and verifies each certificate.
    const full = await startTestNode(genesis, { dir, index: 4, bootnodes: nodes.map(loopbackAddr) });
    nodes.push(full);
    await full.host.dialBootnodes();
    await full.driver.start();
    const target = Number(nodes[0].chain.head.header.number);
    await until(() => full.chain.head.header.number >= BigInt(target), 60_000, "full node sync", 50);
    expect(bytesToHex((await full.chain.getCanonicalHash(BigInt(target))) as Uint8Array)).toBe(
      bytesToHex((await nodes[0].chain.getCanonicalHash(BigInt(target))) as Uint8Array),
    );
    expect((await full.chain.getTransaction(tx.hash()))?.receipt.status).toBe(1);
  });
});
