import { Common, Hardfork, Mainnet } from "@ethereumjs/common";
import { type Address, createAccount, createAddressFromString } from "@ethereumjs/util";
import { createVM } from "@ethereumjs/vm";
import { blsKeyFromSeed, blsProofOfPossession, blsSign, keccak256 } from "@zgnode/crypto";
import { bytesToHex, concatBytes, createMetricsRegistry, hexToBytes, utf8ToBytes } from "@zgnode/utils";
import { beforeEach, describe, expect, it } from "vitest";
import {
  ContractsErrorCode,
  createContractsMetrics,
  defaultStakingParams,
  descriptionTuple,
  expandProofOfPossession,
  PPM,
  STAKING_ADDRESS,
  SYSTEM_ADDRESS,
  stakingCreationCode,
  stakingDeployedBytecode,
  stakingGenesisAlloc,
} from "../src/index.ts";
import { account, ETHER, GWEI, genesisValidator, StakingHarness, testParams, validatorKey } from "./harness.ts";

const evidence = (n: number): string => bytesToHex(new Uint8Array(32).fill(n));

describe("genesis alloc", () => {
  it("places code, storage and the summed stake at the staking address, with the genesis set active", async () => {
    const { harness, alloc } = await StakingHarness.create();
    const acct = alloc[STAKING_ADDRESS];
    expect(Object.keys(alloc)).toEqual([STAKING_ADDRESS]);
    expect(acct.code).toBe(stakingDeployedBytecode);
    expect(BigInt(acct.balance)).toBe(150n * ETHER);
    expect(acct.nonce).toBe("0x1");
    for (const [slot, value] of Object.entries(acct.storage)) {
      expect(slot).toMatch(/^0x[0-9a-f]{64}$/);
      expect(value).toMatch(/^0x[0-9a-f]{64}$/);
    }
    expect(await harness.balance(STAKING_ADDRESS)).toBe(150n * ETHER);

    const params = (await harness.view("params"))[0];
    expect(params.minSelfStake).toBe(testParams.minSelfStake);
    expect(params.unbondingPeriod).toBe(BigInt(testParams.unbondingPeriod));
    expect(params.slashFractionDoubleSignPpm).toBe(BigInt(testParams.slashFractionDoubleSignPpm));
    expect((await harness.view("validatorCount"))[0]).toBe(2n);
    expect((await harness.view("epoch"))[0]).toBe(0n);

    const set = (await harness.view("activeValidatorSet"))[0];
    expect(set.map((m: { operator: string }) => m.operator.toLowerCase())).toEqual([
      validatorKey(0).operator,
      validatorKey(1).operator,
    ]);
    expect(set[0].blsPubkey).toBe(bytesToHex(validatorKey(0).blsPubkey));
    expect(set[0].votingPower).toBe((100n * ETHER) / GWEI);
    expect(set[1].votingPower).toBe((50n * ETHER) / GWEI);
    expect((await harness.view("validatorByBlsPubkey", [validatorKey(1).blsPubkey]))[0].toLowerCase()).toBe(
      validatorKey(1).operator,
    );
  });

  it("builds with the default parameters when none are given", async () => {
    const registry = createMetricsRegistry();
    const metrics = createContractsMetrics(registry);
    const alloc = await stakingGenesisAlloc(undefined, [genesisValidator(6, 32n * ETHER)], { metrics });
    expect(await registry.getSingleMetricAsString("zgnode_contracts_genesis_build_seconds")).toContain(
      "zgnode_contracts_genesis_build_seconds_count 1",
    );
    const h = (await StakingHarness.create()).harness;
    await h.loadAlloc(alloc);
    const params = (await h.view("params"))[0];
    expect(params.minSelfStake).toBe(defaultStakingParams.minSelfStake);
    expect(params.slashFractionDoubleSignPpm).toBe(20_000n);
    expect(params.unbondingPeriod).toBe(200_000n);
    expect((await h.view("activeValidatorSet"))[0][0].operator.toLowerCase()).toBe(validatorKey(6).operator);
  });

  it("is deterministic and captures every storage slot the constructor wrote", async () => {
    const validators = [genesisValidator(2, 40n * ETHER), genesisValidator(3, 30n * ETHER, 0)];
    const a = await stakingGenesisAlloc(testParams, validators);
    expect(await stakingGenesisAlloc(testParams, validators)).toEqual(a);
    // run the same creation code independently and compare against the full trie dump (keys there are hashed)
    const vm = await createVM({ common: new Common({ chain: Mainnet, hardfork: Hardfork.Prague }) });
    const deployer = createAddressFromString(`0x${"12".repeat(20)}`);
    await vm.stateManager.putAccount(deployer, createAccount({ balance: 70n * ETHER, nonce: 0n }));
    const res = await vm.evm.runCall({
      caller: deployer,
      data: stakingCreationCode(testParams, validators),
      value: 70n * ETHER,
      gasLimit: 1_000_000_000n,
    });
    expect(res.createdAddress).toBeDefined();
    await vm.stateManager.checkpoint();
    await vm.stateManager.commit();
    // the default state manager is a MerkleStateManager, which can dump an account's whole storage trie
    const trie = vm.stateManager as unknown as { dumpStorage(address: Address): Promise<Record<string, string>> };
    const dump = await trie.dumpStorage(res.createdAddress!);
    const storage = a[STAKING_ADDRESS].storage;
    expect(Object.keys(storage).length).toBe(Object.keys(dump).length);
    for (const [slot, value] of Object.entries(storage)) {
      const hashed = bytesToHex(keccak256(hexToBytes(slot)));
      expect(dump[hashed] ?? dump[hashed.slice(2)], slot).toBeDefined();
      expect(BigInt(value)).toBeGreaterThan(0n);
    }
  });

  it("refuses a genesis validator whose proof of possession is for another key", async () => {
    const bad = genesisValidator(0, 100n * ETHER);
    bad.pop = validatorKey(5).pop;
    await expect(stakingGenesisAlloc(testParams, [bad])).rejects.toMatchObject({
      code: ContractsErrorCode.INVALID_PROOF_OF_POSSESSION,
    });
  });

  it("refuses invalid parameters and stakes below the minimum with coded errors", async () => {
    await expect(stakingGenesisAlloc({ ...testParams, epochLength: 0 }, [])).rejects.toMatchObject({
      code: ContractsErrorCode.GENESIS_DEPLOY_FAILED,
      message: expect.stringContaining("InvalidParams"),
    });
    await expect(stakingGenesisAlloc(testParams, [genesisValidator(0, ETHER)])).rejects.toMatchObject({
      code: ContractsErrorCode.INVALID_GENESIS_VALIDATOR,
    });
  });
});

