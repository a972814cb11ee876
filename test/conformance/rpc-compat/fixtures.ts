import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

/**
 * The execution-apis rpc-compat fixture format (hive `testload.go`): leading `//` comment lines describe the
 * test (a `speconly:` line means only the result schema is checked), then `>>` request / `<<` response lines.
 */

export interface RoundTrip {
  request: string;
  expected: string;
}

export interface RpcFixture {
  /** Relative path, e.g. "eth_call/call-contract.io". */
  name: string;
  /** The method folder. */
  method: string;
  comment: string;
  specOnly: boolean;
  roundTrips: RoundTrip[];
}

export class FixtureFormatError extends Error {
  readonly code = "FIXTURE_FORMAT";
}

export function parseFixture(name: string, text: string): RpcFixture {
  const comments: string[] = [];
  const roundTrips: RoundTrip[] = [];
  let pending: string | undefined;
  let inHeader = true;
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "") continue;
    if (line.startsWith("//")) {
      if (inHeader) comments.push(line.slice(2).trim());
      continue;
    }
    inHeader = false;
    if (line.startsWith(">> ")) {
      if (pending !== undefined) throw new FixtureFormatError(`${name}:${i + 1}: request without a response`);
      pending = line.slice(3);
    } else if (line.startsWith("<< ")) {
      if (pending === undefined) throw new FixtureFormatError(`${name}:${i + 1}: response without a request`);
      roundTrips.push({ request: pending, expected: line.slice(3) });
      pending = undefined;
    } else {
      throw new FixtureFormatError(`${name}:${i + 1}: unexpected line`);
    }
  }
  if (pending !== undefined) throw new FixtureFormatError(`${name}: trailing request without a response`);
  return {
    name,
    method: name.split("/")[0]!,
    comment: comments.join("\n"),
    specOnly: comments.some((c) => c.startsWith("speconly:")),
    roundTrips,
  };
}

/** Every `.io` file under `testsDir`, in lexical path order (the order hive runs them against one client). */
export function loadFixtures(testsDir: string): RpcFixture[] {
  const names: string[] = [];
  for (const dir of readdirSync(testsDir).sort()) {
    const full = path.join(testsDir, dir);
    if (!statSync(full).isDirectory()) continue;
    for (const file of readdirSync(full).sort()) if (file.endsWith(".io")) names.push(`${dir}/${file}`);
  }
  names.sort();
  return names.map((n) => parseFixture(n, readFileSync(path.join(testsDir, n), "utf8")));
}
