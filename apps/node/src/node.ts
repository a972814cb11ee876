/**
 * The composition root of `zgnode dev`: starts subsystems in dependency order (database, chain, tx pool,
 * sealer, RPC tables, RPC server) and registers each one's stop, so shutdown runs in reverse.
 */
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { arch, platform, tmpdir } from "node:os";
import { join } from "node:path";
import { type Address, createAddressFromString, hexToBytes } from "@ethereumjs/util";
import {
  Chain,
  chainView,
  createChainMetrics,
  createDevGenesis,
  createEthRpcTable,
  DEV_ACCOUNTS,
  DEV_BALANCE,
  type DevSigner,
  type GenesisSpec,
  importRlpChain,
  LocalSealer,
  type NewBlockEvent,
  parseGethGenesis,
  producerView,
  TxPool,
  txPoolView,
} from "@zgnode/chain";
import { LevelDb } from "@zgnode/db";
import { createRpcServer, type RpcServerAddress } from "@zgnode/rpc";
import { bytesToHex, createMetricsRegistry, type Logger, type Registry } from "@zgnode/utils";
import { formatBanner } from "./banner.ts";
import type { CliIo } from "./cli.ts";
import { createDevRpcTable } from "./devRpc.ts";
import { NodeError, NodeErrorCode } from "./errors.ts";
import { Lifecycle } from "./lifecycle.ts";
import type { DevNodeOptions } from "./options.ts";

export const CLIENT_VERSION = `zgnode/v0.1.0/${platform()}-${arch()}/node${process.versions.node}`;

export interface DevNode {
  readonly chain: Chain;
  readonly pool: TxPool;
  readonly sealer: LocalSealer;
  readonly rpc: RpcServerAddress;
  readonly datadir: string;
  readonly registry: Registry;
  close(): Promise<void>;
}

/** The dev accounts as node-managed keys (eth_accounts, eth_sendTransaction, eth_sign). */
function devSigner(): DevSigner {
  const keys = new Map<string, Uint8Array>();
  const addresses: Address[] = [];
  for (const a of DEV_ACCOUNTS) {
    const addr = createAddressFromString(a.address);
    addresses.push(addr);
    keys.set(addr.toString(), hexToBytes(a.privateKey as `0x${string}`));
  }
  return { accounts: () => addresses, privateKey: (address) => keys.get(address.toString()) };
}

async function loadGenesis(opts: DevNodeOptions): Promise<GenesisSpec> {
  if (!opts.genesisFile) return createDevGenesis();
  let json: unknown;
  try {
    json = JSON.parse(await readFile(opts.genesisFile, "utf8"));
  } catch (err) {
    throw new NodeError(NodeErrorCode.BAD_FILE, `cannot read genesis ${opts.genesisFile}: ${(err as Error).message}`);
  }
  return parseGethGenesis(json);
}

