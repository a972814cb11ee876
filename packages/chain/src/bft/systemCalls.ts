import { Block } from "@ethereumjs/block";
import { createAccount, createAddressFromString } from "@ethereumjs/util";
import {
  encodeDistributeRewards,
  encodeOnEpochEnd,
  encodeSlash,
  isEpochBoundary,
  STAKING_ADDRESS,
  type StakingParams,
  SYSTEM_ADDRESS,
} from "@zgnode/contracts";
import { bytesToHex, type Hex, hexToBytes, type Logger } from "@zgnode/utils";
import type { BlockStartHook } from "../chain.ts";
import type { DuplicateVoteEvidence } from "../consensus/types.ts";
import { BftError, BftErrorCode } from "./errors.ts";
import { evidenceHash } from "./payload.ts";
import type { StakingValidatorSets } from "./validatorSets.ts";

/** Gas each system call may use (they do not count against the block gas limit). */
export const SYSTEM_CALL_GAS = 30_000_000n;

export interface StakingHookDeps {
  sets: StakingValidatorSets;
  params: StakingParams;
  /** The evidence a block commits, looked up by its extraData (set by the block source before execution). */
  evidenceOf: (extraData: Hex) => DuplicateVoteEvidence[] | undefined;
  logger?: Logger;
}

/**
 * The staking protocol of packages/contracts/README.md, run by every node at the start of every block N (before
 * its transactions, as part of its execution, so the state root covers it):
 *   1. `slash(operator, slashFractionDoubleSignPpm, evidenceHash)` per evidence the block carries;
 *   2. `distributeRewards(coinbase)` with `blockReward` credited to the system address first (the proposer keeps
 *      its priority fees as coinbase, so the value is the block reward only);
 *   3. `onEpochEnd()` when N % epochLength == 0. (The README puts it at the END of block N; this hook has one
 *      position, so it runs before N's transactions. The new set still decides heights N+1 onward.)
 * A reverting call is logged and skipped: its effect is then the same on every node.
 */
export function createStakingBlockStartHook(deps: StakingHookDeps): BlockStartHook {
  const system = createAddressFromString(SYSTEM_ADDRESS);
  const staking = createAddressFromString(STAKING_ADDRESS);
  return async ({ header, vm }) => {
    const number = header.number;
    if (number === 0n) return;
    const extra = bytesToHex(header.extraData);
    const evidence = extra === "0x" ? [] : deps.evidenceOf(extra);
    if (!evidence) throw new BftError(BftErrorCode.INVALID_BLOCK, `evidence of block ${number} (${extra}) is not known`);
    const block = new Block(header, [], [], undefined, { common: header.common });
    const call = async (data: Hex, value = 0n) => {
      if (value > 0n) {
        const acct = (await vm.stateManager.getAccount(system)) ?? createAccount({});
        acct.balance += value;
        await vm.stateManager.putAccount(system, acct);
      }
      const res = await vm.evm.runCall({
        caller: system,
        origin: system,
        to: staking,
        data: hexToBytes(data),
        value,
        gasLimit: SYSTEM_CALL_GAS,
        gasPrice: 0n,
        block,
      });
      if (res.execResult.exceptionError) {
        deps.logger?.warn(
          { number: Number(number), call: data.slice(0, 10), error: res.execResult.exceptionError.error },
          "system call reverted",
        );
      }
    };
    for (const ev of evidence) {
      const set = await deps.sets.setFor(ev.voteA.height);
      const v = set.validators[ev.voteA.validatorIndex];
      const operator = v ? deps.sets.operatorOf(v.publicKey) : undefined;
      if (!operator) {
        deps.logger?.warn({ number: Number(number) }, "evidence names no known operator");
        continue;
      }
      await call(encodeSlash(operator, deps.params.slashFractionDoubleSignPpm, evidenceHash(ev)));
      deps.logger?.info({ number: Number(number), operator, height: ev.voteA.height }, "slashed for equivocation");
    }
    await call(encodeDistributeRewards(header.coinbase.toString() as Hex), deps.params.blockReward);
    if (isEpochBoundary(number, deps.params.epochLength)) await call(encodeOnEpochEnd());
  };
}
