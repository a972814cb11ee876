import type { CliCommand, CliIo } from "../cli.ts";
import { type FlagSpec, flagHelp, parseFlags } from "../config.ts";
import { NodeError, NodeErrorCode } from "../errors.ts";

const SUMMARY = "write a local BFT testnet (--testnet n --out dir), or a home joining one (--join dir --out home)";

const flags: FlagSpec[] = [
  { name: "testnet", type: "string", value: "<n>", description: "number of validators" },
  { name: "out", type: "string", value: "<dir>", description: "output directory" },
  {
    name: "join",
    type: "string",
    value: "<dir>",
    description: "join the network whose genesis.json and nodes.json are in <dir>",
  },
  { name: "role", type: "string", value: "validator|full", description: "with --join: the new node's role", defaultText: "full" },
  { name: "coinbase", type: "string", value: "<address>", description: "with --join: operator address for proposer rewards" },
  { name: "full-nodes", type: "string", value: "<n>", description: "extra non-voting full nodes", defaultText: "0" },
  { name: "chain-id", type: "string", value: "<id>", description: "chain id", defaultText: "8888" },
  {
    name: "hosts",
    type: "string",
    value: "<h[,h...]>",
    description: "host each node is reached at (one for all, or one per node, e.g. docker service names)",
    defaultText: "127.0.0.1",
  },
  { name: "listen-host", type: "string", value: "<ip>", description: "p2p listen address", defaultText: "0.0.0.0" },
  { name: "p2p-port", type: "string", value: "<port>", description: "p2p port of node 0 (node i: +i)", defaultText: "26656" },
  { name: "p2p-ports", type: "string", value: "<p,p,...>", description: "explicit p2p port per node" },
  { name: "rpc-port", type: "string", value: "<port>", description: "JSON-RPC port of node 0 (node i: +i)", defaultText: "8545" },
  { name: "rpc-ports", type: "string", value: "<p,p,...>", description: "explicit JSON-RPC port per node" },
  { name: "rpc-host", type: "string", value: "<ip>", description: "JSON-RPC listen address", defaultText: "127.0.0.1" },
  { name: "same-ports", type: "boolean", description: "every node uses the base ports (one host per node, e.g. docker)" },
  { name: "epoch-length", type: "string", value: "<blocks>", description: "staking epoch length", defaultText: "100" },
  {
    name: "jail-period",
    type: "string",
    value: "<blocks>",
    description: "blocks a slashed validator stays jailed",
    defaultText: "10000",
  },
  { name: "propose-timeout", type: "string", value: "<ms>", description: "consensus propose timeout", defaultText: "1000" },
  { name: "vote-timeout", type: "string", value: "<ms>", description: "prevote/precommit timeouts", defaultText: "300" },
  { name: "commit-timeout", type: "string", value: "<ms>", description: "pause after a commit", defaultText: "200" },
  {
    name: "max-block-txs",
    type: "string",
    value: "<n>",
    description: "transactions per proposed block at most",
    defaultText: "250",
  },
  { name: "help", type: "boolean", description: "show this help" },
];

