import {
  decodeParams,
  decodeValidatorSet,
  encodeActiveValidatorSet,
  encodeGetParams,
  isEpochBoundary,
  STAKING_ADDRESS,
  type StakingParams,
  type StakingSetMember,
} from "@zgnode/contracts";
import { bytesToHex, type Hex, hexToBytes } from "@zgnode/utils";
import type { Chain } from "../chain.ts";
import { ValidatorSet, type ValidatorUpdate } from "../consensus/validators.ts";
import { BftError, BftErrorCode } from "./errors.ts";

/** Stake in gwei is the voting power (the contract freezes it at the epoch boundary). */
function power(m: StakingSetMember): number {
  return Number(m.votingPower);
}

/**
 * The validator set of every height, read from the staking contract. Height 1 uses `activeValidatorSet()` at
 * genesis; the contract installs a new set in block N when N % epochLength == 0, and that set decides heights
 * N+1 onward. Between changes each height is the previous set with one proposer-priority increment, as CometBFT
 * does, so every node derives the same proposer sequence from the chain alone.
 */
export class StakingValidatorSets {
  private readonly chain: Chain;
  private readonly sets = new Map<number, ValidatorSet>();
  /** BLS public key (hex) -> operator address, for every validator ever seen in a set. */
  private readonly operators = new Map<string, Hex>();
  private params: StakingParams | undefined;
  private epochLengthOverride: number;

  constructor(chain: Chain, epochLength = 0) {
    this.chain = chain;
    this.epochLengthOverride = epochLength;
  }

  async stakingParams(): Promise<StakingParams> {
    if (!this.params) {
      const res = await this.chain.call(
        { to: hexToBytes(STAKING_ADDRESS), data: hexToBytes(encodeGetParams()) },
        {
          block: this.chain.genesis,
        },
      );
      if (!res.success) throw new BftError(BftErrorCode.STAKING_UNAVAILABLE, "staking contract params() failed at genesis");
      this.params = decodeParams(res.returnData);
    }
    return this.params;
  }

  async epochLength(): Promise<number> {
    return this.epochLengthOverride || (await this.stakingParams()).epochLength;
  }

  operatorOf(blsPubkey: Uint8Array): Hex | undefined {
    return this.operators.get(bytesToHex(blsPubkey));
  }

  /** The set deciding `height` (>= 1); needs block `height - 1` stored. */
  async setFor(height: number): Promise<ValidatorSet> {
    const cached = this.sets.get(height);
    if (cached) return cached;
    // Walk up from the highest known height below (or genesis).
    let h = height - 1;
    while (h >= 1 && !this.sets.has(h)) h--;
    let set = h >= 1 ? (this.sets.get(h) as ValidatorSet) : await this.genesisSet();
    if (h < 1) {
      h = 1;
      this.sets.set(1, set);
    }
    const epoch = await this.epochLength();
    for (let next = h + 1; next <= height; next++) {
      if (isEpochBoundary(BigInt(next - 1), epoch)) {
        const members = await this.membersAt(next - 1);
        const keep = new Set(members.map((m) => bytesToHex(m.blsPubkey)));
        const updates: ValidatorUpdate[] = members.map((m) => ({ publicKey: m.blsPubkey, power: power(m) }));
        for (const v of set.validators)
          if (!keep.has(bytesToHex(v.publicKey))) updates.push({ publicKey: v.publicKey, power: 0 });
        set = set.withUpdates(updates);
      } else {
        set = set.copyIncremented(1);
      }
      this.sets.set(next, set);
    }
    // Keep memory bounded: old sets are only needed for evidence of recent heights.
    for (const k of this.sets.keys()) if (k < height - 10_000) this.sets.delete(k);
    return set;
  }

  private async genesisSet(): Promise<ValidatorSet> {
    const members = await this.membersAt(0);
    return ValidatorSet.create(members.map((m) => ({ publicKey: m.blsPubkey, power: power(m) })));
  }

  private async membersAt(blockNumber: number): Promise<StakingSetMember[]> {
    const block = await this.chain.getBlockByNumber(BigInt(blockNumber));
    if (!block) throw new BftError(BftErrorCode.NOT_FOUND, `block ${blockNumber} is not stored`);
    const res = await this.chain.call(
      { to: hexToBytes(STAKING_ADDRESS), data: hexToBytes(encodeActiveValidatorSet()), gas: 50_000_000n },
      { block },
    );
    if (!res.success)
      throw new BftError(BftErrorCode.STAKING_UNAVAILABLE, `activeValidatorSet() failed at block ${blockNumber}: ${res.error}`);
    const members = decodeValidatorSet(res.returnData);
    for (const m of members) this.operators.set(bytesToHex(m.blsPubkey), m.operator);
    return members;
  }
}
