import { execFileSync, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";
import { afterAll, describe, expect, it } from "vitest";
import { loadCommands, runCli } from "../src/cli.ts";
import type { NodesJsonEntry } from "../src/testnet.ts";

/**
 * docker/ holds the node image and a 4-validator devnet compose file. There is no Docker engine on these machines,
 * so the files are checked for what can be checked: the compose file's shape, the exact `zgnode init` command its
 * init service runs (executed here for real), and `docker compose config` (or `docker-compose config`) whenever
 * such a CLI is installed.
 */
const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const composePath = join(repo, "docker/compose.yml");

type Service = {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[] | string;
  entrypoint?: string[];
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
  volumes?: string[];
};

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function composeCli(): string[] | undefined {
  if (spawnSync("docker", ["compose", "version"], { stdio: "ignore" }).status === 0) return ["docker", "compose"];
  if (spawnSync("docker-compose", ["version"], { stdio: "ignore" }).status === 0) return ["docker-compose"];
  return undefined;
}

describe("docker/", () => {
  it("compose.yml: an init service then four validators, each on its own home and published RPC port", async () => {
    const doc = yaml.load(await readFile(composePath, "utf8")) as { services: Record<string, Service>; volumes: object };
    const names = Object.keys(doc.services).sort();
    expect(names).toEqual(["init", "validator0", "validator1", "validator2", "validator3"]);
    expect(doc.services.init.build).toEqual({ context: "..", dockerfile: "docker/Dockerfile" });
    const ports = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const v = doc.services[`validator${i}`];
      expect(v.command).toEqual(["start", "--home", `/testnet/node${i}`]);
      expect(v.depends_on?.init?.condition).toBe("service_completed_successfully");
      expect(v.volumes).toContain("testnet:/testnet");
      for (const p of v.ports ?? []) ports.add(p.split(":").slice(0, 2).join(":"));
    }
    expect(ports.size).toBe(4);
    expect(Object.keys(doc.volumes)).toContain("testnet");
  });

  it("the init service's zgnode command runs and writes homes addressed by service name", async () => {
    const doc = yaml.load(await readFile(composePath, "utf8")) as { services: Record<string, Service> };
    const script = ([] as string[]).concat(doc.services.init.command ?? []).join(" ");
    const args = script
      .slice(script.indexOf("zgnode.ts ") + "zgnode.ts ".length)
      .trim()
      .split(/\s+/);
    expect(args[0]).toBe("init");
    const out = await mkdtemp(join(tmpdir(), "zgnode-compose-"));
    dirs.push(out);
    const outIdx = args.indexOf("--out");
    args[outIdx + 1] = out;
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let err = "";
    stderr.on("data", (b) => {
      err += b;
    });
    stdout.resume();
    const code = await runCli(args, { stdout, stderr, isTTY: false, env: {} }, await loadCommands());
    expect(code, err).toBe(0);
    const nodes = JSON.parse(await readFile(join(out, "nodes.json"), "utf8")) as NodesJsonEntry[];
    expect(nodes).toHaveLength(4);
    nodes.forEach((n, i) => {
      expect(n.p2pAddress).toContain(`/dns4/validator${i}/tcp/26656/`);
    });
  });

  it("Dockerfile: Node 24 base, frozen-lockfile install, zgnode as PID 1", async () => {
    const text = await readFile(join(repo, "docker/Dockerfile"), "utf8");
    expect(text).toMatch(/^FROM node:24/m);
    expect(text).toContain("pnpm@10.34.8 install --frozen-lockfile");
    expect(text).toMatch(/ENTRYPOINT \["node", .*"\/app\/apps\/node\/src\/bin\/zgnode\.ts"\]/);
  });

  it("`docker compose config` accepts compose.yml where a compose CLI is installed", () => {
    const cli = composeCli();
    if (cli === undefined) {
      // No compose CLI on this machine (only the docker client): the structural checks above stand in for it.
      console.log("docker compose / docker-compose not installed: `config` check not run");
      return;
    }
    const [bin, ...pre] = cli;
    const rendered = execFileSync(bin, [...pre, "-f", composePath, "config"], { encoding: "utf8" });
    expect(rendered).toContain("validator3");
  });
});
