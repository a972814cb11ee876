/**
 * The staking contract's parameters (the Solidity `Staking.Params` struct), fixed at genesis. Wei amounts are
 * bigints; block counts, ppm fractions and counts are numbers.
 */
export interface StakingParams {
  /** Wei an operator must keep self-delegated to register and to stay eligible for the active set. */
  minSelfStake: bigint;
  /** Smallest `delegate()` value, wei. */
  minDelegation: bigint;
  /** Wei per block the chain adds to the block's fees when it calls `distributeRewards`. */
  blockReward: bigint;
  /** Blocks from `undelegate` until the entry can be withdrawn. */
  unbondingPeriod: number;
  /** Blocks per epoch; the chain calls `onEpochEnd()` when `number % epochLength == 0`. */
  epochLength: number;
  /** Blocks a slashed validator stays jailed before it may `unjail()`. */
  jailPeriod: number;
  /** Minimum blocks between two commission changes of one validator. */
  commissionChangeDelay: number;
  /** Largest commission change per `editValidator`, ppm. */
  maxCommissionChangePpm: number;
  /** Fraction of stake the chain slashes for a duplicate vote, ppm (0G: 2%). */
  slashFractionDoubleSignPpm: number;
  /** Size cap of the active validator set. */
  maxActiveValidators: number;
  /** Cap on registered validators; bounds the gas of `onEpochEnd()`. */
  maxValidatorCount: number;
  /** Pending unbonding entries per delegator; bounds the gas of `withdraw()`. */
  maxUnbondingEntries: number;
}

const ETHER = 10n ** 18n;

/**
 * Defaults follow 0G where it publishes a value (32 0G minimum stake, 2% double-sign slash, 200,000-block
 * unbonding, 125 validators); the rest are conservative choices for a 1 s block time.
 */
export const defaultStakingParams: StakingParams = {
  minSelfStake: 32n * ETHER,
  minDelegation: ETHER,
  blockReward: 2n * ETHER,
  unbondingPeriod: 200_000,
  epochLength: 100,
  jailPeriod: 10_000,
  commissionChangeDelay: 86_400,
  maxCommissionChangePpm: 10_000,
  slashFractionDoubleSignPpm: 20_000,
  maxActiveValidators: 125,
  maxValidatorCount: 256,
  maxUnbondingEntries: 32,
};
