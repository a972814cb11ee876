import { Histogram, type Registry } from "@zgnode/utils";

export interface ContractsMetrics {
  /** Time to build the staking genesis account in the scratch EVM. */
  genesisBuildSeconds: Histogram;
}

export function createContractsMetrics(registry: Registry): ContractsMetrics {
  return {
    genesisBuildSeconds: new Histogram({
      name: "zgnode_contracts_genesis_build_seconds",
      help: "Time to run the staking constructor in a scratch EVM and dump its account",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}
