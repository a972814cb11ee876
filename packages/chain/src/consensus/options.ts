/**
 * Round-scaled timeouts (value for round r = base + r x delta, as in CometBFT's config.go). CometBFT's defaults
 * (3 s propose, 1 s votes, 1 s commit) give ~1-2 s blocks; ours target <= 1 s on a LAN, so the bases are smaller
 * while the deltas still grow them enough to reach a round in which the network is synchronous.
 */
export interface ConsensusTimeouts {
  proposeMs: number;
  proposeDeltaMs: number;
  prevoteMs: number;
  prevoteDeltaMs: number;
  precommitMs: number;
  precommitDeltaMs: number;
  /** Pause between deciding a height and starting round 0 of the next (collects straggler precommits). */
  commitMs: number;
  /** Period at which own signed messages are re-sent while a height is undecided. */
  rebroadcastMs: number;
}

export const defaultConsensusTimeouts: ConsensusTimeouts = {
  proposeMs: 1000,
  proposeDeltaMs: 500,
  prevoteMs: 300,
  prevoteDeltaMs: 200,
  precommitMs: 300,
  precommitDeltaMs: 200,
  commitMs: 200,
  rebroadcastMs: 1000,
};

export interface ConsensusEngineOptions {
  timeouts: ConsensusTimeouts;
  /** Messages for the next height kept until it starts (a flood beyond this is dropped). */
  maxFutureMessages: number;
  /** Votes this many rounds beyond the current round are ignored, bounding memory under byzantine spam. */
  maxRoundsAhead: number;
  /** Distinct proposals kept per round (an equivocating proposer cannot grow memory without bound). */
  maxProposalsPerRound: number;
}

export const defaultConsensusEngineOptions: ConsensusEngineOptions = {
  timeouts: defaultConsensusTimeouts,
  maxFutureMessages: 10_000,
  maxRoundsAhead: 1_000,
  maxProposalsPerRound: 4,
};
