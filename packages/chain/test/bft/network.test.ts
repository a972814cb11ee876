import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesToHex, sleep } from "@zgnode/utils";
import { afterAll, describe, expect, it } from "vitest";
import { payloadBlockId } from "../../src/bft/payload.ts";
import { verifyCommitCertificate } from "../../src/consensus/certificate.ts";
import { transfer } from "../helpers.ts";
import { startTestNode, type TestBftNode, testGenesis, testKeys } from "./helpers.ts";

const nodes: TestBftNode[] = [];
let dir = "";
afterAll(async () => {
  for (const n of nodes) await n.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe("BFT over libp2p (4 validators in one process, real chains, staking genesis)", () => {
  it("commits identical blocks with certificates, includes a gossiped tx, and a full node follows", async () => {
    dir = await mkdtemp(join(tmpdir(), "zgnode-bft-"));
    const keys = testKeys(4);
    const genesis = await testGenesis(keys);
    for (let i = 0; i < 4; i++) nodes.push(await startTestNode(genesis, { key: keys[i], dir, index: i }));
    const addr = (n: TestBftNode) => n.host.multiaddrs.find((a) => a.includes("127.0.0.1")) as string;
    for (let i = 0; i < 4; i++) for (let j = i + 1; j < 4; j++) await nodes[i].host.dial(addr(nodes[j]));
    await Promise.all(nodes.map((n) => n.driver.start()));

    // A transfer submitted to node 3 only must reach the proposers through tx gossip.
    const tx = transfer(nodes[3].chain, { nonce: 0n, value: 12345n });
    await nodes[3].pool.add(tx);
    await until(async () => nodes.every((n) => n.chain.head.header.number >= 4n), 60_000, "height 4 on every node");
    await until(async () => (await nodes[0].chain.getTransaction(tx.hash())) !== undefined, 30_000, "tx inclusion");

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
    const full = await startTestNode(genesis, { dir, index: 4, bootnodes: nodes.map(addr) });
    nodes.push(full);
    await full.host.dialBootnodes();
    await full.driver.start();
    const target = Number(nodes[0].chain.head.header.number);
    await until(() => full.chain.head.header.number >= BigInt(target), 60_000, "full node sync");
    expect(bytesToHex((await full.chain.getCanonicalHash(BigInt(target))) as Uint8Array)).toBe(
      bytesToHex((await nodes[0].chain.getCanonicalHash(BigInt(target))) as Uint8Array),
    );
    expect((await full.chain.getTransaction(tx.hash()))?.receipt.status).toBe(1);
  });
});
