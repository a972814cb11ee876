/**
 * Gas and time of the staking contract's expensive paths, on @ethereumjs/vm 10.1.3 at Prague.
 *   node packages/contracts/bench/gas.bench.ts [maxValidators=256]
 * Peer for the on-chain proof-of-possession check: the same check natively with @chainsafe/blst.
 * The system-call gas of onEpochEnd is compared with 30,000,000 (the gas EIP-4788/EIP-2935 system calls get).
 */
import { blsKeyFromSeed, blsProofOfPossession, blsVerifyProofOfPossession } from "@zgnode/crypto";
import { descriptionTuple, expandProofOfPossession, type StakingParams, stakingGenesisAlloc } from "../src/index.ts";
import { ETHER, genesisValidator, StakingHarness, testParams } from "../test/harness.ts";

const SYSTEM_CALL_GAS = 30_000_000n;
const maxN = Number(process.argv[2] ?? 256);

function operatorOf(i: number): string {
  return `0x${(0xb0000 + i).toString(16).padStart(40, "0")}`;
}

async function main(): Promise<void> {
  console.log("staking gas bench (figures taken on a shared, loaded machine)");
  const genesisStarted = performance.now();
  await stakingGenesisAlloc(
    testParams,
    [0, 1, 2, 3].map((i) => genesisValidator(i, 100n * ETHER)),
  );
  console.log(`genesis alloc, 4 validators: ${(performance.now() - genesisStarted).toFixed(0)} ms`);

  const params: StakingParams = { ...testParams, maxValidatorCount: maxN + 2, maxActiveValidators: Math.min(125, maxN + 2) };
  const { harness: h } = await StakingHarness.create(params);
  const checkpoints = new Set([16, 64, 128, 256].filter((n) => n <= maxN));
  let createGas = 0n;
  let createMs = 0;
  let nativeMs = 0;
  for (let i = 0; i < maxN; i++) {
    const sk = blsKeyFromSeed(new Uint8Array(32).map((_, j) => (i * 13 + j * 7 + 1) & 0xff));
    const pk = sk.toPublicKey().toBytes();
    const pop = blsProofOfPossession(sk);
    const t0 = performance.now();
    if (!blsVerifyProofOfPossession(pk, pop)) throw new Error("native PoP check failed");
    nativeMs += performance.now() - t0;
    const op = operatorOf(i);
    await h.fund(op, 1_000n * ETHER);
    // ascending stakes: every newcomer sorts to the front, the worst case of onEpochEnd's insertion sort
    const t1 = performance.now();
    const out = await h.send(
      op,
      "createValidator",
      [pk, expandProofOfPossession(pop), 50_000, descriptionTuple({})],
      11n * ETHER + BigInt(i) * 10n ** 15n,
    );
    createMs += performance.now() - t1;
    createGas += out.gasUsed;
    if (checkpoints.has(i + 1)) {
      const epoch = await h.system("onEpochEnd");
      const ratio = Number(epoch.gasUsed) / Number(SYSTEM_CALL_GAS);
      console.log(
        `onEpochEnd with ${i + 3} candidates: ${epoch.gasUsed} gas (${(ratio * 100).toFixed(1)}% of a 30M system call)`,
      );
    }
  }
  const n = BigInt(maxN);
  console.log(`createValidator: ${createGas / n} gas avg (incl. on-chain BLS PoP check)`);
  console.log(
    `PoP check: EVM createValidator ${(createMs / maxN).toFixed(1)} ms/op vs native blst ${(nativeMs / maxN).toFixed(2)} ms/op` +
      ` (ratio ${(createMs / nativeMs).toFixed(0)}x)`,
  );
  const v = operatorOf(maxN - 1);
  const slash = await h.system("slash", [v, 20_000, `0x${"01".repeat(32)}`]);
  console.log(`slash: ${slash.gasUsed} gas`);
  const reward = await h.system("distributeRewards", [operatorOf(0)], ETHER);
  console.log(`distributeRewards: ${reward.gasUsed} gas`);
  const d = await h.send(operatorOf(1), "delegate", [operatorOf(0)], ETHER);
  console.log(`delegate: ${d.gasUsed} gas`);
}

await main();
