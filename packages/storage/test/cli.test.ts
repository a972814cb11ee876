import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { MemData } from "@0glabs/0g-ts-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StorageErrorCode, storageRootCommand } from "../src/index.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "zg-cli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function sink(): { stream: Writable; text: () => string } {
  const parts: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      parts.push(chunk.toString());
      cb();
    },
  });
  return { stream, text: () => parts.join("") };
}

async function run(argv: string[], isTTY = false) {
  const out = sink();
  const err = sink();
  const code = await storageRootCommand(argv, { stdout: out.stream, stderr: err.stream, isTTY });
  return { code, stdout: out.text(), stderr: err.text() };
}

describe("zgnode storage root", () => {
  it("prints the root and submission the 0G SDK computes", async () => {
    const data = new Uint8Array(3 * 262144 + 1000).map((_, i) => (i * 17) & 0xff);
    const path = join(dir, "a.bin");
    await writeFile(path, data);
    const r = await run([path, "--tags", "0xabcd", "--calldata", "legacy"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const json = JSON.parse(r.stdout);
    const [tree] = await new MemData(data).merkleTree();
    const [sub] = await new MemData(data).createSubmission("0xabcd");
    expect(json.root).toBe(tree!.rootHash());
    expect(json.size).toBe(data.length);
    expect(json.submission.data.nodes).toEqual(sub!.nodes.map((n) => ({ root: n.root, height: Number(n.height) })));
    expect(json.submission.data.tags).toBe("0xabcd");
    expect(json.calldata.startsWith("0xef3e12dc")).toBe(true);
  });

  it("draws a progress bar on a terminal only, and clears it", async () => {
    const path = join(dir, "big.bin");
    await writeFile(path, new Uint8Array(20 * 1024 * 1024).fill(3));
    const tty = await run([path, "--workers", "0"], true);
    expect(tty.code).toBe(0);
    expect(tty.stderr).toMatch(/\[#+\.*\] +\d+% [\d.]+ MB\/s/);
    expect(tty.stderr.endsWith("\r\x1b[2K")).toBe(true);
    const pipe = await run([path, "--workers", "0"], false);
    expect(pipe.stderr).toBe("");
    expect(JSON.parse(pipe.stdout).root).toBe(JSON.parse(tty.stdout).root);
    const quiet = await run([path, "--workers", "0", "--no-progress"], true);
    expect(quiet.stderr).toBe("");
  });

  it("reports usage and file errors with exit codes", async () => {
    expect((await run([])).code).toBe(2);
    expect((await run(["a", "b"])).code).toBe(2);
    expect((await run([join(dir, "a.bin"), "--tags", "zz"])).code).toBe(2);
    expect((await run([join(dir, "a.bin"), "--calldata", "v3"])).code).toBe(2);
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("usage: zgnode storage root");
    const missing = await run([join(dir, "nope.bin")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(StorageErrorCode.FILE_READ);
    const empty = join(dir, "empty.bin");
    await writeFile(empty, new Uint8Array(0));
    const e = await run([empty]);
    expect(e.code).toBe(1);
    expect(e.stderr).toContain(StorageErrorCode.EMPTY_FILE);
  });
});
