export { ContractsErrorCode } from "./errors.ts";
export {
  descriptionTuple,
  emptyDescription,
  expandProofOfPossession,
  type GenesisAccount,
  type GenesisAlloc,
  type GenesisValidator,
  STAKING_POP_LENGTH,
  type StakingDescription,
  stakingCreationCode,
  stakingGenesisAlloc,
  stakingParamsTuple,
} from "./genesis.ts";
export { type ContractsMetrics, createContractsMetrics } from "./metrics.ts";
export { defaultStakingParams, type StakingParams } from "./options.ts";
export {
  PPM,
  STAKING_ADDRESS,
  SYSTEM_ADDRESS,
  stakingAbi,
  stakingBytecode,
  stakingDeployedBytecode,
  stakingInterface,
} from "./staking.ts";
export {
  applyStakingBlockStart,
  applyStakingEpochEnd,
  type EquivocationSlash,
  readActiveValidatorSet,
  readStakingParams,
  runStakingSystemCall,
  SYSTEM_CALL_GAS_LIMIT,
  type SystemCallBlock,
  type SystemCallResult,
} from "./systemCall.ts";
export {
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
  type StakingSetMember,
} from "./systemCalls.ts";
