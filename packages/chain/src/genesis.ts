import type { HeaderData } from "@ethereumjs/block";
import {
  type Common,
  createCommonFromGethGenesis,
  createCustomCommon,
  type GenesisState,
  type GethGenesis,
  Hardfork,
  Mainnet,
  parseGethGenesisState,
} from "@ethereumjs/common";
import { createCustomCrypto } from "./crypto.ts";
import { DEV_ACCOUNTS } from "./devAccounts.ts";
import { ChainError, ChainErrorCode } from "./errors.ts";
import { PRAGUE_SYSTEM_CONTRACTS } from "./systemContracts.ts";

/** Everything needed to create block 0: the fork schedule (in `common`), the allocation and the header fields. */
export interface GenesisSpec {
  /** Chain config and fork schedule; its hardfork is set for block 0. */
  common: Common;
  /** address -> balance or [balance, code, storage, nonce]. */
  alloc: GenesisState;
  /** Header fields of block 0 except `stateRoot` (computed from `alloc`). */
  header: HeaderData;
}

export const DEV_CHAIN_ID = 8888n;
/** EIP-1559 base fee of the first London block (1 gwei). */
export const INITIAL_BASE_FEE = 1_000_000_000n;
export const DEV_GAS_LIMIT = 60_000_000n;
/** 10,000 units of 10^18 wei per dev account. */
export const DEV_BALANCE = 10_000n * 10n ** 18n;

export interface DevGenesisOptions {
  chainId: bigint;
  gasLimit: bigint;
  /** Accounts to fund (hex address -> wei); defaults to the ten dev accounts with 10,000 ETH-units each. */
  alloc: Record<string, bigint>;
  /** Genesis timestamp (seconds). Fixed by default so the genesis hash is reproducible. */
  timestamp: bigint;
  hardfork: string;
}

/**
 * A Common for a chain that starts at `hardfork` (every earlier fork at block 0, none later), so `setHardforkBy`
 * always lands on it. With the node's crypto hooks (KZG).
 */
export function createCommonForFork(hardfork: string, chainId: bigint): Common {
  const hardforks: { name: string; block: number }[] = [];
  for (const hf of Mainnet.hardforks) {
    hardforks.push({ name: hf.name, block: 0 });
    if (hf.name === hardfork) break;
  }
  if (hardforks[hardforks.length - 1]?.name !== hardfork) {
    throw new ChainError(ChainErrorCode.INVALID_GENESIS, `unknown hardfork ${hardfork}`);
  }
  return createCustomCommon({ chainId: Number(chainId), name: `zgnode-${hardfork}-${chainId}`, hardforks }, Mainnet, {
    hardfork,
    customCrypto: createCustomCrypto(),
  });
}

/** The dev chain: chain id 8888, Prague from block 0, 60M gas, the ten dev accounts funded, system contracts deployed. */
export function createDevGenesis(opts: Partial<DevGenesisOptions> = {}): GenesisSpec {
  const chainId = opts.chainId ?? DEV_CHAIN_ID;
  const hardfork = opts.hardfork ?? Hardfork.Prague;
  const common = createCommonForFork(hardfork, chainId);
  const alloc: GenesisState = {};
  for (const sc of PRAGUE_SYSTEM_CONTRACTS) alloc[sc.address as `0x${string}`] = ["0x0", sc.code as `0x${string}`, [], "0x1"];
  const funded = opts.alloc ?? Object.fromEntries(DEV_ACCOUNTS.map((a) => [a.address, DEV_BALANCE]));
  for (const [addr, bal] of Object.entries(funded)) alloc[addr.toLowerCase() as `0x${string}`] = `0x${bal.toString(16)}`;
  return {
    common,
    alloc,
    header: {
      number: 0n,
      gasLimit: opts.gasLimit ?? DEV_GAS_LIMIT,
      timestamp: opts.timestamp ?? 0n,
      difficulty: 0n,
      baseFeePerGas: INITIAL_BASE_FEE,
      extraData: new TextEncoder().encode("zgnode dev"),
    },
  };
}

/**
 * A geth genesis.json (as used by hive and `geth init`): fork schedule from `config`, allocation from `alloc`,
 * header fields from the top level. Works around an @ethereumjs/common 10.1.3 bug: a `blobSchedule` entry for
 * bpo1/bpo2 replaces the fork's params under names `getBlobGasSchedule()` does not read, so those entries are
 * dropped (the built-in bpo1/bpo2 values are the same as mainnet's).
 */
export function parseGethGenesis(json: unknown): GenesisSpec {
  if (typeof json !== "object" || json === null || typeof (json as { config?: unknown }).config !== "object") {
    throw new ChainError(ChainErrorCode.INVALID_GENESIS, "genesis must be an object with a `config` object");
  }
  const g = structuredClone(json) as GethGenesis & Record<string, unknown>;
  const config = g.config as unknown as Record<string, unknown>;
  const schedule = config.blobSchedule as Record<string, unknown> | undefined;
  if (schedule) for (const k of Object.keys(schedule)) if (/^bpo\d+$/.test(k)) delete schedule[k];
  g.alloc ??= {};
  let common: Common;
  let alloc: GenesisState;
  try {
    common = createCommonFromGethGenesis(g, { chain: "custom", customCrypto: createCustomCrypto() });
    alloc = parseGethGenesisState(g);
  } catch (err) {
    throw new ChainError(ChainErrorCode.INVALID_GENESIS, `invalid genesis: ${(err as Error).message}`, undefined, {
      cause: err,
    });
  }
  const big = (v: unknown, dflt?: bigint): bigint | undefined =>
    v === undefined || v === null ? dflt : BigInt(v as string | number);
  const timestamp = big(g.timestamp, 0n) as bigint;
  common.setHardforkBy({ blockNumber: 0n, timestamp });
  const header: HeaderData = {
    number: 0n,
    timestamp,
    gasLimit: big(g.gasLimit, 5000n),
    difficulty: big(g.difficulty, 0n),
    nonce: (g.nonce as `0x${string}` | undefined) ? padNonce(g.nonce as string) : undefined,
    extraData: (g.extraData as `0x${string}`) ?? "0x",
    mixHash: g.mixHash as `0x${string}` | undefined,
    coinbase: g.coinbase as `0x${string}` | undefined,
    parentHash: g.parentHash as `0x${string}` | undefined,
    gasUsed: big(g.gasUsed, 0n),
  };
  if (common.isActivatedEIP(1559)) header.baseFeePerGas = big(g.baseFeePerGas, INITIAL_BASE_FEE);
  if (common.isActivatedEIP(4844)) {
    header.excessBlobGas = big(g.excessBlobGas, 0n);
    header.blobGasUsed = big(g.blobGasUsed, 0n);
  }
  return { common, alloc, header };
}

function padNonce(n: string): `0x${string}` {
  return `0x${BigInt(n).toString(16).padStart(16, "0")}`;
}
