import { Contract, type ContractTransaction } from "ethers";
import { encodeFunctionData } from "viem";
import { describe, expect, it } from "vitest";
import {
  descriptionTuple,
  expandProofOfPossession,
  STAKING_ADDRESS,
  SYSTEM_ADDRESS,
  stakingAbi,
  stakingInterface,
} from "../src/index.ts";
import { account, ETHER, StakingHarness, testParams, validatorKey } from "./harness.ts";

interface Step {
  fn: string;
  from: string;
  args: unknown[];
  value?: bigint;
  /** Block number to run at (the harness keeps the last one otherwise). */
  at?: bigint;
  check?: (decoded: unknown[]) => void;
}

describe("ethers v6 Contract can call every function", () => {
  it("encodes each ABI function through Contract.populateTransaction and runs it on the VM", async () => {
    const { harness: h } = await StakingHarness.create();
    const contract = new Contract(STAKING_ADDRESS, stakingAbi);
    const k = validatorKey(2);
    const v0 = validatorKey(0).operator;
    const d = account(0);
    const desc = descriptionTuple({ moniker: "ethers" });
    const evidence = `0x${"ab".repeat(32)}`;

    const steps: Step[] = [
      { fn: "BLS_PUBKEY_LENGTH", from: d, args: [], check: (r) => expect(r[0]).toBe(48n) },
      { fn: "POP_LENGTH", from: d, args: [], check: (r) => expect(r[0]).toBe(192n) },
      { fn: "PPM", from: d, args: [], check: (r) => expect(r[0]).toBe(1_000_000n) },
      { fn: "SYSTEM_ADDRESS", from: d, args: [], check: (r) => expect(String(r[0]).toLowerCase()).toBe(SYSTEM_ADDRESS) },
      { fn: "params", from: d, args: [], check: (r) => expect((r[0] as { epochLength: bigint }).epochLength).toBe(10n) },
      {
        fn: "createValidator",
        from: k.operator,
        args: [k.blsPubkey, expandProofOfPossession(k.pop), 30_000, desc],
        value: 20n * ETHER,
      },
      { fn: "delegate", from: d, args: [k.operator], value: 5n * ETHER },
      {
        fn: "getDelegation",
        from: d,
        args: [k.operator, d],
        check: (r) => expect(r).toEqual([5n * ETHER, 5n * ETHER]),
      },
      { fn: "undelegate", from: d, args: [k.operator, ETHER], at: 10n },
      { fn: "pendingUnbondings", from: d, args: [d], check: (r) => expect((r[0] as unknown[]).length).toBe(1) },
      { fn: "withdraw", from: d, args: [], at: 10n + BigInt(testParams.unbondingPeriod) },
      { fn: "distributeRewards", from: SYSTEM_ADDRESS, args: [k.operator], value: ETHER },
      { fn: "pendingRewards", from: d, args: [], check: (r) => expect(r[0]).toBe(0n) },
      { fn: "withdrawCommission", from: k.operator, args: [], check: (r) => expect(r[0]).toBe((ETHER * 3n) / 100n) },
      { fn: "editValidator", from: k.operator, args: [40_000, desc] },
      { fn: "slash", from: SYSTEM_ADDRESS, args: [k.operator, 20_000, evidence], check: (r) => expect(r[0]).toBe(true) },
      { fn: "evidenceProcessed", from: d, args: [evidence], check: (r) => expect(r[0]).toBe(true) },
      { fn: "totalBurned", from: d, args: [], check: (r) => expect(r[0] as bigint).toBeGreaterThan(0n) },
      { fn: "nextValidatorSet", from: d, args: [], check: (r) => expect((r[0] as unknown[]).length).toBe(2) },
      { fn: "onEpochEnd", from: SYSTEM_ADDRESS, args: [] },
      { fn: "epoch", from: d, args: [], check: (r) => expect(r[0]).toBe(1n) },
      { fn: "activeValidatorSet", from: d, args: [], check: (r) => expect((r[0] as unknown[]).length).toBe(2) },
      { fn: "unjail", from: k.operator, args: [], at: 100n },
      {
        fn: "getValidator",
        from: d,
        args: [k.operator],
        check: (r) => expect((r[0] as { jailed: boolean }).jailed).toBe(false),
      },
      {
        fn: "validatorByBlsPubkey",
        from: d,
        args: [k.blsPubkey],
        check: (r) => expect(String(r[0]).toLowerCase()).toBe(k.operator),
      },
      { fn: "validatorCount", from: d, args: [], check: (r) => expect(r[0]).toBe(3n) },
      { fn: "validatorOperators", from: d, args: [], check: (r) => expect((r[0] as string[])[0].toLowerCase()).toBe(v0) },
    ];

    // every function of the ABI has a step, so a new function without an ethers round trip fails this test
    const abiFunctions = stakingAbi.filter((item) => item.type === "function").map((item) => item.name);
    expect(new Set(steps.map((s) => s.fn))).toEqual(new Set(abiFunctions));

    for (const step of steps) {
      if (step.at !== undefined) h.blockNumber = step.at;
      const tx: ContractTransaction = await contract
        .getFunction(step.fn)
        .populateTransaction(...step.args, ...(step.value === undefined ? [] : [{ value: step.value }]));
      expect(tx.to).toBe(STAKING_ADDRESS);
      expect(tx.data).toBe(stakingInterface.encodeFunctionData(step.fn, step.args));
      const out = await h.callData(step.from, tx.data, tx.value ?? 0n);
      expect(out.ok, `${step.fn}: ${out.error?.name ?? ""}`).toBe(true);
      const decoded = contract.interface.decodeFunctionResult(step.fn, out.raw);
      step.check?.([...decoded]);
    }
  });

  it("the `as const` ABI types viem's encoder, which agrees with ethers byte for byte", () => {
    const v = validatorKey(0).operator;
    const viaViem = encodeFunctionData({ abi: stakingAbi, functionName: "undelegate", args: [v, 5n] });
    expect(viaViem).toBe(stakingInterface.encodeFunctionData("undelegate", [v, 5n]));
    const slash = encodeFunctionData({
      abi: stakingAbi,
      functionName: "slash",
      args: [v, 20_000, `0x${"11".repeat(32)}`],
    });
    expect(slash).toBe(stakingInterface.encodeFunctionData("slash", [v, 20_000, `0x${"11".repeat(32)}`]));
  });
});
