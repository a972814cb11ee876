import { describe, expect, it } from "vitest";
import { type CliCommand, loadCommands, runCli } from "../src/cli.ts";
import { devFlags, devOptionsFromFlags, envName, parseFlags } from "../src/config.ts";
import { NodeError, NodeErrorCode } from "../src/errors.ts";
import { defaultDevNodeOptions } from "../src/options.ts";
import { io } from "./helpers.ts";

function devOptions(argv: string[], env: NodeJS.ProcessEnv = {}) {
  return devOptionsFromFlags(parseFlags(argv, env, devFlags));
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof NodeError ? err.code : "not a NodeError";
  }
  return undefined;
}

describe("zgnode dev flags", () => {
  it("uses the documented defaults", () => {
    const o = devOptions([]);
    expect(o).toEqual(defaultDevNodeOptions);
    expect(o.rpcPort).toBe(8545);
    expect(o.rpcHost).toBe("127.0.0.1");
    expect(o.datadir).toMatch(/\.zgnode[/\\]dev$/);
    expect(o.seal).toBe("instant");
  });

  it("parses every flag", () => {
    const o = devOptions([
      "--datadir=/tmp/x",
      "--ephemeral",
      "--rpc.host",
      "0.0.0.0",
      "--rpc.port",
      "0",
      "--rpc.admin-token",
      "s3cret",
      "--rpc.max-body",
      "2048",
      "--rpc.max-batch",
      "50",
      "--rpc.threads",
      "2",
      "--seal",
      "interval",
      "--block-time",
      "250",
      "--genesis",
      "g.json",
      "--import",
      "c.rlp",
      "--log.level",
      "debug",
      "--log.format",
      "json",
      "--quiet",
    ]);
    expect(o).toEqual({
      datadir: "/tmp/x",
      ephemeral: true,
      rpcHost: "0.0.0.0",
      rpcPort: 0,
      rpcAdminToken: "s3cret",
      rpcMaxBodyBytes: 2048,
      rpcMaxBatch: 50,
      rpcThreads: 2,
      seal: "interval",
      blockTimeMs: 250,
      genesisFile: "g.json",
      importFile: "c.rlp",
      logLevel: "debug",
      logFormat: "json",
      quiet: true,
    });
  });

  it("reads ZGNODE_* variables, with flags taking precedence", () => {
    expect(envName("rpc.max-batch")).toBe("ZGNODE_RPC_MAX_BATCH");
    const env = { ZGNODE_RPC_PORT: "9000", ZGNODE_SEAL: "manual", ZGNODE_EPHEMERAL: "true" };
    expect(devOptions([], env)).toMatchObject({ rpcPort: 9000, seal: "manual", ephemeral: true });
    expect(devOptions(["--rpc.port", "9001"], env).rpcPort).toBe(9001);
  });

  it("rejects bad values with a coded error", () => {
    expect(codeOf(() => devOptions(["--rpc.port", "70000"]))).toBe(NodeErrorCode.BAD_FLAG);
    expect(codeOf(() => devOptions(["--rpc.port", "12ab"]))).toBe(NodeErrorCode.BAD_FLAG);
    expect(codeOf(() => devOptions(["--seal", "sometimes"]))).toBe(NodeErrorCode.BAD_FLAG);
    expect(codeOf(() => devOptions(["--log.format", "xml"]))).toBe(NodeErrorCode.BAD_FLAG);
    expect(codeOf(() => devOptions(["--no-such-flag"]))).toBe(NodeErrorCode.BAD_FLAG);
    expect(codeOf(() => devOptions(["positional"]))).toBe(NodeErrorCode.BAD_FLAG);
    expect(codeOf(() => devOptions(["--import", "c.rlp"]))).toBe(NodeErrorCode.BAD_FLAG);
  });
});

describe("zgnode command dispatch", () => {
  it("discovers the commands from src/commands", async () => {
    const paths = (await loadCommands()).map((c) => c.path.join(" "));
    expect(paths).toContain("dev");
    expect(paths).toContain("storage root");
  });

  it("routes to the longest matching command path and reports unknown commands", async () => {
    const calls: string[][] = [];
    const mk = (path: string[]): CliCommand => ({
      path,
      summary: path.join(" "),
      run: async (argv) => {
        calls.push([path.join(" "), ...argv]);
        return 7;
      },
    });
    const commands = [mk(["storage"]), mk(["storage", "root"]), mk(["dev"])];
    expect(await runCli(["storage", "root", "f.bin", "--x"], io(), commands)).toBe(7);
    expect(calls).toEqual([["storage root", "f.bin", "--x"]]);

    const help = io();
    expect(await runCli(["--help"], help, commands)).toBe(0);
    expect(help.out()).toContain("storage root");

    const group = io();
    expect(await runCli(["storage", "--help"], group, [mk(["storage", "root"]), mk(["storage", "put"]), mk(["dev"])])).toBe(0);
    expect(group.out()).toContain("storage put");
    expect(group.out()).not.toContain("  dev");

    const bad = io();
    expect(await runCli(["frobnicate"], bad, commands)).toBe(2);
    expect(bad.err()).toContain(NodeErrorCode.UNKNOWN_COMMAND);
  });

  it("prints dev --help and exits 2 on a bad flag without starting anything", async () => {
    const commands = await loadCommands();
    const help = io();
    expect(await runCli(["dev", "--help"], help, commands)).toBe(0);
    for (const f of devFlags) expect(help.out()).toContain(`--${f.name}`);
    const bad = io();
    expect(await runCli(["dev", "--rpc.port", "x"], bad, commands)).toBe(2);
    expect(bad.err()).toContain(NodeErrorCode.BAD_FLAG);
  });

  it("start takes --rpc.threads and rejects a bad value before touching its home", async () => {
    const commands = await loadCommands();
    const help = io();
    expect(await runCli(["start", "--help"], help, commands)).toBe(0);
    expect(help.out()).toContain("--rpc.threads");
    const bad = io();
    expect(await runCli(["start", "--home", "/nonexistent-home", "--rpc.threads", "many"], bad, commands)).toBe(2);
    expect(bad.err()).toContain(NodeErrorCode.BAD_FLAG);
    expect(bad.err()).toContain("rpc.threads");
  });
});