function int(v: unknown, name: string, fallback: number, min = 0, max = 2 ** 31): number {
  if (v === undefined) return fallback;
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new NodeError(NodeErrorCode.BAD_FLAG, `--${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return n;
}

function ports(v: unknown, name: string, n: number, base: number, same: boolean): number[] {
  if (typeof v === "string" && v.length > 0) {
    const list = v.split(",").map((p) => int(p.trim(), name, 0, 1, 65535));
    if (list.length !== n) throw new NodeError(NodeErrorCode.BAD_FLAG, `--${name} needs ${n} ports`);
    return list;
  }
  return Array.from({ length: n }, (_, i) => (same ? base : base + i));
}

export const command: CliCommand = {
  path: ["init"],
  summary: SUMMARY,
  async run(argv: string[], io: CliIo): Promise<number> {
    const v = parseFlags(argv, io.env, flags);
    if (v.help) {
      io.stdout.write(flagHelp("init", SUMMARY, flags));
      return 0;
    }
    if (typeof v.join === "string" && typeof v.out === "string") {
      const role = v.role ?? "full";
      if (role !== "validator" && role !== "full")
        throw new NodeError(NodeErrorCode.BAD_FLAG, "--role must be validator or full");
      const coinbase = typeof v.coinbase === "string" ? v.coinbase : "0x0000000000000000000000000000000000000000";
      if (!/^0x[0-9a-fA-F]{40}$/.test(coinbase)) throw new NodeError(NodeErrorCode.BAD_FLAG, "--coinbase must be an address");
      const { initJoin } = await import("../testnet.ts");
      const r = await initJoin({
        network: v.join,
        out: v.out,
        role,
        p2pPort: int(v["p2p-port"], "p2p-port", 26656, 1, 65535),
        rpcPort: int(v["rpc-port"], "rpc-port", 8545, 1, 65535),
        rpcHost: typeof v["rpc-host"] === "string" ? v["rpc-host"] : "127.0.0.1",
        listenHost: typeof v["listen-host"] === "string" ? v["listen-host"] : "0.0.0.0",
        coinbase,
      });
      io.stdout.write(`wrote ${r.home} (peer id ${r.peerId})\n`);
      if (r.blsPublicKey) io.stdout.write(`blsPublicKey: ${r.blsPublicKey}\nproofOfPossession: ${r.proofOfPossession}\n`);
      return 0;
    }
    if (typeof v.testnet !== "string" || typeof v.out !== "string")
      throw new NodeError(NodeErrorCode.BAD_FLAG, "usage: zgnode init --testnet <n> --out <dir>");
    const validators = int(v.testnet, "testnet", 4, 1, 10);
    const fullNodes = int(v["full-nodes"], "full-nodes", 0, 0, 9);
    const n = validators + fullNodes;
    const same = v["same-ports"] === true;
    const { DEFAULT_MAX_TXS_PER_BLOCK, defaultTimeouts, initTestnet } = await import("../testnet.ts");
    const propose = int(v["propose-timeout"], "propose-timeout", defaultTimeouts.proposeMs, 1);
    const vote = int(v["vote-timeout"], "vote-timeout", defaultTimeouts.prevoteMs, 1);
    const entries = await initTestnet({
      validators,
      fullNodes,
      out: v.out,
      chainId: int(v["chain-id"], "chain-id", 8888, 1),
      hosts: (typeof v.hosts === "string" ? v.hosts : "127.0.0.1").split(",").map((h) => h.trim()),
      listenHost: typeof v["listen-host"] === "string" ? v["listen-host"] : "0.0.0.0",
      p2pPorts: ports(v["p2p-ports"], "p2p-ports", n, int(v["p2p-port"], "p2p-port", 26656, 1, 65535), same),
      rpcPorts: ports(v["rpc-ports"], "rpc-ports", n, int(v["rpc-port"], "rpc-port", 8545, 1, 65535), same),
      rpcHost: typeof v["rpc-host"] === "string" ? v["rpc-host"] : "127.0.0.1",
      staking: {
        epochLength: int(v["epoch-length"], "epoch-length", 100, 1),
        jailPeriod: int(v["jail-period"], "jail-period", 10_000, 1),
      },
      maxTxsPerBlock: int(v["max-block-txs"], "max-block-txs", DEFAULT_MAX_TXS_PER_BLOCK, 1, 100_000),
      timeouts: {
        ...defaultTimeouts,
        proposeMs: propose,
        proposeDeltaMs: Math.ceil(propose / 2),
        prevoteMs: vote,
        prevoteDeltaMs: Math.ceil(vote / 2),
        precommitMs: vote,
        precommitDeltaMs: Math.ceil(vote / 2),
        commitMs: int(v["commit-timeout"], "commit-timeout", defaultTimeouts.commitMs, 0),
      },
    });
    io.stdout.write(`wrote ${entries.length} node homes and ${v.out}/nodes.json\n`);
    for (const e of entries)
      io.stdout.write(`  ${e.name.padEnd(6)} ${e.role.padEnd(9)} ${e.rpcUrl.padEnd(24)} ${e.p2pAddress}\n`);
    io.stdout.write(`start each with: zgnode start --home <home>\n`);
    return 0;
  },
};