describe("staking contract on a Prague @ethereumjs/vm", () => {
  let h: StakingHarness;
  beforeEach(async () => {
    h = (await StakingHarness.create()).harness;
  });

  it("creates a validator only with a valid proof of possession, verified on chain", async () => {
    const k = validatorKey(2);
    const desc = descriptionTuple({ moniker: "v2" });
    // PoP signed by another key, and a signature by the right key over a different message
    const wrong = await h.call(
      k.operator,
      "createValidator",
      [k.blsPubkey, expandProofOfPossession(validatorKey(3).pop), 0, desc],
      20n * ETHER,
    );
    expect(wrong.error?.name).toBe("InvalidProofOfPossession");
    const otherMsg = expandProofOfPossession(blsSign(k.sk, concatBytes(utf8ToBytes("zgnode/bls-pop/v2"), k.blsPubkey)));
    expect((await h.call(k.operator, "createValidator", [k.blsPubkey, otherMsg, 0, desc], 20n * ETHER)).error?.name).toBe(
      "InvalidProofOfPossession",
    );
    // the compressed 96-byte form is not accepted by the contract
    expect((await h.call(k.operator, "createValidator", [k.blsPubkey, k.pop, 0, desc], 20n * ETHER)).error?.name).toBe(
      "InvalidProofOfPossession",
    );
    // an all-zero proof is the point at infinity in EIP-2537 encoding; the pairing must still fail
    const zero = new Uint8Array(192);
    expect((await h.call(k.operator, "createValidator", [k.blsPubkey, zero, 0, desc], 20n * ETHER)).error?.name).toBe(
      "InvalidProofOfPossession",
    );
    // a flipped sign bit makes the key a different point, so the proof no longer verifies
    const flipped = k.blsPubkey.slice();
    flipped[0] ^= 0x20;
    expect(
      (await h.call(k.operator, "createValidator", [flipped, expandProofOfPossession(k.pop), 0, desc], 20n * ETHER)).error?.name,
    ).toBe("InvalidProofOfPossession");

    const ok = await h.createValidator(2, 20n * ETHER, 50_000);
    expect(ok.ok).toBe(true);
    expect(ok.logs.map((l) => l.name)).toEqual(["ValidatorCreated", "Delegated"]);
    expect(ok.logs[0].args.operator.toLowerCase()).toBe(k.operator);
    expect(ok.logs[0].args.blsPubkey).toBe(bytesToHex(k.blsPubkey));
    expect(ok.logs[0].args.selfStake).toBe(20n * ETHER);
    const info = (await h.view("getValidator", [k.operator]))[0];
    expect(info.tokens).toBe(20n * ETHER);
    expect(info.selfStake).toBe(20n * ETHER);
    expect(info.commissionPpm).toBe(50_000n);
    expect(info.description.moniker).toBe("v2");
    expect(info.active).toBe(false);
    console.log(`createValidator gas (incl. on-chain BLS PoP check): ${ok.gasUsed}`);

    // the same operator or the same key cannot register twice
    expect((await h.createValidator(2, 20n * ETHER)).error?.name).toBe("ValidatorExists");
    const reuse = await h.call(
      account(0),
      "createValidator",
      [k.blsPubkey, expandProofOfPossession(k.pop), 0, desc],
      20n * ETHER,
    );
    expect(reuse.error?.name).toBe("BlsPubkeyInUse");
  });

  it("checks stake, commission and description limits on registration", async () => {
    expect((await h.createValidator(3, ETHER)).error?.name).toBe("StakeBelowMinimum");
    expect((await h.createValidator(3, 20n * ETHER, PPM + 1)).error?.name).toBe("InvalidCommission");
    const k = validatorKey(3);
    const long = descriptionTuple({ moniker: "m".repeat(71) });
    const res = await h.call(k.operator, "createValidator", [k.blsPubkey, expandProofOfPossession(k.pop), 0, long], 20n * ETHER);
    expect(res.error?.name).toBe("DescriptionTooLong");
    expect(res.error?.args[0]).toBe("moniker");
    const okDetails = descriptionTuple({ details: "d".repeat(280), identity: "i".repeat(3000) });
    const fine = await h.call(
      k.operator,
      "createValidator",
      [k.blsPubkey, expandProofOfPossession(k.pop), 0, okDetails],
      20n * ETHER,
    );
    expect(fine.ok).toBe(true);
  });

  it("delegates, undelegates with an unbonding period and withdraws matured entries", async () => {
    const v = validatorKey(0).operator;
    const d = account(1);
    const del = await h.send(d, "delegate", [v], 10n * ETHER);
    expect(del.logs[0].name).toBe("Delegated");
    // genesis validator 0 has 100 ether for 100e18 shares: 1 share per wei
    expect(del.logs[0].args.shares).toBe(10n * ETHER);
    expect((await h.call(d, "delegate", [v], 1n)).error?.name).toBe("StakeBelowMinimum");
    expect((await h.call(d, "delegate", [account(5)], ETHER)).error?.name).toBe("UnknownValidator");

    const [shares, tokens] = await h.view("getDelegation", [v, d]);
    expect([shares, tokens]).toEqual([10n * ETHER, 10n * ETHER]);
    expect((await h.call(d, "undelegate", [v, shares + 1n])).error?.name).toBe("InsufficientShares");

    h.blockNumber = 100n;
    const und = await h.send(d, "undelegate", [v, 4n * ETHER]);
    expect(und.result?.[0]).toBe(4n * ETHER);
    expect(und.result?.[1]).toBe(100n + BigInt(testParams.unbondingPeriod));
    expect(und.logs[0].name).toBe("Undelegated");
    expect(und.logs[0].args.completionHeight).toBe(120n);
    const pending = (await h.view("pendingUnbondings", [d]))[0];
    expect(pending).toHaveLength(1);
    expect(pending[0].amount).toBe(4n * ETHER);
    expect((await h.view("getValidator", [v]))[0].tokens).toBe(106n * ETHER);

    h.blockNumber = 110n;
    await h.send(d, "undelegate", [v, ETHER]);
    h.blockNumber = 119n;
    expect((await h.call(d, "withdraw")).error?.name).toBe("NothingToWithdraw");
    h.blockNumber = 120n;
    const before = await h.balance(d);
    const w = await h.send(d, "withdraw");
    expect(w.result?.[0]).toBe(4n * ETHER);
    expect(w.logs.map((l) => l.name)).toEqual(["Withdrawn"]);
    expect(await h.balance(d)).toBe(before + 4n * ETHER);
    expect((await h.view("pendingUnbondings", [d]))[0]).toHaveLength(1);
    h.blockNumber = 130n;
    expect((await h.send(d, "withdraw")).result?.[0]).toBe(ETHER);
    expect((await h.view("pendingUnbondings", [d]))[0]).toHaveLength(0);
    expect((await h.view("getDelegation", [v, d]))[0]).toBe(5n * ETHER);
    expect(await h.balance(STAKING_ADDRESS)).toBe(await h.accountedWei());
  });

  it("caps pending unbonding entries per delegator", async () => {
    const v = validatorKey(1).operator;
    const d = account(2);
    await h.send(d, "delegate", [v], 10n * ETHER);
    for (let i = 0; i < testParams.maxUnbondingEntries; i++) await h.send(d, "undelegate", [v, ETHER / 2n]);
    expect((await h.call(d, "undelegate", [v, ETHER / 2n])).error?.name).toBe("TooManyUnbondingEntries");
  });

  it("splits block rewards: commission to the operator, the rest to delegators by shares", async () => {
    const v = validatorKey(0).operator; // 10% commission, 100 ether self stake
    const d = account(3);
    await h.send(d, "delegate", [v], 100n * ETHER); // now 200 ether, half each
    const reward = testParams.blockReward + 3n * GWEI * 21_000n; // block reward + some fees
    const res = await h.system("distributeRewards", [v], reward);
    expect(res.ok).toBe(true);
    const commission = (reward * 100_000n) / 1_000_000n;
    expect(res.logs[0].name).toBe("RewardsDistributed");
    expect(res.logs[0].args.amount).toBe(reward);
    expect(res.logs[0].args.commission).toBe(commission);
    const rest = reward - commission;
    const [, delegatorTokens] = await h.view("getDelegation", [v, d]);
    const info = (await h.view("getValidator", [v]))[0];
    expect(info.tokens).toBe(200n * ETHER + rest);
    expect(delegatorTokens).toBe(100n * ETHER + rest / 2n);
    expect(info.selfStake).toBe(100n * ETHER + rest / 2n);
    expect(info.commissionAccrued).toBe(commission);

    // commission is withdrawable by the operator once
    const before = await h.balance(v);
    const w = await h.send(v, "withdrawCommission");
    expect(w.logs[0].name).toBe("CommissionWithdrawn");
    expect(await h.balance(v)).toBe(before + commission);
    expect((await h.call(v, "withdrawCommission")).error?.name).toBe("NothingToWithdraw");

    // a proposer that cannot take rewards defers them to the next distribution
    const deferred = await h.system("distributeRewards", [account(6)], ETHER);
    expect(deferred.logs[0].name).toBe("RewardsDeferred");
    expect((await h.view("pendingRewards"))[0]).toBe(ETHER);
    const next = await h.system("distributeRewards", [v], ETHER);
    expect(next.logs[0].args.amount).toBe(2n * ETHER);
    expect((await h.view("pendingRewards"))[0]).toBe(0n);
    expect(await h.balance(STAKING_ADDRESS)).toBe(await h.accountedWei());
  });

  it("refuses every system function from any other sender", async () => {
    for (const sender of [account(0), validatorKey(0).operator, "0xffffffffffffffffffffffffffffffffffffffff"]) {
      await h.fund(sender, 10n * ETHER);
      expect((await h.call(sender, "slash", [validatorKey(0).operator, 20_000, evidence(1)])).error?.name).toBe("NotSystem");
      expect((await h.call(sender, "distributeRewards", [validatorKey(0).operator], ETHER)).error?.name).toBe("NotSystem");
      expect((await h.call(sender, "onEpochEnd")).error?.name).toBe("NotSystem");
    }
    expect((await h.view("epoch"))[0]).toBe(0n);
  });

  it("slashes bonded and unbonding stake share-proportionally, jails, once per evidence, and the set drops it at the epoch end", async () => {
    const v = validatorKey(0).operator;
    const d = account(4);
    await h.send(d, "delegate", [v], 100n * ETHER);
    h.blockNumber = 50n;
    await h.send(d, "undelegate", [v, 50n * ETHER]); // 50 ether unbonding; 150 bonded
    const fraction = testParams.slashFractionDoubleSignPpm;
    const res = await h.system("slash", [v, fraction, evidence(7)]);
    expect(res.ok).toBe(true);
    expect(res.result?.[0]).toBe(true);
    const bondedCut = (150n * ETHER * BigInt(fraction)) / 1_000_000n;
    const unbondingCut = (50n * ETHER * BigInt(fraction)) / 1_000_000n;
    expect(res.logs.map((l) => l.name)).toEqual(["Slashed", "Jailed"]);
    expect(res.logs[0].args.amount).toBe(bondedCut + unbondingCut);
    expect(res.logs[0].args.evidenceHash).toBe(evidence(7));
    expect(res.logs[1].args.untilBlock).toBe(50n + BigInt(testParams.jailPeriod));

    const info = (await h.view("getValidator", [v]))[0];
    expect(info.tokens).toBe(150n * ETHER - bondedCut);
    expect(info.unbondingTokens).toBe(50n * ETHER - unbondingCut);
    expect(info.jailed).toBe(true);
    // every delegator loses the same fraction: 2% of 100 ether self stake, 2% of 50 ether delegated
    expect(info.selfStake).toBe(98n * ETHER);
    expect((await h.view("getDelegation", [v, d]))[1]).toBe(49n * ETHER);
    expect((await h.view("pendingUnbondings", [d]))[0][0].amount).toBe(49n * ETHER);
    expect((await h.view("totalBurned"))[0]).toBe(bondedCut + unbondingCut);

    // the same evidence again changes nothing
    const again = await h.system("slash", [v, fraction, evidence(7)]);
    expect(again.result?.[0]).toBe(false);
    expect(again.logs).toHaveLength(0);
    expect((await h.view("getValidator", [v]))[0].tokens).toBe(150n * ETHER - bondedCut);
    expect((await h.view("evidenceProcessed", [evidence(7)]))[0]).toBe(true);
    expect((await h.system("slash", [v, 1_000_000, evidence(8)])).error?.name).toBe("InvalidSlashFraction");
    expect((await h.system("slash", [account(6), fraction, evidence(9)])).error?.name).toBe("UnknownValidator");

    // still in this epoch's set; out after the boundary
    const operators = async (fn: string) =>
      ((await h.view(fn))[0] as Array<{ operator: string }>).map((m) => m.operator.toLowerCase());
    expect(await operators("activeValidatorSet")).toContain(v);
    expect(await operators("nextValidatorSet")).not.toContain(v);
    const epochEnd = await h.system("onEpochEnd");
    expect(epochEnd.logs[0].name).toBe("ValidatorSetUpdated");
    expect(epochEnd.logs[0].args.epoch).toBe(1n);
    expect(await operators("activeValidatorSet")).toEqual([validatorKey(1).operator]);
    expect((await h.view("getValidator", [v]))[0].active).toBe(false);

    // a jailed proposer's rewards are deferred
    expect((await h.system("distributeRewards", [v], ETHER)).logs[0].name).toBe("RewardsDeferred");

    // unjail: not before jailedUntil, then back in the set at the next boundary
    expect((await h.call(v, "unjail")).error?.name).toBe("StillJailed");
    expect((await h.call(validatorKey(1).operator, "unjail")).error?.name).toBe("NotJailed");
    h.blockNumber = 80n;
    const un = await h.send(v, "unjail");
    expect(un.logs[0].name).toBe("Unjailed");
    expect(await operators("activeValidatorSet")).toEqual([validatorKey(1).operator]);
    await h.system("onEpochEnd");
    expect(await operators("activeValidatorSet")).toEqual([v, validatorKey(1).operator]);
    expect(await h.balance(STAKING_ADDRESS)).toBe(await h.accountedWei());
  });

  it("changes the set only at epoch boundaries: joins, stake order, the size cap and leaves", async () => {
    const operators = async (fn: string) =>
      ((await h.view(fn))[0] as Array<{ operator: string; votingPower: bigint }>).map((m) => [
        m.operator.toLowerCase(),
        m.votingPower,
      ]);
    await h.send(
      validatorKey(2).operator,
      "createValidator",
      [validatorKey(2).blsPubkey, expandProofOfPossession(validatorKey(2).pop), 0, descriptionTuple({})],
      70n * ETHER,
    );
    await h.createValidator(3, 60n * ETHER);
    expect(await operators("activeValidatorSet")).toHaveLength(2);
    // cap is 3: the 50-ether genesis validator drops out at the boundary
    const next = [
      [validatorKey(0).operator, (100n * ETHER) / GWEI],
      [validatorKey(2).operator, (70n * ETHER) / GWEI],
      [validatorKey(3).operator, (60n * ETHER) / GWEI],
    ];
    expect(await operators("nextValidatorSet")).toEqual(next);
    const res = await h.system("onEpochEnd");
    expect(res.logs[0].args.operators.map((a: string) => a.toLowerCase())).toEqual(next.map((n) => n[0]));
    expect(res.logs[0].args.votingPowers).toEqual(next.map((n) => n[1]));
    expect(await operators("activeValidatorSet")).toEqual(next);

    // a delegation moves validator 1 up; validator 3's operator unbonding below the minimum makes it leave
    await h.send(account(0), "delegate", [validatorKey(1).operator], 30n * ETHER);
    const selfShares = (await h.view("getDelegation", [validatorKey(3).operator, validatorKey(3).operator]))[0];
    await h.send(validatorKey(3).operator, "undelegate", [validatorKey(3).operator, selfShares - 5n * ETHER]);
    expect(await operators("activeValidatorSet")).toEqual(next);
    await h.system("onEpochEnd");
    expect(await operators("activeValidatorSet")).toEqual([
      [validatorKey(0).operator, (100n * ETHER) / GWEI],
      [validatorKey(1).operator, (80n * ETHER) / GWEI],
      [validatorKey(2).operator, (70n * ETHER) / GWEI],
    ]);
    expect((await h.view("epoch"))[0]).toBe(2n);
  });

  it("caps registered validators, and a fully undelegated validator frees its place", async () => {
    for (let i = 2; i < testParams.maxValidatorCount; i++) expect((await h.createValidator(i, 11n * ETHER)).ok).toBe(true);
    expect((await h.view("validatorCount"))[0]).toBe(BigInt(testParams.maxValidatorCount));
    await h.fund(validatorKey(8).operator, 100n * ETHER);
    expect((await h.createValidator(8, 11n * ETHER)).error?.name).toBe("TooManyValidators");

    const leaving = validatorKey(2).operator;
    const shares = (await h.view("getDelegation", [leaving, leaving]))[0];
    h.blockNumber = 5n;
    await h.send(leaving, "undelegate", [leaving, shares]);
    expect((await h.view("validatorCount"))[0]).toBe(BigInt(testParams.maxValidatorCount - 1));
    expect(((await h.view("validatorOperators"))[0] as string[]).map((a) => a.toLowerCase())).not.toContain(leaving);
    expect((await h.createValidator(8, 11n * ETHER)).ok).toBe(true);
    // the exited validator's record stays: its unbonding entry pays out, and it can return once there is room
    expect((await h.view("getValidator", [leaving]))[0].tokens).toBe(0n);
    h.blockNumber = 5n + BigInt(testParams.unbondingPeriod);
    expect((await h.send(leaving, "withdraw")).result?.[0]).toBe(11n * ETHER);
    expect((await h.call(leaving, "delegate", [leaving], 11n * ETHER)).error?.name).toBe("TooManyValidators");
    expect(await h.balance(STAKING_ADDRESS)).toBe(await h.accountedWei());
  });

  it("orders equal stakes by operator address and reports membership in getValidator", async () => {
    // created in reverse address order, with the same stake
    expect((await h.createValidator(5, 70n * ETHER)).ok).toBe(true);
    expect((await h.createValidator(4, 70n * ETHER)).ok).toBe(true);
    expect((await h.createValidator(3, 70n * ETHER)).ok).toBe(true);
    await h.system("onEpochEnd");
    const set = (await h.view("activeValidatorSet"))[0] as Array<{ operator: string }>;
    expect(set.map((m) => m.operator.toLowerCase())).toEqual(
      [validatorKey(0), validatorKey(3), validatorKey(4)].map((k) => k.operator),
    );
    expect((await h.view("getValidator", [validatorKey(4).operator]))[0].active).toBe(true);
    expect((await h.view("getValidator", [validatorKey(5).operator]))[0].active).toBe(false);
    expect((await h.view("getValidator", [validatorKey(1).operator]))[0].active).toBe(false);
  });

  it("keeps the previous set rather than installing an empty one", async () => {
    await h.system("slash", [validatorKey(0).operator, 10_000, evidence(1)]);
    await h.system("slash", [validatorKey(1).operator, 10_000, evidence(2)]);
    const res = await h.system("onEpochEnd");
    expect(res.logs[0].args.operators).toHaveLength(2);
    expect((await h.view("activeValidatorSet"))[0]).toHaveLength(2);
  });

  it("limits commission changes by size and frequency", async () => {
    const v = validatorKey(0).operator; // 10%
    const desc = descriptionTuple({ moniker: "renamed", website: "https://example.org" });
    expect((await h.call(v, "editValidator", [130_000, desc])).error?.name).toBe("CommissionChangeTooLarge");
    h.blockNumber = 10n;
    const ok = await h.send(v, "editValidator", [120_000, desc]);
    expect(ok.logs[0].name).toBe("ValidatorEdited");
    expect(ok.logs[0].args.commissionPpm).toBe(120_000n);
    h.blockNumber = 12n;
    const soon = await h.call(v, "editValidator", [100_000, desc]);
    expect(soon.error?.name).toBe("CommissionChangeTooSoon");
    expect(soon.error?.args[0]).toBe(15n);
    // the description alone may change any time
    expect((await h.call(v, "editValidator", [120_000, descriptionTuple({ moniker: "again" })])).ok).toBe(true);
    h.blockNumber = 15n;
    expect((await h.call(v, "editValidator", [100_000, desc])).ok).toBe(true);
    const info = (await h.view("getValidator", [v]))[0];
    expect(info.commissionPpm).toBe(100_000n);
    expect(info.description.website).toBe("https://example.org");
    expect((await h.call(account(0), "editValidator", [0, desc])).error?.name).toBe("UnknownValidator");
  });

  it("verifies proofs of possession made by fresh keys (not only the fixture keys)", async () => {
    for (let i = 0; i < 2; i++) {
      const sk = blsKeyFromSeed(new Uint8Array(32).map((_, j) => (j * 31 + i * 7 + 3) & 0xff));
      const pk = sk.toPublicKey().toBytes();
      const op = account(4 + i);
      const res = await h.call(
        op,
        "createValidator",
        [pk, expandProofOfPossession(blsProofOfPossession(sk)), 0, descriptionTuple({})],
        11n * ETHER,
      );
      expect(res.ok).toBe(true);
    }
    expect((await h.view("validatorCount"))[0]).toBe(4n);
  });

  it("lets the system address fund rewards only with its own balance", async () => {
    await h.fund(SYSTEM_ADDRESS, 0n);
    const res = await h.system("distributeRewards", [validatorKey(0).operator], ETHER);
    expect(res.ok).toBe(false);
  });
});
