/**
 * The composition root of `zgnode start`: a node of a BFT network. Database -> chain (genesis with the staking
 * contract) -> tx pool -> validator sets from staking -> block source -> libp2p host + transport -> privval, WAL
 * -> consensus driver -> JSON-RPC. Validators sign; full nodes follow by verifying certificates.
 */
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  bftGenesisSpec,
  CatchUpWatchdog,
  CertifiedBlockStore,
  Chain,
  ChainBlockSource,
  ConsensusDriver,
  type ConsensusSigner,
  ConsensusWal,
  chainView,
  createChainMetrics,
  createConsensusMetrics,
  createEthRpcTable,
  DoubleSigningSigner,
  EvidencePool,
  FilePrivValidator,
  NetworkTransport,
  StakingValidatorSets,
  TxPool,
  txPoolView,
} from "@zgnode/chain";
import { blsKeyFromSeed, keccak256 } from "@zgnode/crypto";
import { LevelDb } from "@zgnode/db";
import { createNetworkMetrics, loadOrCreatePeerKey, NetworkHost } from "@zgnode/network";
import { createRpcServer, type RpcServerAddress } from "@zgnode/rpc";
import { bytesToHex, createMetricsRegistry, hexToBytes, type Logger, type RpcMethodTable } from "@zgnode/utils";
import { NodeError, NodeErrorCode } from "./errors.ts";
import { Lifecycle } from "./lifecycle.ts";
import { CLIENT_VERSION } from "./node.ts";
import { DEFAULT_MAX_TXS_PER_BLOCK, readNodeConfig } from "./testnet.ts";

export interface BftNodeOptions {
  home: string;
  rpcHost?: string;
  rpcPort?: number;
  /** Worker threads serving JSON-RPC HTTP/WebSocket (0 = main thread); default: the server's. */
  rpcThreads?: number;
  /** TEST ONLY: sign two conflicting prevotes per round (needs ZGNODE_ENABLE_TEST_FLAGS=1). */
  doubleSign: boolean;
  /** The BLS key seed, already decrypted from a keystore; default: `<home>/keys/bls.key`. */
  blsSeed?: Uint8Array;
}

export interface BftNode {
  readonly chain: Chain;
  readonly driver: ConsensusDriver;
  readonly rpc: RpcServerAddress;
  close(): Promise<void>;
}

