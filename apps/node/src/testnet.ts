/**
 * Home folders of BFT nodes: `zgnode init --testnet` writes them, `zgnode start --home` reads them.
 *
 *   <home>/config.json     roles, ports, bootnodes, consensus timeouts, coinbase
 *   <home>/genesis.json    the network's shared genesis (staking contract with the genesis validators)
 *   <home>/keys/bls.key    BLS12-381 consensus key, hex (validators only; mode 0600)
 *   <home>/keys/operator.key secp256k1 operator key, hex (testnet convenience; `zgnode keys` keeps encrypted ones)
 *   <home>/keys/p2p.key    libp2p Ed25519 identity (protobuf)
 *   <home>/data/           chain database, consensus WAL, privval last-sign state, peer store
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { type BftGenesisFile, type consensus, createBftGenesisFile, DEV_ACCOUNTS, DEV_BALANCE } from "@zgnode/chain";
import { expandProofOfPossession, type GenesisValidator, type StakingParams } from "@zgnode/contracts";
import { blsKeyFromSeed, blsProofOfPossession, privateKeyToAddress } from "@zgnode/crypto";
import { loadOrCreatePeerKey } from "@zgnode/network";
import { bytesToHex } from "@zgnode/utils";
import { NodeError, NodeErrorCode } from "./errors.ts";

export type NodeRole = "validator" | "full";

/** The engine's own timeout settings, as written into a node's config.json. */
export type ConsensusTimeoutsConfig = consensus.ConsensusTimeouts;

export interface NodeConfig {
  name: string;
  role: NodeRole;
  chainId: number;
  rpc: { host: string; port: number };
  p2p: { listen: string[]; bootnodes: string[] };
  consensus: {
    timeouts: ConsensusTimeoutsConfig;
    /** Transactions per proposed block at most: a block must execute well within the propose timeout. */
    maxTxsPerBlock?: number;
  };
  /** Fee recipient of proposed blocks (the operator address). */
  coinbase: string;
}

export interface NodesJsonEntry {
  name: string;
  role: NodeRole;
  home: string;
  rpcUrl: string;
  p2pAddress: string;
  peerId: string;
  operator: string;
  blsPublicKey?: string;
}

/** CometBFT-like timeouts scaled for a LAN/loopback devnet (round 0: ~1 s worst case per step). */
export const defaultTimeouts: ConsensusTimeoutsConfig = {
  proposeMs: 1000,
  proposeDeltaMs: 500,
  prevoteMs: 300,
  prevoteDeltaMs: 200,
  precommitMs: 300,
  precommitDeltaMs: 200,
  commitMs: 200,
  rebroadcastMs: 1000,
};

export interface TestnetInitOptions {
  validators: number;
  fullNodes: number;
  out: string;
  chainId: number;
  /** Host each node advertises to the others (one for all, or one per node, e.g. docker service names). */
  hosts: string[];
  /** Address nodes listen on (0.0.0.0 in containers). */
  listenHost: string;
  p2pPorts: number[];
  rpcPorts: number[];
  rpcHost: string;
  staking: Partial<StakingParams>;
  timeouts: ConsensusTimeoutsConfig;
  maxTxsPerBlock: number;
}

const ETHER = 10n ** 18n;

/**
 * Default block size cap. Every validator executes a proposal before it prevotes, and the proposer's own
 * execution comes first: a block that takes longer than the propose timeout to execute makes the round fail.
 * ~250 transfers execute in well under 1 s even on a busy 2-core machine.
 */
export const DEFAULT_MAX_TXS_PER_BLOCK = 250;

async function writeSecret(path: string, data: string | Uint8Array): Promise<void> {
  await writeFile(path, data, { mode: 0o600 });
  await chmod(path, 0o600);
}

function hostFor(opts: TestnetInitOptions, i: number): string {
  return opts.hosts.length === 1 ? opts.hosts[0] : opts.hosts[i];
}

function multiaddrFor(host: string, port: number, peerId: string): string {
  const proto = /^\d+\.\d+\.\d+\.\d+$/.test(host) ? "ip4" : "dns4";
  return `/${proto}/${host}/tcp/${port}/p2p/${peerId}`;
}

