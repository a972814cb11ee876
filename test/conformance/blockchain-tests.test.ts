import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type CaseResult, runFolder } from "./blockchain/runner.ts";

// ethereum/tests BlockchainTests (ValidBlocks + InvalidBlocks), read in place beside the repository.
const repoRoot = resolve(import.meta.dirname, "../..");
const base = resolve(repoRoot, "../shared/conformance/ethereum-tests/BlockchainTests");
const present = existsSync(base);
if (!present) console.log(`BlockchainTests skipped: ${base} does not exist`);

/**
 * Cases known to fail, with the reason. Every other failure fails the suite.
 * key: "<file relative to BlockchainTests>::<case name>"
 */
const EXCLUDED: Record<string, string> = {};

const table: { folder: string; cases: number; passed: number; failed: number; excluded: number }[] = [];

describe.skipIf(!present)("ethereum/tests BlockchainTests through Chain.importBlock", () => {
  const groups = present
    ? (["ValidBlocks", "InvalidBlocks"] as const).flatMap((top) =>
        readdirSync(join(base, top))
          .sort()
          .map((sub) => `${top}/${sub}`),
      )
    : [];
  afterAll(() => {
    if (table.length === 0) return;
    const lines = ["", "BlockchainTests pass table", "folder | cases | passed | failed | excluded"];
    for (const r of table) lines.push(`${r.folder} | ${r.cases} | ${r.passed} | ${r.failed} | ${r.excluded}`);
    const sum = (k: "cases" | "passed" | "failed" | "excluded") => table.reduce((a, r) => a + r[k], 0);
    lines.push(`TOTAL | ${sum("cases")} | ${sum("passed")} | ${sum("failed")} | ${sum("excluded")}`);
    console.log(lines.join("\n"));
  });
  for (const group of groups) {
    it(group, async () => {
      const results: CaseResult[] = await runFolder(base, join(base, group));
      const failures = results.filter((r) => !r.ok && !EXCLUDED[`${r.file}::${r.name}`]);
      const excluded = results.filter((r) => !r.ok && EXCLUDED[`${r.file}::${r.name}`]).length;
      table.push({
        folder: group,
        cases: results.length,
        passed: results.filter((r) => r.ok).length,
        failed: failures.length,
        excluded,
      });
      // The first few failures in full; the count says how many more.
      expect({
        failed: failures.length,
        first: failures.slice(0, 8).map((f) => `${f.file}::${f.name}: ${f.error}`),
      }).toEqual({ failed: 0, first: [] });
    });
  }
});
