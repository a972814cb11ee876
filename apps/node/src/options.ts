import { homedir } from "node:os";
import { join } from "node:path";

export type SealMode = "instant" | "interval" | "manual";
export type LogFormat = "json" | "pretty" | "auto";

/** Everything `zgnode dev` needs to start, after flags and `ZGNODE_*` variables are merged over defaults. */
export interface DevNodeOptions {
  /** LevelDB and node files live here; reused across restarts. */
  datadir: string;
  /** Use a fresh temporary datadir, removed at exit. */
  ephemeral: boolean;
  rpcHost: string;
  rpcPort: number;
  /** Bearer token granting admin methods to non-loopback callers. */
  rpcAdminToken: string | undefined;
  rpcMaxBodyBytes: number;
  rpcMaxBatch: number;
  /** Worker threads serving JSON-RPC HTTP/WebSocket; 0 serves them from the main thread. */
  rpcThreads: number;
  seal: SealMode;
  /** Block time in ms for `--seal interval`. */
  blockTimeMs: number;
  /** A geth genesis.json to start from instead of the dev genesis. */
  genesisFile: string | undefined;
  /** An RLP chain file to import (and validate) at start. */
  importFile: string | undefined;
  logLevel: string;
  logFormat: LogFormat;
  /** Skip the start banner (accounts, keys, endpoints). */
  quiet: boolean;
}

/** The dev chain id, like 0G's local `zgchain_8888-1`. */
export const DEV_CHAIN_ID = 8888;

export const defaultDevNodeOptions: DevNodeOptions = {
  datadir: join(homedir(), ".zgnode", "dev"),
  ephemeral: false,
  rpcHost: "127.0.0.1",
  rpcPort: 8545,
  rpcAdminToken: undefined,
  rpcMaxBodyBytes: 5 * 1024 * 1024,
  rpcMaxBatch: 1000,
  rpcThreads: 1,
  seal: "instant",
  blockTimeMs: 1000,
  genesisFile: undefined,
  importFile: undefined,
  logLevel: "info",
  logFormat: "auto",
  quiet: false,
};