/** Writes keys, the shared genesis, a home per node and `<out>/nodes.json`. Returns the nodes.json entries. */
export async function initTestnet(opts: TestnetInitOptions): Promise<NodesJsonEntry[]> {
  const n = opts.validators + opts.fullNodes;
  if (opts.validators < 1) throw new NodeError(NodeErrorCode.BAD_FLAG, "a testnet needs at least one validator");
  if (n > DEV_ACCOUNTS.length) throw new NodeError(NodeErrorCode.BAD_FLAG, `at most ${DEV_ACCOUNTS.length} nodes`);
  if (opts.hosts.length !== 1 && opts.hosts.length !== n)
    throw new NodeError(NodeErrorCode.BAD_FLAG, `--hosts needs 1 or ${n} entries`);
  if (opts.p2pPorts.length !== n || opts.rpcPorts.length !== n)
    throw new NodeError(NodeErrorCode.BAD_FLAG, `need ${n} p2p and rpc ports`);
  const out = resolve(opts.out);
  await mkdir(out, { recursive: true });

  const nodes: { name: string; role: NodeRole; home: string; peerId: string; operatorKey: Uint8Array; bls?: Uint8Array }[] = [];
  const validators: GenesisValidator[] = [];
  for (let i = 0; i < n; i++) {
    const role: NodeRole = i < opts.validators ? "validator" : "full";
    const name = `node${i}`;
    const home = join(out, name);
    await mkdir(join(home, "keys"), { recursive: true });
    await mkdir(join(home, "data"), { recursive: true });
    const peerKey = await loadOrCreatePeerKey(join(home, "keys", "p2p.key"));
    // The operator keys are the well-known dev accounts so a devnet is usable from any wallet at once.
    const operatorKey = Uint8Array.from(Buffer.from(DEV_ACCOUNTS[i].privateKey.slice(2), "hex"));
    await writeSecret(join(home, "keys", "operator.key"), DEV_ACCOUNTS[i].privateKey);
    const entry: (typeof nodes)[number] = { name, role, home, peerId: peerKey.publicKey.toString(), operatorKey };
    if (role === "validator") {
      const seed = randomBytes(32);
      const sk = blsKeyFromSeed(seed);
      await writeSecret(join(home, "keys", "bls.key"), bytesToHex(seed));
      entry.bls = sk.toPublicKey().toBytes();
      validators.push({
        operator: bytesToHex(privateKeyToAddress(operatorKey)),
        blsPubkey: entry.bls,
        pop: blsProofOfPossession(sk),
        stake: 32n * ETHER,
        description: { moniker: name },
      });
    }
    nodes.push(entry);
  }

  const genesis = await createBftGenesisFile({
    chainId: opts.chainId,
    validators,
    balances: Object.fromEntries(DEV_ACCOUNTS.map((a) => [a.address, DEV_BALANCE])),
    staking: opts.staking,
    timestamp: Math.floor(Date.now() / 1000),
  });
  const genesisText = `${JSON.stringify(genesis, null, 2)}\n`;
  await writeFile(join(out, "genesis.json"), genesisText);

  const addrs = nodes.map((node, i) => multiaddrFor(hostFor(opts, i), opts.p2pPorts[i], node.peerId));
  const entries: NodesJsonEntry[] = [];
  for (let i = 0; i < n; i++) {
    const node = nodes[i];
    const config: NodeConfig = {
      name: node.name,
      role: node.role,
      chainId: opts.chainId,
      rpc: { host: opts.rpcHost, port: opts.rpcPorts[i] },
      p2p: { listen: [`/ip4/${opts.listenHost}/tcp/${opts.p2pPorts[i]}`], bootnodes: addrs.filter((_, j) => j !== i) },
      consensus: { timeouts: opts.timeouts, maxTxsPerBlock: opts.maxTxsPerBlock },
      coinbase: bytesToHex(privateKeyToAddress(node.operatorKey)),
    };
    await writeFile(join(node.home, "config.json"), `${JSON.stringify(config, null, 2)}\n`);
    await writeFile(join(node.home, "genesis.json"), genesisText);
    entries.push({
      name: node.name,
      role: node.role,
      home: node.home,
      rpcUrl: `http://${hostFor(opts, i) === "0.0.0.0" ? "127.0.0.1" : hostFor(opts, i)}:${opts.rpcPorts[i]}`,
      p2pAddress: addrs[i],
      peerId: node.peerId,
      operator: config.coinbase,
      ...(node.bls ? { blsPublicKey: bytesToHex(node.bls) } : {}),
    });
  }
  await writeFile(join(out, "nodes.json"), `${JSON.stringify(entries, null, 2)}\n`);
  return entries;
}

