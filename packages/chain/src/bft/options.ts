/** Options of the BFT block source (how a validator builds blocks and where rewards go). */
export interface BftBlockSourceOptions {
  /** Fee recipient of the blocks this node proposes: its operator (secp256k1) address. */
  coinbase: string;
  /** Most transactions taken from the pool per proposed block. */
  maxTxsPerBlock: number;
  /** Most equivocation evidences carried by one block. */
  maxEvidencePerBlock: number;
  /** Blocks of the staking epoch (the staking contract's `params.epochLength`); read from the contract when 0. */
  epochLength: number;
}

export const defaultBftBlockSourceOptions: BftBlockSourceOptions = {
  coinbase: "0x0000000000000000000000000000000000000000",
  maxTxsPerBlock: 5_000,
  maxEvidencePerBlock: 16,
  epochLength: 0,
};

/** Options of the network transport (gossip batching of transactions). */
export interface NetworkTransportOptions {
  /** Transactions per gossip message at most. */
  txBatchMax: number;
  /** Longest wait before a partial batch is published. */
  txBatchDelayMs: number;
}

export const defaultNetworkTransportOptions: NetworkTransportOptions = {
  txBatchMax: 256,
  txBatchDelayMs: 20,
};
