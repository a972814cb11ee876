import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NetworkHost } from "@zgnode/network";
import { createLogger, sleep } from "@zgnode/utils";
import { afterAll, describe, expect, it } from "vitest";
import { ConsensusDriver } from "../../src/consensus/driver.ts";
import { ConsensusNetwork } from "../../src/consensus/network.ts";
import { FilePrivValidator } from "../../src/consensus/privval.ts";
import { ValidatorSet } from "../../src/consensus/validators.ts";
import { ConsensusWal } from "../../src/consensus/wal.ts";
import { CHAIN_ID, fastTimeouts, MemoryBlockSource, validatorKeys } from "./harness.ts";

const logger = createLogger({ level: "silent" });
const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

describe("consensus over real libp2p (4 validators on 127.0.0.1)", () => {
  it("commits identical certified blocks through gossip, and a late full node syncs over blocks_by_range", async () => {
    const dir = await mkdtemp(join(tmpdir(), "zgnode-p2p-cs-"));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const keys = validatorKeys(4);
    const set = ValidatorSet.create(keys.map((k) => ({ publicKey: k.toPublicKey().toBytes(), power: 10 })));

    const startNode = async (i: number, key: (typeof keys)[0] | null, bootnodes: string[]) => {
      const host = await NetworkHost.create(
        { chainId: CHAIN_ID, listenAddresses: ["/ip4/127.0.0.1/tcp/0"], bootnodes, bootnodeRedialMs: 300 },
        { logger },
      );
      const source = new MemoryBlockSource(set, i);
      const net = new ConsensusNetwork(host, source);
      await net.register();
      const wal = key ? (await ConsensusWal.open(join(dir, `n${i}`, "cs.wal"))).wal : null;
      const signer = key ? await FilePrivValidator.open(join(dir, `n${i}`, "privval.json"), key, CHAIN_ID) : null;
      const driver = new ConsensusDriver(
        {
          chainId: CHAIN_ID,
          engine: { timeouts: fastTimeouts, maxFutureMessages: 1000, maxRoundsAhead: 100, maxProposalsPerRound: 4 },
        },
        { blockSource: source, transport: net.transport, signer, wal, logger },
      );
      net.bind(driver);
      await host.start();
      cleanup.push(async () => {
        await driver.stop();
        await host.stop();
        await wal?.close();
      });
      return { host, source, driver };
    };

    const first = await startNode(0, keys[0], []);
    const boot = [first.host.multiaddrs[0]];
    const nodes = [first];
    for (let i = 1; i < 4; i++) nodes.push(await startNode(i, keys[i], boot));
    // Full mesh: everyone dials everyone (bootnodes of a small devnet).
    for (const a of nodes) for (const b of nodes) if (a !== b) await a.host.dial(b.host.multiaddrs[0]).catch(() => {});
    await sleep(500);
    for (const n of nodes) await n.driver.start();

    const t0 = Date.now();
    const target = 10;
    while (!nodes.every((n) => n.source.headHeight() >= target)) {
      if (Date.now() - t0 > 60_000) throw new Error(`heights ${nodes.map((n) => n.source.headHeight())}`);
      await sleep(20);
    }
    const perBlock = (Date.now() - t0) / target;
    for (let h = 1; h <= target; h++) {
      expect(new Set(nodes.map((n) => n.source.blocks.get(h)?.certificate.blockId)).size, `height ${h}`).toBe(1);
    }
    console.log(
      `libp2p loopback, 4 validators, fsync WAL: ${perBlock.toFixed(0)} ms per block over ${target} blocks (under load)`,
    );

    const late = await startNode(9, null, boot);
    await late.driver.start();
    const t1 = Date.now();
    while (late.source.headHeight() < target) {
      if (Date.now() - t1 > 30_000) throw new Error(`late node stuck at ${late.source.headHeight()}`);
      await sleep(20);
    }
    expect(late.source.blocks.get(target)?.certificate.blockId).toBe(nodes[0].source.blocks.get(target)?.certificate.blockId);
  });
});