export async function readJsonFile<T>(path: string): Promise<T> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as T;
  } catch (err) {
    throw new NodeError(NodeErrorCode.BAD_FILE, `cannot read ${path}: ${(err as Error).message}`);
  }
}

export async function readNodeConfig(home: string): Promise<{ config: NodeConfig; genesis: BftGenesisFile }> {
  const config = await readJsonFile<NodeConfig>(join(home, "config.json"));
  if (config.role !== "validator" && config.role !== "full")
    throw new NodeError(NodeErrorCode.BAD_FILE, `config.json: role must be "validator" or "full"`);
  const genesis = await readJsonFile<BftGenesisFile>(join(home, "genesis.json"));
  if (genesis.chainId !== config.chainId)
    throw new NodeError(NodeErrorCode.BAD_FILE, `config.json chainId ${config.chainId} != genesis chainId ${genesis.chainId}`);
  return { config, genesis };
}

export interface JoinOptions {
  /** A folder with the network's genesis.json and nodes.json (the `--out` of `zgnode init --testnet`). */
  network: string;
  out: string;
  role: NodeRole;
  p2pPort: number;
  rpcPort: number;
  rpcHost: string;
  listenHost: string;
  /** Operator address that receives this node's proposer rewards. */
  coinbase: string;
}

/**
 * Writes a home for a node joining a running network: its genesis, bootnodes from nodes.json, a new libp2p key and,
 * for a validator, a new BLS key. Returns what `Staking.createValidator` needs (BLS key and proof of possession).
 */
export async function initJoin(
  opts: JoinOptions,
): Promise<{ home: string; peerId: string; blsPublicKey?: string; proofOfPossession?: string }> {
  const genesisText = await readFile(join(opts.network, "genesis.json"), "utf8").catch((err: Error) => {
    throw new NodeError(NodeErrorCode.BAD_FILE, `cannot read ${opts.network}/genesis.json: ${err.message}`);
  });
  const genesis = JSON.parse(genesisText) as BftGenesisFile;
  const peers = await readJsonFile<NodesJsonEntry[]>(join(opts.network, "nodes.json"));
  const home = resolve(opts.out);
  await mkdir(join(home, "keys"), { recursive: true });
  await mkdir(join(home, "data"), { recursive: true });
  const peerKey = await loadOrCreatePeerKey(join(home, "keys", "p2p.key"));
  const out: { home: string; peerId: string; blsPublicKey?: string; proofOfPossession?: string } = {
    home,
    peerId: peerKey.publicKey.toString(),
  };
  if (opts.role === "validator") {
    const seed = randomBytes(32);
    const sk = blsKeyFromSeed(seed);
    await writeSecret(join(home, "keys", "bls.key"), bytesToHex(seed));
    out.blsPublicKey = bytesToHex(sk.toPublicKey().toBytes());
    out.proofOfPossession = bytesToHex(expandProofOfPossession(blsProofOfPossession(sk)));
  }
  const config: NodeConfig = {
    name: `joined-${out.peerId.slice(-6)}`,
    role: opts.role,
    chainId: genesis.chainId,
    rpc: { host: opts.rpcHost, port: opts.rpcPort },
    p2p: { listen: [`/ip4/${opts.listenHost}/tcp/${opts.p2pPort}`], bootnodes: peers.map((p) => p.p2pAddress) },
    consensus: { timeouts: defaultTimeouts, maxTxsPerBlock: DEFAULT_MAX_TXS_PER_BLOCK },
    coinbase: opts.coinbase,
  };
  await writeFile(join(home, "config.json"), `${JSON.stringify(config, null, 2)}\n`);
  await writeFile(join(home, "genesis.json"), genesisText);
  return out;
}
