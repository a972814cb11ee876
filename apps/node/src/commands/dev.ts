import type { CliCommand, CliIo } from "../cli.ts";
import { devFlags, devOptionsFromFlags, flagHelp, parseFlags } from "../config.ts";

const SUMMARY = "run a single-node development chain (instant finality, prefunded dev accounts, JSON-RPC)";

export const command: CliCommand = {
  path: ["dev"],
  summary: SUMMARY,
  async run(argv: string[], io: CliIo): Promise<number> {
    const values = parseFlags(argv, io.env, devFlags);
    if (values.help) {
      io.stdout.write(flagHelp("dev", SUMMARY, devFlags));
      return 0;
    }
    const opts = devOptionsFromFlags(values);
    const { runUntilSignal } = await import("../run.ts");
    const { startDevNode } = await import("../node.ts");
    return runUntilSignal(opts, io, startDevNode);
  },
};
