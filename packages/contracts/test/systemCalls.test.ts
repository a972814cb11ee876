import { bytesToHex } from "@zgnode/utils";
import { describe, expect, it } from "vitest";
import {
  ContractsErrorCode,
  decodeAddress,
  decodeParams,
  decodeValidatorSet,
  encodeActiveValidatorSet,
  encodeDistributeRewards,
  encodeGetParams,
  encodeOnEpochEnd,
  encodeSlash,
  encodeValidatorByBlsPubkey,
  isEpochBoundary,
  SYSTEM_ADDRESS,
} from "../src/index.ts";
import { ETHER, GWEI, StakingHarness, testParams, validatorKey } from "./harness.ts";

describe("system call helpers", () => {
  it("drive a block-start slash, a reward and an epoch end, and decode what consensus reads", async () => {
    const { harness: h } = await StakingHarness.create();
    expect(decodeParams((await h.callData(SYSTEM_ADDRESS, encodeGetParams())).raw)).toEqual(testParams);

    const v1 = validatorKey(1);
    const lookup = await h.callData(SYSTEM_ADDRESS, encodeValidatorByBlsPubkey(v1.blsPubkey));
    expect(decodeAddress("validatorByBlsPubkey", lookup.raw)).toBe(v1.operator);

    const before = decodeValidatorSet((await h.callData(SYSTEM_ADDRESS, encodeActiveValidatorSet())).raw);
    expect(before.map((m) => m.operator)).toEqual([validatorKey(0).operator, v1.operator]);
    expect(bytesToHex(before[1].blsPubkey)).toBe(bytesToHex(v1.blsPubkey));
    expect(before[1].votingPower).toBe((50n * ETHER) / GWEI);

    const slash = await h.callData(
      SYSTEM_ADDRESS,
      encodeSlash(v1.operator, testParams.slashFractionDoubleSignPpm, new Uint8Array(32).fill(3)),
    );
    expect(slash.ok).toBe(true);
    expect(slash.logs.map((l) => l.name)).toEqual(["Slashed", "Jailed"]);
    const reward = await h.callData(SYSTEM_ADDRESS, encodeDistributeRewards(validatorKey(0).operator), testParams.blockReward);
    expect(reward.logs[0].name).toBe("RewardsDistributed");
    expect((await h.callData(SYSTEM_ADDRESS, encodeOnEpochEnd())).ok).toBe(true);

    const after = decodeValidatorSet((await h.callData(SYSTEM_ADDRESS, encodeActiveValidatorSet())).raw);
    expect(after.map((m) => m.operator)).toEqual([validatorKey(0).operator]);
    expect(after[0].votingPower).toBe((100n * ETHER + (testParams.blockReward * 9n) / 10n) / GWEI);
  });

  it("rejects a malformed evidence hash and finds epoch boundaries", () => {
    expect(() => encodeSlash(validatorKey(0).operator, 20_000, new Uint8Array(31))).toThrow(
      expect.objectContaining({ code: ContractsErrorCode.INVALID_PARAMS }),
    );
    expect([0n, 1n, 9n, 10n, 11n, 20n].map((n) => isEpochBoundary(n, 10))).toEqual([false, false, false, true, false, true]);
  });
});
