import type { CliCommand, CliIo } from "../cli.ts";
import { type FlagSpec, flagHelp, parseFlags, rpcThreadsFlag, rpcThreadsOf } from "../config.ts";
import { NodeError, NodeErrorCode } from "../errors.ts";
import { defaultDevNodeOptions, type LogFormat } from "../options.ts";

const SUMMARY = "run a node of a BFT network from its home folder (role validator or full, from config.json)";

const flags: FlagSpec[] = [
  { name: "home", type: "string", value: "<dir>", description: "node home (config.json, genesis.json, keys/, data/)" },
  { name: "datadir", type: "string", value: "<dir>", description: "alias of --home" },
  { name: "rpc.host", type: "string", value: "<host>", description: "override the JSON-RPC listen address" },
  { name: "rpc.port", type: "string", value: "<port>", description: "override the JSON-RPC port" },
  rpcThreadsFlag,
  { name: "log.level", type: "string", value: "<level>", description: "trace|debug|info|warn|error", defaultText: "info" },
  { name: "log.format", type: "string", value: "json|pretty|auto", description: "log format", defaultText: "auto" },
  {
    name: "bls-keystore",
    type: "string",
    value: "<file>",
    description: "encrypted BLS key from `zgnode keys new --type bls` (instead of keys/bls.key)",
  },
  { name: "password-file", type: "string", value: "<file>", description: "password of --bls-keystore" },
  {
    name: "test.double-sign",
    type: "boolean",
    description: "TEST ONLY: equivocate on every prevote (needs ZGNODE_ENABLE_TEST_FLAGS=1)",
  },
  { name: "help", type: "boolean", description: "show this help" },
];

export const command: CliCommand = {
  path: ["start"],
  summary: SUMMARY,
  async run(argv: string[], io: CliIo): Promise<number> {
    const v = parseFlags(argv, io.env, flags);
    if (v.help) {
      io.stdout.write(flagHelp("start", SUMMARY, flags));
      return 0;
    }
    const home = (typeof v.home === "string" && v.home) || (typeof v.datadir === "string" && v.datadir);
    if (!home) throw new NodeError(NodeErrorCode.BAD_FLAG, "usage: zgnode start --home <dir>");
    const doubleSign = v["test.double-sign"] === true;
    if (doubleSign && io.env.ZGNODE_ENABLE_TEST_FLAGS !== "1")
      throw new NodeError(NodeErrorCode.BAD_FLAG, "--test.double-sign is a test-only flag: set ZGNODE_ENABLE_TEST_FLAGS=1");
    let rpcPort: number | undefined;
    if (typeof v["rpc.port"] === "string") {
      rpcPort = Number(v["rpc.port"]);
      if (!Number.isInteger(rpcPort) || rpcPort < 0 || rpcPort > 65535)
        throw new NodeError(NodeErrorCode.BAD_FLAG, `--rpc.port must be a port, got ${v["rpc.port"]}`);
    }
    const rpcThreads = rpcThreadsOf(v, defaultDevNodeOptions.rpcThreads);
    const logFormat = (typeof v["log.format"] === "string" ? v["log.format"] : "auto") as LogFormat;
    if (!["json", "pretty", "auto"].includes(logFormat))
      throw new NodeError(NodeErrorCode.BAD_FLAG, "--log.format: json|pretty|auto");
    const logLevel = typeof v["log.level"] === "string" ? v["log.level"] : "info";
    let blsSeed: Uint8Array | undefined;
    if (typeof v["bls-keystore"] === "string") {
      if (typeof v["password-file"] !== "string")
        throw new NodeError(NodeErrorCode.BAD_FLAG, "--bls-keystore needs --password-file");
      const { readFile } = await import("node:fs/promises");
      const password = (await readFile(v["password-file"], "utf8")).split(/\r?\n/)[0];
      const { unlockKey } = await import("../keystore.ts");
      const key = await unlockKey(v["bls-keystore"], password);
      if (key.type !== "bls") throw new NodeError(NodeErrorCode.BAD_FILE, "--bls-keystore is not a BLS keystore");
      blsSeed = key.secret;
    }
    const { runUntilSignal } = await import("../run.ts");
    const { startBftNode } = await import("../bftNode.ts");
    return runUntilSignal({ ...defaultDevNodeOptions, logLevel, logFormat }, io, (_o, logger) =>
      startBftNode(
        {
          home,
          rpcHost: typeof v["rpc.host"] === "string" ? v["rpc.host"] : undefined,
          rpcPort,
          rpcThreads,
          doubleSign,
          blsSeed,
        },
        logger,
      ),
    );
  },
};
