import { readdir } from "node:fs/promises";
import { isCodedError } from "@zgnode/utils";
import { NodeErrorCode } from "./errors.ts";

/** Streams and environment a command runs with (injected so commands are testable in-process). */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
}

/**
 * A subcommand. Each lives in its own file under `src/commands/` exporting `command`; the CLI discovers
 * them, so adding a subcommand is adding one file. `run` gets the arguments after the command path and
 * returns the exit code; heavy modules are imported inside `run` so `--help` stays fast.
 */
export interface CliCommand {
  /** Words that select the command, e.g. ["storage", "root"]. */
  path: string[];
  /** One line for `zgnode --help`. */
  summary: string;
  run(argv: string[], io: CliIo): Promise<number>;
}

export async function loadCommands(): Promise<CliCommand[]> {
  const dir = new URL("./commands/", import.meta.url);
  const files = (await readdir(dir)).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")).sort();
  const commands: CliCommand[] = [];
  for (const file of files) {
    const mod = (await import(new URL(file, dir).href)) as { command?: CliCommand; commands?: CliCommand[] };
    if (mod.command) commands.push(mod.command);
    if (mod.commands) commands.push(...mod.commands);
  }
  return commands;
}

export function usage(commands: CliCommand[]): string {
  const width = Math.max(...commands.map((c) => c.path.join(" ").length));
  const lines = commands.map((c) => `  ${c.path.join(" ").padEnd(width)}  ${c.summary}`);
  return [
    "zgnode: a full node for the 0G stack (chain, storage, DA, compute)",
    "",
    "Usage: zgnode <command> [flags]      (zgnode <command> --help for its flags)",
    "",
    "Commands:",
    ...lines,
    "",
  ].join("\n");
}

/** Picks the command whose path is the longest prefix of argv and runs it. */
export async function runCli(argv: string[], io: CliIo, commands: CliCommand[]): Promise<number> {
  let best: CliCommand | undefined;
  for (const c of commands) {
    if (c.path.length <= argv.length && c.path.every((w, i) => argv[i] === w) && (!best || c.path.length > best.path.length))
      best = c;
  }
  if (!best) {
    // A command group (`zgnode keys`): list its subcommands.
    const group = argv.length > 0 ? commands.filter((c) => c.path.length > 1 && c.path[0] === argv[0]) : [];
    const rest = argv.slice(1);
    const wantsHelp = argv.length === 0 || isHelp(argv[0]) || (group.length > 0 && (rest.length === 0 || isHelp(rest[0])));
    (wantsHelp ? io.stdout : io.stderr).write(usage(group.length > 0 ? group : commands));
    if (!wantsHelp) io.stderr.write(`\nerror [${NodeErrorCode.UNKNOWN_COMMAND}]: unknown command "${argv.join(" ")}"\n`);
    return wantsHelp ? 0 : 2;
  }
  try {
    return await best.run(argv.slice(best.path.length), io);
  } catch (err) {
    if (isCodedError(err)) {
      io.stderr.write(`error [${err.code}]: ${err.message}\n`);
      return err.code === NodeErrorCode.BAD_FLAG ? 2 : 1;
    }
    io.stderr.write(`error: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}

function isHelp(arg: string | undefined): boolean {
  return arg === "--help" || arg === "-h" || arg === "help";
}
