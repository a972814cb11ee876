// The consensus pieces a node composes, flat beside the bft ones (also reachable as the `consensus` namespace).
export { type SyncedBlock, verifySyncedBlock } from "../consensus/blockSync.ts";
export { buildCommitCertificate, verifyCommitCertificate } from "../consensus/certificate.ts";
export {
  type ConsensusBlockSource,
  ConsensusDriver,
  type ConsensusDriverOptions,
  type ConsensusTransport,
  defaultConsensusDriverOptions,
} from "../consensus/driver.ts";
export { type ConsensusMetrics, createConsensusMetrics } from "../consensus/metrics.ts";
export { type ConsensusTimeouts, defaultConsensusEngineOptions, defaultConsensusTimeouts } from "../consensus/options.ts";
export { type ConsensusSigner, FilePrivValidator } from "../consensus/privval.ts";
export type { CommitCertificate, DuplicateVoteEvidence, Proposal, Vote } from "../consensus/types.ts";
export { ValidatorSet } from "../consensus/validators.ts";
export { ConsensusWal } from "../consensus/wal.ts";
export { ChainBlockSource, type ChainBlockSourceDeps } from "./blockSource.ts";
export { DoubleSigningSigner } from "./doubleSign.ts";
export { BftError, BftErrorCode } from "./errors.ts";
export { EVIDENCE_MAX_AGE, EvidencePool } from "./evidencePool.ts";
export { type BftGenesisFile, bftGenesisSpec, createBftGenesisFile } from "./genesis.ts";
export * from "./options.ts";
export { type BftPayload, decodePayload, encodePayload, evidenceHash, evidenceRoot, payloadBlockId } from "./payload.ts";
export { CertifiedBlockStore } from "./store.ts";
export { createStakingBlockStartHook, type StakingHookDeps, SYSTEM_CALL_GAS } from "./systemCalls.ts";
export { NetworkTransport, type NetworkTransportDeps, type PeerStatus } from "./transport.ts";
export { StakingValidatorSets } from "./validatorSets.ts";
export { CatchUpWatchdog } from "./watchdog.ts";