export async function startBftNode(opts: BftNodeOptions, logger: Logger): Promise<BftNode> {
  const life = new Lifecycle(logger);
  try {
    const { config, genesis } = await readNodeConfig(opts.home);
    const dataDir = join(opts.home, "data");
    await mkdir(dataDir, { recursive: true });
    const registry = createMetricsRegistry({ defaultMetrics: true });

    const db = await LevelDb.open({ path: join(dataDir, "chaindata") });
    life.add("database", () => db.close());
    const chain = await Chain.open({
      db,
      genesis: bftGenesisSpec(genesis),
      metrics: createChainMetrics(registry),
      logger: logger.child({ module: "chain" }),
    });
    life.add("chain", () => chain.close());
    const pool = new TxPool(chain, {}, undefined);
    life.add("txpool", () => pool.close());

    const sets = new StakingValidatorSets(chain);
    const evidence = new EvidencePool(chain.chainId, sets);
    const blockSource = new ChainBlockSource(
      { coinbase: config.coinbase, maxTxsPerBlock: config.consensus.maxTxsPerBlock ?? DEFAULT_MAX_TXS_PER_BLOCK },
      { chain, pool, store: new CertifiedBlockStore(db), sets, evidence, logger: logger.child({ module: "bft" }) },
    );
    await blockSource.enableStakingSystemCalls();
    await blockSource.recover();

    const host = await NetworkHost.create(
      {
        chainId: config.chainId,
        dataDir: join(dataDir, "p2p"),
        listenAddresses: config.p2p.listen,
        bootnodes: config.p2p.bootnodes,
        bootnodeRedialMs: 1000,
      },
      {
        logger: logger.child({ module: "p2p" }),
        metrics: createNetworkMetrics(registry),
        privateKey: await loadOrCreatePeerKey(join(opts.home, "keys", "p2p.key")),
      },
    );
    const transport = new NetworkTransport({}, { host, blockSource, pool, evidence, logger: logger.child({ module: "net" }) });
    await transport.register();

    let signer: ConsensusSigner | null = null;
    let privvalState: () => { height: number; round: number; step: number } | null = () => null;
    let wal: ConsensusWal | null = null;
    if (config.role === "validator") {
      let seed = opts.blsSeed;
      if (!seed) {
        const seedHex = (await readFile(join(opts.home, "keys", "bls.key"), "utf8").catch(() => "")).trim();
        if (!/^0x[0-9a-fA-F]{64}$/.test(seedHex))
          throw new NodeError(
            NodeErrorCode.BAD_FILE,
            `validator needs keys/bls.key (32-byte hex seed) in ${opts.home} or --bls-keystore`,
          );
        seed = hexToBytes(seedHex);
      }
      const sk = blsKeyFromSeed(seed);
      const privval = await FilePrivValidator.open(join(dataDir, "priv_validator_state.json"), sk, chain.chainId);
      signer = privval;
      privvalState = () => {
        const last = privval.lastSignState;
        return last ? { height: last.height, round: last.round, step: last.step } : null;
      };
      if (opts.doubleSign) {
        logger.warn("TEST FLAG --test.double-sign: this validator will equivocate on every prevote");
        signer = new DoubleSigningSigner(privval, sk, chain.chainId, (v) => void transport.broadcastVote(v).catch(() => {}));
      }
      const opened = await ConsensusWal.open(join(dataDir, "cs.wal"));
      if (opened.truncatedBytes > 0) logger.warn({ bytes: opened.truncatedBytes }, "cut a torn consensus WAL tail");
      wal = opened.wal;
      life.add("wal", () => opened.wal.close());
      logger.info({ blsPublicKey: bytesToHex(sk.toPublicKey().toBytes()) }, "validator key loaded");
    }

    const driver = new ConsensusDriver(
      {
        chainId: chain.chainId,
        engine: {
          timeouts: config.consensus.timeouts,
          maxFutureMessages: 10_000,
          maxRoundsAhead: 1_000,
          maxProposalsPerRound: 4,
        },
      },
      {
        blockSource,
        transport,
        signer,
        wal,
        logger: logger.child({ module: "consensus" }),
        metrics: createConsensusMetrics(registry),
        onEvidence: (ev) => {
          void evidence
            .add(ev, blockSource.headHeight() + 1)
            .then((fresh) => (fresh ? transport.publishEvidence(ev) : undefined))
            .catch((err: Error) => logger.warn({ err: err.message }, "own evidence rejected"));
        },
        onCommit: (height, cert) => logger.debug({ height, round: cert.round, blockId: cert.blockId }, "committed"),
      },
    );
    transport.bind(driver);
    await host.start();
    life.add("p2p", () => host.stop());
    life.add("transport", () => transport.close());

    const ethTable = createEthRpcTable({
      chain: chainView(chain),
      pool: txPoolView(pool),
      clientVersion: CLIENT_VERSION,
      rpcGasCap: chain.options.rpcGasCap,
      peerCount: () => host.connectedPeers.length,
    });
    const zgTable: RpcMethodTable = {
      zg_consensusStatus: {
        params: [],
        handler: async () => ({
          role: config.role,
          validatorAddress: signer ? bytesToHex(keccak256(signer.publicKey).subarray(12)) : null,
          height: driver.height,
          round: driver.round,
          head: Number(chain.head.header.number),
          headHash: bytesToHex(chain.head.hash()),
          peers: host.connectedPeers.length,
          peerId: host.peerId.toString(),
          validators: driver.validatorSet.validators.map((v) => ({ address: v.address, power: v.power })),
          pendingEvidence: evidence.size,
          lastSigned: privvalState(),
        }),
      },
      zg_getCommitCertificate: {
        params: [{ type: "string" }],
        handler: async (params) => {
          const height = Number(params[0]);
          const stored =
            Number.isSafeInteger(height) && height > 0 ? (await blockSource.committedBlocks(height, 1))[0] : undefined;
          if (!stored) return null;
          const c = stored.certificate;
          const set = await blockSource.validatorSet(height);
          const signers = set.validators.filter((_, i) => ((c.signers[i >> 3] ?? 0) >> (i & 7)) & 1).map((v) => v.address);
          return {
            height: c.height,
            round: c.round,
            blockId: c.blockId,
            signers,
            validators: set.validators.map((v) => v.address),
          };
        },
      },
    };
    const rpc = createRpcServer({
      tables: [ethTable, zgTable],
      host: opts.rpcHost ?? config.rpc.host,
      port: opts.rpcPort ?? config.rpc.port,
      threads: opts.rpcThreads,
      logger: logger.child({ module: "rpc" }),
      metrics: registry,
      health: () => ({ head: Number(chain.head.header.number), chainId: Number(chain.chainId), height: driver.height }),
    });
    const address = await rpc.listen();
    life.add("rpc server", () => rpc.close());

    await driver.start();
    life.add("consensus", () => driver.stop());
    const watchdog = new CatchUpWatchdog(driver, transport, { logger: logger.child({ module: "bft" }) });
    watchdog.start();
    life.add("watchdog", () => watchdog.stop());
    logger.info(
      {
        name: config.name,
        role: config.role,
        chainId: config.chainId,
        head: Number(chain.head.header.number),
        http: address.httpUrl,
        peerId: host.peerId.toString(),
        listen: host.multiaddrs,
      },
      "zgnode started",
    );
    return { chain, driver, rpc: address, close: () => life.closeAll() };
  } catch (err) {
    await life.closeAll();
    throw err;
  }
}
