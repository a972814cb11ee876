import { readFileSync } from "node:fs";
import { createAddressFromString, hexToBytes as ejsHexToBytes } from "@ethereumjs/util";
import { Interface } from "ethers";
import { describe, expect, it } from "vitest";
import { compileSources } from "../scripts/compile.ts";
import { stakingInterface } from "../src/index.ts";
import { account, ETHER, StakingHarness, testParams, validatorKey } from "./harness.ts";

describe("withdraw to a contract", () => {
  it("pays a contract delegator once and refuses its re-entry with Reentrancy", async () => {
    const source = readFileSync(new URL("./fixtures/Reenter.sol", import.meta.url), "utf8");
    const artifact = compileSources({ "Reenter.sol": source }, "Reenter");
    const attacker = new Interface(artifact.abi as ConstructorParameters<typeof Interface>[0]);
    const { harness: h } = await StakingHarness.create();
    const deployer = account(5);
    const created = await h.vm.evm.runCall({
      caller: createAddressFromString(deployer),
      data: ejsHexToBytes(artifact.bytecode as `0x${string}`),
      gasLimit: 5_000_000n,
    });
    const address = created.createdAddress!.toString();
    const v = validatorKey(0).operator;

    const run = (fn: string, args: unknown[] = [], value = 0n) =>
      h.callData(deployer, attacker.encodeFunctionData(fn, args), value, address);
    expect((await run("stake", [v], 10n * ETHER)).ok).toBe(true);
    h.blockNumber = 5n;
    expect((await run("unstake", [v])).ok).toBe(true);
    h.blockNumber = 5n + BigInt(testParams.unbondingPeriod);
    const pulled = await run("pull");
    expect(pulled.ok).toBe(true);
    expect(pulled.logs.map((l) => l.name)).toEqual(["Withdrawn", "Withdrawn"]);

    expect(await h.balance(address)).toBe(10n * ETHER);
    const attempted = await run("attempted");
    expect(attacker.decodeFunctionResult("attempted", attempted.raw)[0]).toBe(true);
    const reason = attacker.decodeFunctionResult("reentryError", (await run("reentryError")).raw)[0] as string;
    expect(stakingInterface.parseError(reason)?.name).toBe("Reentrancy");
    expect(reason).toMatch(/^0x[0-9a-f]{8}$/); // just the selector: the guard fired before anything else
    expect(await h.balance("0x0000000000000000000000000000000000001001")).toBe(await h.accountedWei());
  });
});
