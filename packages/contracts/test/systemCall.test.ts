import { createBlock } from "@ethereumjs/block";
import { createAddressFromString } from "@ethereumjs/util";
import { bytesToHex } from "@zgnode/utils";
import { describe, expect, it } from "vitest";
import {
  applyStakingBlockStart,
  applyStakingEpochEnd,
  readActiveValidatorSet,
  readStakingParams,
  STAKING_ADDRESS,
  SYSTEM_ADDRESS,
  stakingInterface,
} from "../src/index.ts";
import { ETHER, StakingHarness, testParams, validatorKey } from "./harness.ts";

const names = (logs: Array<[Uint8Array, Uint8Array[], Uint8Array]>): Array<string | undefined> =>
  logs.map(
    ([, topics, data]) => stakingInterface.parseLog({ topics: topics.map((t) => bytesToHex(t)), data: bytesToHex(data) })?.name,
  );

describe("runStakingSystemCall and the block-start / epoch-end helpers", () => {
  it("slash at block start, mint the reward into the contract, install the next set, and leave no system account", async () => {
    const { harness: h } = await StakingHarness.create();
    const evm = h.vm.evm;
    const system = createAddressFromString(SYSTEM_ADDRESS);
    await h.vm.stateManager.deleteAccount(system);
    const block = createBlock({ header: { number: 10n, timestamp: 20n } }, { common: h.common });

    expect(await readStakingParams(evm, block)).toEqual(testParams);
    const v1 = validatorKey(1).operator;
    const staked = await h.balance(STAKING_ADDRESS);

    const start = await applyStakingBlockStart(evm, {
      proposer: validatorKey(0).operator,
      rewardWei: testParams.blockReward,
      evidence: [
        { validator: v1, evidenceHash: new Uint8Array(32).fill(1) },
        { validator: v1, evidenceHash: new Uint8Array(32).fill(1) }, // the same evidence twice
        { validator: validatorKey(6).operator, evidenceHash: new Uint8Array(32).fill(2) }, // unknown validator
      ],
      slashFractionPpm: testParams.slashFractionDoubleSignPpm,
      block,
    });
    expect(start.slashes.map((s) => s.ok)).toEqual([true, true, false]);
    expect(names(start.slashes[0].logs)).toEqual(["Slashed", "Jailed"]);
    expect(start.slashes[1].logs).toHaveLength(0);
    expect(stakingInterface.parseError(bytesToHex(start.slashes[2].returnValue))?.name).toBe("UnknownValidator");
    expect(start.rewards.ok).toBe(true);
    expect(names(start.rewards.logs)).toEqual(["RewardsDistributed"]);
    expect(await h.balance(STAKING_ADDRESS)).toBe(staked + testParams.blockReward);
    expect(await h.vm.stateManager.getAccount(system)).toBeUndefined();

    const before = await readActiveValidatorSet(evm, block);
    expect(before.map((m) => m.operator)).toContain(v1);
    const end = await applyStakingEpochEnd(evm, block);
    expect(end.result.ok).toBe(true);
    expect(names(end.result.logs)).toEqual(["ValidatorSetUpdated"]);
    expect(end.validatorSet.map((m) => m.operator)).toEqual([validatorKey(0).operator]);
    expect(end.validatorSet[0].votingPower).toBe((100n * ETHER + (testParams.blockReward * 9n) / 10n) / 10n ** 9n);
    expect(await h.vm.stateManager.getAccount(system)).toBeUndefined();
  });

  it("keeps an existing system account's balance and nonce untouched", async () => {
    const { harness: h } = await StakingHarness.create();
    const before = await h.balance(SYSTEM_ADDRESS);
    expect(before).toBeGreaterThan(0n);
    const res = await applyStakingBlockStart(h.vm.evm, {
      proposer: validatorKey(0).operator,
      rewardWei: ETHER,
      slashFractionPpm: testParams.slashFractionDoubleSignPpm,
    });
    expect(res.rewards.ok).toBe(true);
    expect(await h.balance(SYSTEM_ADDRESS)).toBe(before);
    expect((await h.vm.stateManager.getAccount(createAddressFromString(SYSTEM_ADDRESS)))?.nonce).toBe(0n);
  });
});
