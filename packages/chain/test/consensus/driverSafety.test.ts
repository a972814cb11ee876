import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, createMetricsRegistry, sleep } from "@zgnode/utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConsensusDriver, type ConsensusWalLike } from "../../src/consensus/driver.ts";
import { createConsensusMetrics } from "../../src/consensus/metrics.ts";
import { type ConsensusSigner, FilePrivValidator } from "../../src/consensus/privval.ts";
import type { EngineInput, Proposal, Vote } from "../../src/consensus/types.ts";
import { VoteType } from "../../src/consensus/types.ts";
import { ValidatorSet } from "../../src/consensus/validators.ts";
import { CHAIN_ID, fastTimeouts, MemoryBlockSource, validatorKeys } from "./harness.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "zgnode-driver-safety-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const [key] = validatorKeys(1);
const set = ValidatorSet.create([{ publicKey: key.toPublicKey().toBytes(), power: 10 }]);
const logger = createLogger({ level: "silent" });
const engine = {
  timeouts: { ...fastTimeouts, proposeMs: 50 },
  maxFutureMessages: 100,
  maxRoundsAhead: 100,
  maxProposalsPerRound: 4,
};

/** Records the order of WAL writes, syncs, signatures and broadcasts. */
function recorder(events: string[], signer: ConsensusSigner) {
  const inputs: EngineInput[] = [];
  const wal: ConsensusWalLike = {
    append: async (i) => {
      inputs.push(i);
      events.push(`append:${i.type}`);
    },
    sync: async () => {
      events.push("sync");
    },
    writeEndHeight: async (h) => {
      events.push(`end:${h}`);
    },
    inputsSince: () => [],
  };
  const recordingSigner: ConsensusSigner = {
    publicKey: signer.publicKey,
    signVote: async (v) => {
      events.push("sign:vote");
      return signer.signVote(v);
    },
    signProposal: async (p) => {
      events.push("sign:proposal");
      return signer.signProposal(p);
    },
  };
  const transport = {
    broadcastProposal: (_p: Proposal) => void events.push("broadcast:proposal"),
    broadcastVote: (_v: Vote) => void events.push("broadcast:vote"),
    fetchBlocks: async () => [],
  };
  return { wal, recordingSigner, transport };
}

describe("ConsensusDriver safety ordering", () => {
  it("fsyncs the WAL before every own signature and broadcasts only after signing", async () => {
    const events: string[] = [];
    const signer = await FilePrivValidator.open(join(dir, "pv.json"), key, CHAIN_ID);
    const { wal, recordingSigner, transport } = recorder(events, signer);
    const source = new MemoryBlockSource(set, 0);
    const driver = new ConsensusDriver(
      { chainId: CHAIN_ID, engine },
      { blockSource: source, transport, signer: recordingSigner, wal, logger },
    );
    await driver.start();
    while (source.headHeight() < 3) await sleep(5);
    await driver.stop();
    const signs = events.flatMap((e, i) => (e.startsWith("sign:") ? [i] : []));
    expect(signs.length).toBeGreaterThanOrEqual(9); // proposal, prevote, precommit per height
    for (const i of signs) {
      // The last WAL operation before a signature is a sync: nothing appended after it is unsynced.
      const lastWalOp = events.slice(0, i).findLast((e) => e === "sync" || e.startsWith("append:"));
      expect(lastWalOp, `event ${i}: ${events.slice(Math.max(0, i - 4), i + 1).join(" ")}`).toBe("sync");
      expect(events[i + 1]).toMatch(/^broadcast:/);
    }
    expect(events).toContain("end:1");
  });

  it("after losing its WAL, refuses to sign over what privval already signed and still makes progress", async () => {
    // Before the "crash" the validator prevoted block X at height 1, round 0; then its WAL was lost.
    const path = join(dir, "pv.json");
    const before = await FilePrivValidator.open(path, key, CHAIN_ID);
    const x = `0x${"ab".repeat(32)}` as const;
    await before.signVote({
      type: VoteType.PREVOTE,
      height: 1,
      round: 0,
      blockId: x,
      validatorIndex: 0,
      signature: new Uint8Array(0),
    });

    const events: string[] = [];
    const signer = await FilePrivValidator.open(path, key, CHAIN_ID);
    const { wal, recordingSigner, transport } = recorder(events, signer);
    const registry = createMetricsRegistry();
    const source = new MemoryBlockSource(set, 0);
    const driver = new ConsensusDriver(
      { chainId: CHAIN_ID, engine },
      { blockSource: source, transport, signer: recordingSigner, wal, logger, metrics: createConsensusMetrics(registry) },
    );
    await driver.start();
    while (source.headHeight() < 2) await sleep(5);
    await driver.stop();
    const refused = (await registry.getSingleMetric("zgnode_consensus_sign_refused_total")?.get())?.values[0]?.value ?? 0;
    // Round 0 of height 1 is unusable (its proposal and prevote would be at or below the signed prevote), so the
    // node moves on and decides height 1 in a later round.
    expect(refused).toBeGreaterThanOrEqual(1);
    expect(source.blocks.get(1)?.certificate.round).toBeGreaterThanOrEqual(1);
  });
});

describe("ConsensusDriver input bounds", () => {
  it("ignores a proposal from an absurdly far round without doing per-round work", async () => {
    const signer = await FilePrivValidator.open(join(dir, "pv.json"), key, CHAIN_ID);
    const events: string[] = [];
    const { wal, recordingSigner, transport } = recorder(events, signer);
    const source = new MemoryBlockSource(set, 0);
    const driver = new ConsensusDriver(
      { chainId: CHAIN_ID, engine },
      { blockSource: source, transport, signer: recordingSigner, wal, logger },
    );
    await driver.start();
    const t0 = Date.now();
    const verdict = driver.receiveProposal({
      height: driver.height,
      round: 2 ** 32 - 1,
      polRound: -1,
      blockId: `0x${"11".repeat(32)}`,
      payload: Uint8Array.of(1),
      proposerIndex: 0,
      signature: new Uint8Array(96),
    });
    expect(verdict).toBe("ignore");
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(
      driver.receiveVote({
        type: 1,
        height: driver.height,
        round: 0,
        blockId: null,
        validatorIndex: 5,
        signature: new Uint8Array(96),
      }),
    ).toBe("reject");
    await driver.stop();
  });
});
