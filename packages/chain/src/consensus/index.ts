export * from "./codec.ts";
export { ConsensusEngine, type ProposalValidator } from "./engine.ts";
export { ConsensusErrorCode } from "./errors.ts";
export * from "./options.ts";
export * from "./privval.ts";
export * from "./types.ts";
export * from "./validators.ts";
export { RoundVotes, VoteSet } from "./voteSet.ts";
