#!/usr/bin/env node
import { loadCommands, runCli } from "../cli.ts";

const code = await runCli(
  process.argv.slice(2),
  { stdout: process.stdout, stderr: process.stderr, isTTY: process.stdout.isTTY === true, env: process.env },
  await loadCommands(),
);
process.exitCode = code;
