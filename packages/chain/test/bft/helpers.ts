import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type GenesisValidator, STAKING_ADDRESS } from "@zgnode/contracts";
import { type BlsSecretKey, blsKeyFromSeed, blsProofOfPossession } from "@zgnode/crypto";
import { MemoryStore } from "@zgnode/db";
import { NetworkHost } from "@zgnode/network";
import { createLogger, sleep } from "@zgnode/utils";
import { afterAll } from "vitest";
import { ChainBlockSource } from "../../src/bft/blockSource.ts";
import { DoubleSigningSigner } from "../../src/bft/doubleSign.ts";
import { EvidencePool } from "../../src/bft/evidencePool.ts";
import { type BftGenesisFile, bftGenesisSpec, createBftGenesisFile } from "../../src/bft/genesis.ts";
import { CertifiedBlockStore } from "../../src/bft/store.ts";
import { NetworkTransport } from "../../src/bft/transport.ts";
import { StakingValidatorSets } from "../../src/bft/validatorSets.ts";
import { Chain } from "../../src/chain.ts";
import { ConsensusDriver } from "../../src/consensus/driver.ts";
import type { ConsensusTimeouts } from "../../src/consensus/options.ts";
import { FilePrivValidator } from "../../src/consensus/privval.ts";
import { DEV_ACCOUNTS } from "../../src/devAccounts.ts";
import { TxPool } from "../../src/txPool.ts";

export { STAKING_ADDRESS };
export const CHAIN_ID = 8888;
export const ETHER = 10n ** 18n;
export const testTimeouts: ConsensusTimeouts = {
  proposeMs: 1000,
  proposeDeltaMs: 300,
  prevoteMs: 300,
  prevoteDeltaMs: 100,
  precommitMs: 300,
  precommitDeltaMs: 100,
  commitMs: 100,
  rebroadcastMs: 500,
};

export function testKeys(n: number): BlsSecretKey[] {
  return Array.from({ length: n }, (_, i) => blsKeyFromSeed(new Uint8Array(32).fill(i + 1)));
}

/** Genesis with `n` validators (operators = dev accounts 0..n-1, 32 ETH-units stake each). */
export async function testGenesis(keys: BlsSecretKey[], epochLength = 10): Promise<BftGenesisFile> {
  const validators: GenesisValidator[] = keys.map((k, i) => ({
    operator: DEV_ACCOUNTS[i].address.toLowerCase() as `0x${string}`,
    blsPubkey: k.toPublicKey().toBytes(),
    pop: blsProofOfPossession(k),
    stake: 32n * ETHER,
  }));
  return createBftGenesisFile({
    chainId: CHAIN_ID,
    validators,
    balances: Object.fromEntries(DEV_ACCOUNTS.map((a) => [a.address, 10_000n * ETHER])),
    staking: { epochLength, jailPeriod: 1000 },
  });
}

export interface TestBftNode {
  chain: Chain;
  pool: TxPool;
  source: ChainBlockSource;
  host: NetworkHost;
  transport: NetworkTransport;
  driver: ConsensusDriver;
  stop(): Promise<void>;
}

/** One in-process node over a MemoryStore and a real libp2p host on loopback; `key` undefined = full node. */
export async function startTestNode(
  genesis: BftGenesisFile,
  opts: { key?: BlsSecretKey; dir: string; index: number; bootnodes?: string[]; doubleSign?: boolean },
): Promise<TestBftNode> {
  const logger = createLogger({ level: (process.env.BFT_TEST_LOG as "warn") ?? "error", name: `n${opts.index}` });
  const db = new MemoryStore();
  const chain = await Chain.open({ db, genesis: bftGenesisSpec(genesis) });
  const pool = new TxPool(chain);
  const sets = new StakingValidatorSets(chain);
  const evidence = new EvidencePool(chain.chainId, sets);
  const source = new ChainBlockSource(
    { coinbase: DEV_ACCOUNTS[opts.index].address },
    { chain, pool, store: new CertifiedBlockStore(db), sets, evidence, logger },
  );
  await source.enableStakingSystemCalls();
  const host = await NetworkHost.create(
    { chainId: CHAIN_ID, listenAddresses: ["/ip4/127.0.0.1/tcp/0"], bootnodes: opts.bootnodes ?? [], bootnodeRedialMs: 500 },
    { logger },
  );
  const transport = new NetworkTransport({}, { host, blockSource: source, pool, evidence, logger });
  await transport.register();
  const privval = opts.key
    ? await FilePrivValidator.open(join(opts.dir, `privval-${opts.index}.json`), opts.key, chain.chainId)
    : null;
  const signer =
    privval && opts.key && opts.doubleSign
      ? new DoubleSigningSigner(privval, opts.key, chain.chainId, (v) => void transport.broadcastVote(v).catch(() => {}))
      : privval;
  const driver = new ConsensusDriver(
    {
      chainId: chain.chainId,
      engine: { timeouts: testTimeouts, maxFutureMessages: 10_000, maxRoundsAhead: 1000, maxProposalsPerRound: 4 },
    },
    {
      blockSource: source,
      transport,
      signer,
      wal: null,
      logger,
      onEvidence: (ev) => void evidence.add(ev, source.headHeight() + 1).catch(() => {}),
    },
  );
  transport.bind(driver);
  await host.start();
  return {
    chain,
    pool,
    source,
    host,
    transport,
    driver,
    async stop() {
      await driver.stop();
      await transport.close();
      await host.stop();
      pool.close();
      await chain.close();
    },
  };
}

/** Polls `cond` every `pollMs` until it holds; fails naming `what` after `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string, pollMs = 100): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(pollMs);
  }
}

/** The loopback multiaddr a test node listens on (what peers dial). */
export function loopbackAddr(n: TestBftNode): string {
  return n.host.multiaddrs.find((a) => a.includes("127.0.0.1")) as string;
}

/** Connects every pair of `nodes` (a full mesh over loopback). */
export async function dialAll(nodes: TestBftNode[]): Promise<void> {
  for (let i = 0; i < nodes.length; i++)
    for (let j = i + 1; j < nodes.length; j++) await nodes[i].host.dial(loopbackAddr(nodes[j]));
}

/**
 * The nodes and temp folder of one test file, stopped and removed after its tests (call at module level: it
 * registers the afterAll hook).
 */
export function testNetworkScope(): { nodes: TestBftNode[]; tempDir(prefix: string): Promise<string> } {
  const nodes: TestBftNode[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    for (const n of nodes) await n.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  return {
    nodes,
    async tempDir(prefix) {
      const d = await mkdtemp(join(tmpdir(), prefix));
      dirs.push(d);
      return d;
    },
  };
}
