/**
 * eth_feeHistory math (geth's oracle): per block, the base fee, the gas-used ratio, and the effective priority
 * fee at each requested percentile, weighting each tx by the gas it used. Pure; the table feeds it blocks.
 */

export interface FeeHistoryTx {
  /** Effective priority fee per gas paid (min(tip, maxFee - baseFee)). */
  reward: bigint;
  gasUsed: bigint;
}

export interface FeeHistoryBlock {
  baseFeePerGas: bigint;
  gasUsed: bigint;
  gasLimit: bigint;
  blobBaseFee: bigint;
  blobGasUsed: bigint;
  maxBlobGas: bigint;
  txs: FeeHistoryTx[];
}

export interface FeeHistory {
  oldestBlock: bigint;
  baseFeePerGas: bigint[];
  gasUsedRatio: number[];
  baseFeePerBlobGas: bigint[];
  blobGasUsedRatio: number[];
  reward: bigint[][] | undefined;
}

export const MAX_FEE_HISTORY_BLOCKS = 1024;
export const MAX_REWARD_PERCENTILES = 100;

/** Validates percentiles: 0..100, non-decreasing (geth: "invalid reward percentile"). */
export function checkPercentiles(p: number[]): string | undefined {
  if (p.length > MAX_REWARD_PERCENTILES) return "too many percentiles";
  for (let i = 0; i < p.length; i++) {
    const v = p[i]!;
    if (!Number.isFinite(v) || v < 0 || v > 100) return `invalid reward percentile: ${v}`;
    if (i > 0 && v < p[i - 1]!) return `invalid reward percentile: #${i - 1}:${p[i - 1]} > #${i}:${v}`;
  }
  return undefined;
}

/** Rewards at each percentile of cumulative gas used; an empty block yields zeros. */
export function percentileRewards(txs: FeeHistoryTx[], blockGasUsed: bigint, percentiles: number[]): bigint[] {
  if (txs.length === 0) return percentiles.map(() => 0n);
  const sorted = [...txs].sort((a, b) => (a.reward < b.reward ? -1 : a.reward > b.reward ? 1 : 0));
  const out: bigint[] = [];
  let txIndex = 0;
  let sumGasUsed = sorted[0]!.gasUsed;
  for (const p of percentiles) {
    const threshold = (Number(blockGasUsed) * p) / 100;
    while (sumGasUsed < threshold && txIndex < sorted.length - 1) {
      txIndex++;
      sumGasUsed += sorted[txIndex]!.gasUsed;
    }
    out.push(sorted[txIndex]!.reward);
  }
  return out;
}

function ratio(used: bigint, limit: bigint): number {
  return limit === 0n ? 0 : Number(used) / Number(limit);
}

/**
 * Assembles the answer for consecutive blocks `blocks` (oldest first). `nextBaseFee` / `nextBlobBaseFee` are the
 * fees of the block after the newest (the extra trailing entry of baseFeePerGas / baseFeePerBlobGas).
 */
export function buildFeeHistory(
  oldestBlock: bigint,
  blocks: FeeHistoryBlock[],
  nextBaseFee: bigint,
  nextBlobBaseFee: bigint,
  percentiles: number[] | undefined,
): FeeHistory {
  return {
    oldestBlock,
    baseFeePerGas: [...blocks.map((b) => b.baseFeePerGas), nextBaseFee],
    gasUsedRatio: blocks.map((b) => ratio(b.gasUsed, b.gasLimit)),
    baseFeePerBlobGas: [...blocks.map((b) => b.blobBaseFee), nextBlobBaseFee],
    blobGasUsedRatio: blocks.map((b) => ratio(b.blobGasUsed, b.maxBlobGas)),
    reward: percentiles === undefined ? undefined : blocks.map((b) => percentileRewards(b.txs, b.gasUsed, percentiles)),
  };
}
