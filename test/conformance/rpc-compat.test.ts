import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareResponse } from "./rpc-compat/compare.ts";
import { loadFixtures, type RpcFixture } from "./rpc-compat/fixtures.ts";
import { type CompatNode, startInProcessNode, startSpawnedNode } from "./rpc-compat/node.ts";
import { SpecSchemas } from "./rpc-compat/schemas.ts";

/**
 * ethereum/execution-apis rpc-compat fixtures, run the way hive's rpc-compat simulator runs them: one node that
 * imported chain.rlp on genesis.json, every `.io` file in lexical order, each `>>` line POSTed verbatim, replies
 * compared with hive's rules (exact JSON, numbers by value, error messages ignored), `speconly:` files checked
 * against the method's OpenRPC result schema.
 *
 * All 232 files are required, eth_simulateV1's 91 included (the issue's acceptance names the 141 others; the
 * anchor, @ethereumjs/client, passes 63 of the 232).
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const conformanceDir = path.resolve(repoRoot, "../shared/conformance");
const testsDir = path.join(conformanceDir, "execution-apis/tests");
const specDir = path.join(conformanceDir, "execution-apis/src");
/**
 * hive allows 5 s per request. This machine is shared by several concurrent test runs (load averages of 14 on 2
 * cores were seen), which stretches a blob transaction's KZG checks (~2 s of CPU) past 5 s of wall time, so the
 * limit here is 30 s: a timeout still fails the file, the answers are compared exactly as hive does.
 */
const REQUEST_TIMEOUT_MS = 30_000;
/**
 * `spawn` (default when apps/node exists): the real `zgnode dev --genesis --import --seal manual` binary;
 * `inprocess`: Chain + TxPool + eth table + RPC server composed here. Override with ZGNODE_RPC_COMPAT_MODE.
 */
const binPath = path.join(repoRoot, "apps/node/src/bin/zgnode.ts");
const mode = process.env.ZGNODE_RPC_COMPAT_MODE ?? (existsSync(binPath) ? "spawn" : "inprocess");

interface Outcome {
  fixture: RpcFixture;
  failure: string | undefined;
}

async function post(url: string, body: string): Promise<string> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  return res.text();
}

async function runFixture(url: string, fixture: RpcFixture, schemas: SpecSchemas): Promise<string | undefined> {
  for (const [i, rt] of fixture.roundTrips.entries()) {
    let reply: string;
    try {
      reply = await post(url, rt.request);
    } catch (err) {
      return `round trip ${i + 1}: ${(err as Error).message}`;
    }
    let failure: string | undefined;
    const parsed = JSON.parse(reply) as { id?: unknown; result?: unknown; error?: unknown };
    const expected = JSON.parse(rt.expected) as { id?: unknown; error?: unknown };
    const method = (JSON.parse(rt.request) as { method: string }).method;
    if (fixture.specOnly && parsed.error === undefined && expected.error === undefined) {
      if (parsed.id !== expected.id) failure = `id ${JSON.stringify(parsed.id)} != ${JSON.stringify(expected.id)}`;
      else failure = schemas.validateResult(method, parsed.result);
    } else {
      failure = compareResponse(reply, rt.expected);
    }
    if (failure !== undefined) return `round trip ${i + 1} (${method}): ${failure}`;
  }
  return undefined;
}

function printTable(outcomes: Outcome[]): void {
  const byMethod = new Map<string, { pass: number; fail: number }>();
  for (const o of outcomes) {
    const row = byMethod.get(o.fixture.method) ?? { pass: 0, fail: 0 };
    if (o.failure === undefined) row.pass++;
    else row.fail++;
    byMethod.set(o.fixture.method, row);
  }
  const lines = ["", "rpc-compat (execution-apis tests) per method:", `${"method".padEnd(42)} pass  fail`];
  for (const [method, row] of [...byMethod].sort()) {
    lines.push(`${method.padEnd(42)} ${String(row.pass).padStart(4)}  ${String(row.fail).padStart(4)}`);
  }
  const passed = outcomes.filter((o) => o.failure === undefined).length;
  const core = outcomes.filter((o) => o.fixture.method !== "eth_simulateV1");
  const corePassed = core.filter((o) => o.failure === undefined).length;
  lines.push(`total: ${passed} passed, ${outcomes.length - passed} failed of ${outcomes.length}`);
  lines.push(`without eth_simulateV1: ${corePassed} passed, ${core.length - corePassed} failed of ${core.length}`);
  for (const o of outcomes) if (o.failure !== undefined) lines.push(`FAIL ${o.fixture.name}: ${o.failure}`);
  console.log(lines.join("\n"));
}

const present = existsSync(testsDir);
if (!present) console.log(`rpc-compat: skipped, fixtures not found at ${testsDir}`);

describe.skipIf(!present)("execution-apis rpc-compat", () => {
  let node: CompatNode;
  let fixtures: RpcFixture[];
  let schemas: SpecSchemas;

  beforeAll(async () => {
    fixtures = loadFixtures(testsDir);
    schemas = new SpecSchemas(specDir);
    const logFile = path.join(tmpdir(), `zgnode-rpc-compat-${process.pid}.log`);
    node = mode === "spawn" ? await startSpawnedNode(repoRoot, testsDir, logFile) : await startInProcessNode(testsDir);
    console.log(`rpc-compat: node mode ${mode}${mode === "spawn" ? ` (log ${logFile})` : ""}`);
  });

  afterAll(async () => {
    await node?.close();
  });

  it("imports the fixture chain to block 54", () => {
    expect(node.head).toBe(54n);
  });

  it("answers every fixture like geth, eth_simulateV1 included", async () => {
    const outcomes: Outcome[] = [];
    for (const fixture of fixtures) {
      outcomes.push({ fixture, failure: await runFixture(node.url, fixture, schemas) });
    }
    printTable(outcomes);
    const failed = outcomes.filter((o) => o.failure !== undefined);
    expect(failed.map((o) => `${o.fixture.name}: ${o.failure}`)).toEqual([]);
  });
});
