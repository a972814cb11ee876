import { parseArgs } from "node:util";
import { NodeError, NodeErrorCode } from "./errors.ts";
import { type DevNodeOptions, defaultDevNodeOptions, type LogFormat, type SealMode } from "./options.ts";

/** One command-line flag; its environment variable is derived from the name (`rpc.port` -> `ZGNODE_RPC_PORT`). */
export interface FlagSpec {
  name: string;
  type: "string" | "boolean";
  /** Placeholder for the value in help text. */
  value?: string;
  description: string;
  /** Default shown in help; the real defaults live in options.ts. */
  defaultText?: string;
}

export function envName(flag: string): string {
  return `ZGNODE_${flag.replace(/[.-]/g, "_").toUpperCase()}`;
}

/** `--rpc.threads`, shared by `dev` and `start`. */
export const rpcThreadsFlag: FlagSpec = {
  name: "rpc.threads",
  type: "string",
  value: "<n>",
  description: "worker threads serving HTTP/WebSocket (0 = main thread)",
  defaultText: "1",
};

/** `--rpc.threads` as a number (0-64), or `fallback` when not given. */
export function rpcThreadsOf(values: RawValues, fallback: number): number {
  return intFlag(values, "rpc.threads", fallback, 0, 64);
}

export const devFlags: FlagSpec[] = [
  {
    name: "datadir",
    type: "string",
    value: "<dir>",
    description: "data directory (LevelDB, node files)",
    defaultText: "~/.zgnode/dev",
  },
  { name: "ephemeral", type: "boolean", description: "use a temporary data directory, removed at exit" },
  {
    name: "rpc.host",
    type: "string",
    value: "<host>",
    description: "JSON-RPC HTTP + WebSocket listen address",
    defaultText: "127.0.0.1",
  },
  {
    name: "rpc.port",
    type: "string",
    value: "<port>",
    description: "JSON-RPC HTTP + WebSocket port (0 = any free port)",
    defaultText: "8545",
  },
  {
    name: "rpc.admin-token",
    type: "string",
    value: "<token>",
    description: "bearer token allowing admin methods from non-loopback clients",
  },
  { name: "rpc.max-body", type: "string", value: "<bytes>", description: "largest HTTP request body", defaultText: "5242880" },
  { name: "rpc.max-batch", type: "string", value: "<n>", description: "most calls in one batch", defaultText: "1000" },
  rpcThreadsFlag,
  {
    name: "seal",
    type: "string",
    value: "instant|interval|manual",
    description: "block production mode",
    defaultText: "instant",
  },
  { name: "block-time", type: "string", value: "<ms>", description: "block time for --seal interval", defaultText: "1000" },
  {
    name: "genesis",
    type: "string",
    value: "<genesis.json>",
    description: "start from a geth genesis file instead of the dev genesis",
  },
  { name: "import", type: "string", value: "<chain.rlp>", description: "import and validate an RLP chain file at start" },
  {
    name: "log.level",
    type: "string",
    value: "<level>",
    description: "trace|debug|info|warn|error|fatal|silent",
    defaultText: "info",
  },
  {
    name: "log.format",
    type: "string",
    value: "json|pretty|auto",
    description: "log format (auto: pretty on a terminal)",
    defaultText: "auto",
  },
  { name: "quiet", type: "boolean", description: "do not print the start banner" },
  { name: "help", type: "boolean", description: "show this help" },
];

export function flagHelp(command: string, summary: string, flags: FlagSpec[]): string {
  const left = flags.map((f) => `--${f.name}${f.value ? ` ${f.value}` : ""}`);
  const width = Math.max(...left.map((l) => l.length));
  const lines = flags.map((f, i) => {
    const def = f.defaultText ? ` (default ${f.defaultText})` : "";
    const env = f.name === "help" ? "" : ` [${envName(f.name)}]`;
    return `  ${left[i].padEnd(width)}  ${f.description}${def}${env}`;
  });
  return [
    `Usage: zgnode ${command} [flags]`,
    "",
    summary,
    "",
    "Flags (each also settable by the environment variable in brackets):",
    ...lines,
    "",
  ].join("\n");
}

type RawValues = Record<string, string | boolean | undefined>;

/** Parses flags, falling back to `ZGNODE_*` variables. Unknown flags and positionals are errors. */
export function parseFlags(argv: string[], env: NodeJS.ProcessEnv, flags: FlagSpec[]): RawValues {
  const options: Record<string, { type: "string" | "boolean" }> = {};
  for (const f of flags) options[f.name] = { type: f.type };
  let values: RawValues;
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as RawValues;
  } catch (err) {
    throw new NodeError(NodeErrorCode.BAD_FLAG, (err as Error).message);
  }
  for (const f of flags) {
    if (values[f.name] !== undefined || f.name === "help") continue;
    const fromEnv = env[envName(f.name)];
    if (fromEnv === undefined || fromEnv === "") continue;
    values[f.name] = f.type === "boolean" ? fromEnv === "1" || fromEnv.toLowerCase() === "true" : fromEnv;
  }
  return values;
}

function intFlag(values: RawValues, name: string, fallback: number, min: number, max: number): number {
  const v = values[name];
  if (v === undefined) return fallback;
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new NodeError(NodeErrorCode.BAD_FLAG, `--${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return n;
}

function choiceFlag<T extends string>(values: RawValues, name: string, choices: readonly T[], fallback: T): T {
  const v = values[name];
  if (v === undefined) return fallback;
  if (typeof v !== "string" || !choices.includes(v as T)) {
    throw new NodeError(NodeErrorCode.BAD_FLAG, `--${name} must be one of ${choices.join(", ")}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}

function stringFlag(values: RawValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === "string" && v.length > 0 ? v : undefined;
}

export function devOptionsFromFlags(values: RawValues): DevNodeOptions {
  const d = defaultDevNodeOptions;
  const seal = choiceFlag<SealMode>(values, "seal", ["instant", "interval", "manual"], d.seal);
  const logLevels = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
  const opts: DevNodeOptions = {
    datadir: stringFlag(values, "datadir") ?? d.datadir,
    ephemeral: values.ephemeral === true,
    rpcHost: stringFlag(values, "rpc.host") ?? d.rpcHost,
    rpcPort: intFlag(values, "rpc.port", d.rpcPort, 0, 65535),
    rpcAdminToken: stringFlag(values, "rpc.admin-token"),
    rpcMaxBodyBytes: intFlag(values, "rpc.max-body", d.rpcMaxBodyBytes, 1024, 1024 * 1024 * 1024),
    rpcMaxBatch: intFlag(values, "rpc.max-batch", d.rpcMaxBatch, 1, 100_000),
    rpcThreads: rpcThreadsOf(values, d.rpcThreads),
    seal,
    blockTimeMs: intFlag(values, "block-time", d.blockTimeMs, 1, 3_600_000),
    genesisFile: stringFlag(values, "genesis"),
    importFile: stringFlag(values, "import"),
    logLevel: choiceFlag(values, "log.level", logLevels, d.logLevel as (typeof logLevels)[number]),
    logFormat: choiceFlag<LogFormat>(values, "log.format", ["json", "pretty", "auto"], d.logFormat),
    quiet: values.quiet === true,
  };
  if (opts.importFile && !opts.genesisFile)
    throw new NodeError(NodeErrorCode.BAD_FLAG, "--import needs --genesis (the chain's genesis file)");
  return opts;
}
