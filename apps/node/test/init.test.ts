import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bftGenesisSpec, Chain } from "@zgnode/chain";
import { MemoryStore } from "@zgnode/db";
import { bytesToHex } from "@zgnode/utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCommands, runCli } from "../src/cli.ts";
import type { NodeConfig, NodesJsonEntry } from "../src/testnet.ts";
import { io } from "./helpers.ts";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "zgnode-init-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("zgnode init", () => {
  it("--testnet writes homes, one genesis for all, nodes.json and full-mesh bootnodes; --join follows it", async () => {
    const commands = await loadCommands();
    const net = join(dir, "net");
    const a = io();
    const code = await runCli(
      [
        "init",
        "--testnet",
        "3",
        "--full-nodes",
        "1",
        "--out",
        net,
        "--p2p-port",
        "41000",
        "--rpc-port",
        "42000",
        "--epoch-length",
        "7",
      ],
      a,
      commands,
    );
    expect(code, a.err()).toBe(0);
    const nodes = JSON.parse(await readFile(join(net, "nodes.json"), "utf8")) as NodesJsonEntry[];
    expect(nodes.map((n) => n.role)).toEqual(["validator", "validator", "validator", "full"]);
    expect(nodes[2].rpcUrl).toBe("http://127.0.0.1:42002");
    expect(nodes[1].p2pAddress).toBe(`/ip4/127.0.0.1/tcp/41001/p2p/${nodes[1].peerId}`);
    const genesisText = await readFile(join(net, "genesis.json"), "utf8");
    for (const n of nodes) {
      expect(await readFile(join(n.home, "genesis.json"), "utf8")).toBe(genesisText);
      const cfg = JSON.parse(await readFile(join(n.home, "config.json"), "utf8")) as NodeConfig;
      expect(cfg.p2p.bootnodes.sort()).toEqual(
        nodes
          .filter((m) => m !== n)
          .map((m) => m.p2pAddress)
          .sort(),
      );
    }
    expect((await stat(join(nodes[0].home, "keys", "bls.key"))).mode & 0o777).toBe(0o600);
    await expect(stat(join(nodes[3].home, "keys", "bls.key"))).rejects.toThrow();
    // The genesis holds the three validators in the staking contract's active set.
    const db = new MemoryStore();
    const chain = await Chain.open({ db, genesis: bftGenesisSpec(JSON.parse(genesisText)) });
    const { StakingValidatorSets } = await import("@zgnode/chain");
    const sets = new StakingValidatorSets(chain);
    const set = await sets.setFor(1);
    expect(set.size).toBe(3);
    expect((await sets.stakingParams()).epochLength).toBe(7);
    expect(set.validators.map((v) => bytesToHex(v.publicKey)).sort()).toEqual(
      nodes
        .slice(0, 3)
        .map((n) => n.blsPublicKey)
        .sort(),
    );
    await chain.close();

    const b = io();
    const home = join(dir, "joiner");
    expect(
      await runCli(
        [
          "init",
          "--join",
          net,
          "--out",
          home,
          "--role",
          "validator",
          "--p2p-port",
          "41100",
          "--coinbase",
          "0x000000000000000000000000000000000000beef",
        ],
        b,
        commands,
      ),
    ).toBe(0);
    expect(b.out()).toMatch(/blsPublicKey: 0x[0-9a-f]{96}\nproofOfPossession: 0x[0-9a-f]{384}\n/);
    const cfg = JSON.parse(await readFile(join(home, "config.json"), "utf8")) as NodeConfig;
    expect(cfg.role).toBe("validator");
    expect(cfg.p2p.bootnodes).toHaveLength(4);
    expect(await readFile(join(home, "genesis.json"), "utf8")).toBe(genesisText);

    // Bad input is refused with a coded error.
    const c = io();
    expect(await runCli(["init", "--testnet", "0", "--out", join(dir, "x")], c, commands)).toBe(2);
    expect(c.err()).toContain("NODE_BAD_FLAG");
  }, 60_000);

  it("start refuses the double-sign test flag unless ZGNODE_ENABLE_TEST_FLAGS=1", async () => {
    const commands = await loadCommands();
    const a = io();
    expect(await runCli(["start", "--home", join(dir, "net", "node0"), "--test.double-sign"], a, commands)).toBe(2);
    expect(a.err()).toContain("ZGNODE_ENABLE_TEST_FLAGS");
  });
});
