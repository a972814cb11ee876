import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const BIN = new URL("../src/bin/zgnode.ts", import.meta.url).pathname;
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe("the zgnode binary", () => {
  it("keeps V8's compile cache under the temp dir, and NODE_DISABLE_COMPILE_CACHE turns it off", async () => {
    const run = async (extra: Record<string, string>) => {
      const tmp = await mkdtemp(join(tmpdir(), "zgnode-bin-"));
      dirs.push(tmp);
      const env: Record<string, string | undefined> = { ...process.env, TMPDIR: tmp, ...extra };
      delete env.NODE_COMPILE_CACHE;
      const r = spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", BIN, "--help"], { env, encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain("Usage: zgnode <command>");
      return readdir(tmp);
    };
    expect(await run({})).toContain("node-compile-cache");
    expect(await run({ NODE_DISABLE_COMPILE_CACHE: "1" })).not.toContain("node-compile-cache");
  });
});