export async function startDevNode(opts: DevNodeOptions, logger: Logger, io?: CliIo): Promise<DevNode> {
  const life = new Lifecycle(logger);
  try {
    // Data directory.
    let datadir = opts.datadir;
    if (opts.ephemeral) {
      datadir = await mkdtemp(join(tmpdir(), "zgnode-dev-"));
      life.add("ephemeral datadir", () => rm(datadir, { recursive: true, force: true }));
    } else {
      await mkdir(datadir, { recursive: true });
    }

    const registry = createMetricsRegistry({ defaultMetrics: true });
    const chainMetrics = createChainMetrics(registry);

    // Database.
    const db = await LevelDb.open({ path: join(datadir, "chaindata") });
    life.add("database", () => db.close());

    // Chain (opens at the stored head, or writes genesis on first use).
    const genesis = await loadGenesis(opts);
    const chain = await Chain.open({ db, genesis, metrics: chainMetrics, logger: logger.child({ module: "chain" }) });
    life.add("chain", () => chain.close());
    if (opts.importFile) {
      const bytes = await readFile(opts.importFile).catch((err: Error) => {
        throw new NodeError(NodeErrorCode.BAD_FILE, `cannot read ${opts.importFile}: ${err.message}`);
      });
      const t0 = performance.now();
      const res = await importRlpChain(chain, bytes);
      logger.info(
        {
          imported: res.imported,
          rejected: res.rejected.length,
          head: Number(chain.head.header.number),
          ms: Math.round(performance.now() - t0),
        },
        "chain import done",
      );
      for (const r of res.rejected) logger.warn({ number: Number(r.number), error: r.error }, "imported block rejected");
    }

    // One info line per new head, at most one a second: under instant sealing blocks come dozens a second and a
    // line each cost more than the rest of a small block's bookkeeping. Blocks in between are logged at debug and
    // summed into the next info line (`blocks`, `txs` since the previous one), flushed by a timer after a burst.
    const blockLog = logger.child({ module: "chain" });
    const BLOCK_LOG_MS = 1000;
    let lastInfo = 0;
    let pending: { blocks: number; txs: number; last: NewBlockEvent["block"] } | undefined;
    let flushTimer: NodeJS.Timeout | undefined;
    const logBlocks = () => {
      flushTimer = undefined;
      if (!pending) return;
      const { blocks, txs, last } = pending;
      pending = undefined;
      lastInfo = performance.now();
      const h = last.header;
      blockLog.info(
        {
          number: Number(h.number),
          hash: bytesToHex(last.hash()),
          txs: last.transactions.length,
          gasUsed: Number(h.gasUsed),
          ...(blocks > 1 ? { blocks, blocksTxs: txs } : {}),
        },
        blocks > 1 ? "new blocks" : "new block",
      );
    };
    const onBlock = (ev: NewBlockEvent) => {
      if (!blockLog.isLevelEnabled("info")) return;
      const b = ev.block;
      pending = { blocks: (pending?.blocks ?? 0) + 1, txs: (pending?.txs ?? 0) + b.transactions.length, last: b };
      const wait = lastInfo + BLOCK_LOG_MS - performance.now();
      if (wait <= 0) {
        if (flushTimer) clearTimeout(flushTimer);
        logBlocks();
        return;
      }
      if (blockLog.isLevelEnabled("debug")) {
        blockLog.debug({ number: Number(b.header.number), txs: b.transactions.length }, "new block");
      }
      flushTimer ??= setTimeout(logBlocks, wait).unref();
    };
    chain.on("block", onBlock);
    life.add("block log", () => {
      chain.off("block", onBlock);
      if (flushTimer) clearTimeout(flushTimer);
      logBlocks();
    });

    // Transaction pool and block production.
    const pool = new TxPool(chain, {}, chainMetrics);
    life.add("txpool", () => pool.close());
    const sealer = new LocalSealer(
      chain,
      pool,
      { mode: opts.seal, blockTimeMs: opts.blockTimeMs },
      logger.child({ module: "sealer" }),
    );
    sealer.start();
    life.add("sealer", () => sealer.stop());

    // JSON-RPC.
    const isDevGenesis = !opts.genesisFile;
    const ethTable = createEthRpcTable({
      chain: chainView(chain),
      pool: txPoolView(pool),
      producer: producerView(chain, {
        poolTxs: () => pool.selectForBlock(sealer.options.maxTxsPerBlock),
        sealNow: async () => (await sealer.sealNow()).block,
      }),
      signer: isDevGenesis ? devSigner() : undefined,
      clientVersion: CLIENT_VERSION,
      rpcGasCap: chain.options.rpcGasCap,
    });
    const rpc = createRpcServer({
      tables: [ethTable, createDevRpcTable({ chain, sealer })],
      host: opts.rpcHost,
      port: opts.rpcPort,
      limits: { bodyBytes: opts.rpcMaxBodyBytes, batchLength: opts.rpcMaxBatch },
      adminToken: opts.rpcAdminToken,
      threads: opts.rpcThreads,
      logger: logger.child({ module: "rpc" }),
      metrics: registry,
      health: () => ({ head: Number(chain.head.header.number), chainId: Number(chain.chainId) }),
    });
    const address = await rpc.listen();
    life.add("rpc server", () => rpc.close());

    if (!opts.quiet && io) {
      io.stdout.write(
        formatBanner({
          chainId: chain.chainId,
          headNumber: chain.head.header.number,
          datadir,
          ephemeral: opts.ephemeral,
          httpUrl: address.httpUrl,
          wsUrl: address.wsUrl,
          metricsUrl: address.metricsUrl,
          seal: opts.seal === "interval" ? `interval (${opts.blockTimeMs} ms)` : opts.seal,
          accounts: isDevGenesis ? DEV_ACCOUNTS : [],
          balanceText: `${DEV_BALANCE / 10n ** 18n} ETH-units`,
        }),
      );
    }
    logger.info(
      {
        chainId: Number(chain.chainId),
        head: Number(chain.head.header.number),
        headHash: bytesToHex(chain.head.hash()),
        http: address.httpUrl,
        ws: address.wsUrl,
        datadir,
        seal: opts.seal,
      },
      "zgnode dev started",
    );

    return { chain, pool, sealer, rpc: address, datadir, registry, close: () => life.closeAll() };
  } catch (err) {
    await life.closeAll();
    throw err;
  }
}
