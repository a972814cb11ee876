import { Counter, Gauge, Histogram, type Registry } from "@zgnode/utils";

export type ConsensusMetrics = ReturnType<typeof createConsensusMetrics>;

export function createConsensusMetrics(registry: Registry) {
  const registers = [registry];
  return {
    height: new Gauge({ name: "zgnode_consensus_height", help: "Height being decided", registers }),
    round: new Gauge({ name: "zgnode_consensus_round", help: "Round of the current height", registers }),
    commits: new Counter({ name: "zgnode_consensus_commits_total", help: "Heights committed by consensus", registers }),
    synced: new Counter({ name: "zgnode_consensus_synced_blocks_total", help: "Blocks applied from block sync", registers }),
    blockSeconds: new Histogram({
      name: "zgnode_consensus_block_seconds",
      help: "Time from entering a height to committing it",
      buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10],
      registers,
    }),
    invalidMessages: new Counter({
      name: "zgnode_consensus_invalid_messages_total",
      help: "Consensus messages rejected (bad signature, not a validator, malformed)",
      labelNames: ["kind"] as const,
      registers,
    }),
    evidence: new Counter({ name: "zgnode_consensus_evidence_total", help: "Equivocations detected", registers }),
    signRefused: new Counter({
      name: "zgnode_consensus_sign_refused_total",
      help: "Sign requests refused by the double-sign guard",
      registers,
    }),
  };
}
