/**
 * Multi-process acceptance of the BFT network: real `zgnode start` processes (4 validators + 1 late full node) on
 * 127.0.0.1 with their own ports and homes, talking libp2p. The scenarios run in order on one network (each one
 * leaves it healthy for the next), which keeps the whole file within a few minutes on a busy 2-core machine.
 */
import { Interface, Transaction, Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { collectLogs, rpcCall, Testnet, ZgnodeProcess } from "../harness/index.ts";

const CHAIN_ID = 8888n;
// Dev accounts 5..7 send the test transfers (0..4 are the node operators, whose coinbase balances move).
const SENDERS = [
  "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
  "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
  "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
].map((k) => new Wallet(k));
const RECIPIENT = "0x000000000000000000000000000000000000beef";
const nonces = new Map<string, number>();

let net: Testnet;
const url = (i: number) => net.nodes[i].url;
const until = Testnet.until;

async function sendTransfer(nodeIndex: number, sender = 0, value = 1n): Promise<string> {
  const w = SENDERS[sender];
  const nonce = nonces.get(w.address) ?? 0;
  nonces.set(w.address, nonce + 1);
  const tx = Transaction.from({
    type: 2,
    chainId: CHAIN_ID,
    nonce,
    to: RECIPIENT,
    value,
    gasLimit: 21_000n,
    maxFeePerGas: 20_000_000_000n,
    maxPriorityFeePerGas: 1_000_000_000n,
  });
  const raw = await w.signTransaction(tx);
  const r = await rpcCall<string>(url(nodeIndex), "eth_sendRawTransaction", [raw]);
  if (r.error) throw new Error(`send to node${nodeIndex}: ${r.error.message}`);
  return r.result as string;
}

async function receipt(i: number, hash: string): Promise<{ blockNumber: string; blockHash: string; status: string } | null> {
  return (
    (
      await rpcCall<{ blockNumber: string; blockHash: string; status: string } | null>(url(i), "eth_getTransactionReceipt", [
        hash,
      ])
    ).result ?? null
  );
}

async function status(i: number): Promise<{
  lastSigned: { height: number; round: number; step: number } | null;
  height: number;
  head: number;
  validatorAddress: string | null;
  validators: { address: string }[];
  pendingEvidence: number;
}> {
  return (await rpcCall<never>(url(i), "zg_consensusStatus", [])).result as never;
}

/** Every listed node reports the same hash at every height 1..h. */
async function expectSameChain(indices: number[], h: number): Promise<void> {
  for (let k = 1; k <= h; k++) {
    const hashes = await Promise.all(indices.map((i) => net.blockHash(i, k)));
    expect(
      hashes.every((x) => typeof x === "string"),
      `height ${k} known everywhere`,
    ).toBe(true);
    expect(new Set(hashes).size, `one hash at height ${k}: ${hashes.join(" ")}`).toBe(1);
  }
}

async function maxHead(indices: number[]): Promise<number> {
  return Math.max(...(await Promise.all(indices.map((i) => net.head(i).catch(() => 0)))));
}

beforeAll(async () => {
  net = await Testnet.init({ validators: 4, fullNodes: 1, epochLength: 10, jailPeriod: 1000 });
  await net.start([0, 1, 2, 3]);
}, 180_000);

afterAll(async () => {
  await net?.cleanup();
});

describe("4-validator BFT network of zgnode processes", () => {
  it("validators commit blocks and every node reports the same hash at every height", async () => {
    onTestFailed(async () => console.error(await collectLogs(net.nodes.slice(0, 4))));
    await until(async () => (await Promise.all([0, 1, 2, 3].map((i) => net.head(i)))).every((h) => h >= 5), 90_000, "height 5");
    const h = Math.min(...(await Promise.all([0, 1, 2, 3].map((i) => net.head(i)))));
    await expectSameChain([0, 1, 2, 3], h);
    const st = await status(0);
    expect(st.validators).toHaveLength(4);
  });

  it("transactions sent to any node are included", async () => {
    onTestFailed(async () => console.error(await collectLogs(net.nodes.slice(0, 4))));
    const hashes: { node: number; hash: string }[] = [];
    for (let i = 0; i < 4; i++) hashes.push({ node: i, hash: await sendTransfer(i, 0) });
    for (const { hash } of hashes) {
      await until(async () => (await receipt(0, hash))?.status === "0x1", 60_000, `receipt of ${hash}`);
      // The same receipt (block) on every validator.
      const rs = await Promise.all([0, 1, 2, 3].map((i) => receipt(i, hash).catch(() => null)));
      await until(
        async () => (await Promise.all([1, 2, 3].map((i) => receipt(i, hash)))).every((r) => r !== null),
        20_000,
        "receipt everywhere",
      );
      expect(new Set((await Promise.all([0, 1, 2, 3].map((i) => receipt(i, hash)))).map((r) => r?.blockHash)).size).toBe(1);
      expect(rs[0]?.status).toBe("0x1");
    }
    // Validators execute each block once: when they build or validate it; the commit reuses that execution.
    for (const i of [0, 1, 2, 3]) {
      const text = await (await fetch(`${url(i)}/metrics`)).text();
      const kept = Number(/^zgnode_chain_blocks_kept_imported_total (\d+)/m.exec(text)?.[1] ?? 0);
      expect(kept, `node${i} kept imports`).toBeGreaterThan(0);
    }
  });

  it("SIGKILL of one validator under load: commits continue; restarted, it catches up and signs again without equivocating", async () => {
    onTestFailed(async () => console.error(await collectLogs(net.nodes.slice(0, 4))));
    const victim = 2;
    const victimAddress = (await status(victim)).validatorAddress as string;
    let load = true;
    const sent: string[] = [];
    const loader = (async () => {
      while (load) {
        try {
          sent.push(await sendTransfer(sent.length % 2 === 0 ? 0 : 1, 1));
        } catch {
          // a node being restarted
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await net.nodes[victim].kill();
    const before = await maxHead([0, 1, 3]);
    await until(async () => (await maxHead([0, 1, 3])) >= before + 3, 60_000, "commits without the killed validator");
    await net.nodes[victim].start();
    const target = await maxHead([0, 1, 3]);
    await until(async () => (await net.head(victim)) >= target, 60_000, "restarted validator catches up");
    // It signs again: its privval signs at heights after the catch-up, and a certificate (verified when stored)
    // names it among the signers.
    const from = (await net.head(victim)) + 1;
    await until(async () => ((await status(victim)).lastSigned?.height ?? 0) >= from, 60_000, "a signature after catch-up");
    await until(
      async () => {
        for (const i of [0, 1, 3, victim]) {
          const h = await net.head(i);
          for (let k = from; k <= h; k++) {
            const c = (await rpcCall<{ signers: string[] } | null>(url(i), "zg_getCommitCertificate", [String(k)])).result;
            if (c?.signers.includes(victimAddress)) return true;
          }
        }
        return false;
      },
      90_000,
      "a certificate signed by the restarted validator",
    );
    load = false;
    await loader;
    // The load got through, and nobody saw an equivocation.
    const last = sent.at(-1) as string;
    await until(async () => (await receipt(0, last)) !== null, 60_000, "last load tx included");
    for (const i of [0, 1, 2, 3]) expect((await status(i)).pendingEvidence).toBe(0);
    for (const i of [0, 1, 3]) expect(await net.nodes[i].logText()).not.toContain('"msg":"equivocation"');
    await expectSameChain([0, 1, 2, 3], Math.min(...(await Promise.all([0, 1, 2, 3].map((i) => net.head(i))))));
  });

  it("stop 2 of 4: no new commits and no fork; restarted, progress resumes", async () => {
    onTestFailed(async () => console.error(await collectLogs(net.nodes.slice(0, 4))));
    await Promise.all([net.nodes[2].stop(), net.nodes[3].stop()]);
    await new Promise((r) => setTimeout(r, 1500)); // a commit in flight may still land
    const stalled = await maxHead([0, 1]);
    await new Promise((r) => setTimeout(r, 5000));
    expect(await maxHead([0, 1])).toBe(stalled);
    await expectSameChain([0, 1], Math.min(await net.head(0), await net.head(1)));
    await Promise.all([net.nodes[2].start(), net.nodes[3].start()]);
    await until(async () => (await maxHead([0, 1, 2, 3])) >= stalled + 3, 90_000, "progress after restart");
    await until(
      async () => (await Promise.all([0, 1, 2, 3].map((i) => net.head(i)))).every((h) => h >= stalled + 2),
      60_000,
      "all four past the stall",
    );
    await expectSameChain([0, 1, 2, 3], stalled + 2);
  });

  it("a full node that joins late syncs from genesis and serves the same state over RPC", async () => {
    onTestFailed(async () => console.error(await collectLogs(net.nodes)));
    await net.start([4]);
    const target = await net.head(0);
    await until(async () => (await net.head(4)) >= target, 90_000, "full node sync");
    expect((await status(4)).validatorAddress).toBeNull();
    await expectSameChain([0, 4], target);
    const tag = `0x${target.toString(16)}`;
    const [a, b] = await Promise.all([0, 4].map((i) => rpcCall<string>(url(i), "eth_getBalance", [RECIPIENT, tag])));
    expect(BigInt(a.result as string)).toBeGreaterThan(0n);
    expect(b.result).toBe(a.result);
    // It keeps following new blocks.
    await until(async () => (await net.head(4)) >= target + 2, 30_000, "full node follows");
  });

  it("a validator started with --test.double-sign is caught: evidence committed, stake slashed, jailed, out of the set", async () => {
    onTestFailed(async () => console.error(await collectLogs(net.nodes)));
    const STAKING = "0x0000000000000000000000000000000000001001";
    const staking = new Interface([
      "function totalBurned() view returns (uint256)",
      "function getValidator(address) view returns ((address operator, bytes blsPubkey, uint256 tokens, uint256 shares, uint256 selfStake, uint256 unbondingTokens, uint256 commissionAccrued, uint32 commissionPpm, uint64 commissionUpdatedAt, uint64 createdAt, bool jailed, uint64 jailedUntil, bool active, (string,string,string,string,string) description))",
    ]);
    const byz = 3;
    const operator = net.info[byz].operator;
    const validatorInfo = async (i: number) => {
      const r = await rpcCall<string>(url(i), "eth_call", [
        { to: STAKING, data: staking.encodeFunctionData("getValidator", [operator]) },
        "latest",
      ]);
      return staking.decodeFunctionResult("getValidator", r.result as string)[0] as {
        tokens: bigint;
        jailed: boolean;
        active: boolean;
      };
    };
    const totalBurned = async () =>
      BigInt(
        (
          await rpcCall<string>(url(0), "eth_call", [
            { to: STAKING, data: staking.encodeFunctionData("totalBurned", []) },
            "latest",
          ])
        ).result as string,
      );
    expect((await validatorInfo(0)).jailed).toBe(false);
    const burnedBefore = await totalBurned();
    await net.nodes[byz].stop();
    // Refused without the test-flag switch.
    const refused = new ZgnodeProcess({
      name: "node3-refused",
      command: ["start"],
      datadir: net.info[byz].home,
      rpcPort: net.nodes[byz].rpcPort,
      args: ["--test.double-sign"],
      startTimeoutMs: 20_000,
    });
    await expect(refused.start()).rejects.toThrow(/exited during start/);
    expect(await refused.logText()).toContain("ZGNODE_ENABLE_TEST_FLAGS");
    await refused.cleanup();

    const byzantine = new ZgnodeProcess({
      name: "node3-byzantine",
      command: ["start"],
      datadir: net.info[byz].home,
      logDir: net.dir,
      rpcPort: net.nodes[byz].rpcPort,
      args: ["--test.double-sign"],
      env: { ZGNODE_ENABLE_TEST_FLAGS: "1" },
      startTimeoutMs: 90_000,
    });
    net.nodes[byz] = byzantine;
    await byzantine.start();
    await until(async () => (await validatorInfo(0)).jailed, 120_000, "the double signer jailed");
    // The slashed stake is locked in the contract for good (system calls leave no receipts, so no logs to query).
    expect(await totalBurned()).toBeGreaterThan(burnedBefore);
    // At the next epoch boundary (every 10 blocks) it leaves the active set; consensus then runs with 3 validators.
    await until(async () => (await status(0)).validators.length === 3, 60_000, "a 3-validator set");
    expect((await validatorInfo(0)).active).toBe(false);
    await until(async () => !(await validatorInfo(1)).active, 30_000, "node1 sees the same set change");
    const byzAddress = (await status(byz)).validatorAddress;
    expect((await status(0)).validators.map((v) => v.address)).not.toContain(byzAddress);
    const h = await net.head(0);
    await until(async () => (await maxHead([0, 1, 2])) >= h + 3, 60_000, "commits with 3 validators");
    await until(async () => (await net.head(4)) >= h + 3, 60_000, "full node follows the new set");
    await expectSameChain([0, 1, 2, 4], h + 3);
  });
});
