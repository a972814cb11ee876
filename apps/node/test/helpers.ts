import { PassThrough } from "node:stream";
import type { CliIo } from "../src/cli.ts";

/** A CLI io whose stdout and stderr are collected, for running commands in-process. */
export function io(env: NodeJS.ProcessEnv = {}): CliIo & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = "";
  let e = "";
  stdout.on("data", (b) => {
    o += b;
  });
  stderr.on("data", (b) => {
    e += b;
  });
  return { stdout, stderr, isTTY: false, env, out: () => o, err: () => e };
}
