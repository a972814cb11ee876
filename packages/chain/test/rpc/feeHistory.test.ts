import { describe, expect, it } from "vitest";
import { buildFeeHistory, checkPercentiles, percentileRewards } from "../../src/rpc/feeHistory.ts";

describe("fee history", () => {
  it("picks rewards at gas-weighted percentiles", () => {
    // Sorted by reward: 1 (21k gas), 5 (21k), 9 (58k) out of 100k used.
    const txs = [
      { reward: 9n, gasUsed: 58_000n },
      { reward: 1n, gasUsed: 21_000n },
      { reward: 5n, gasUsed: 21_000n },
    ];
    expect(percentileRewards(txs, 100_000n, [0, 20, 21, 30, 42, 43, 100])).toEqual([1n, 1n, 1n, 5n, 5n, 9n, 9n]);
    expect(percentileRewards([], 0n, [10, 90])).toEqual([0n, 0n]);
  });

  it("validates percentiles like geth", () => {
    expect(checkPercentiles([0, 50, 100])).toBeUndefined();
    expect(checkPercentiles([50, 10])).toMatch(/invalid reward percentile/);
    expect(checkPercentiles([101])).toMatch(/invalid reward percentile/);
    expect(checkPercentiles([-1])).toMatch(/invalid reward percentile/);
  });

  it("returns blockCount + 1 base fees and per-block ratios", () => {
    const block = { baseFeePerGas: 7n, gasUsed: 15n, gasLimit: 30n, blobBaseFee: 1n, blobGasUsed: 0n, maxBlobGas: 10n, txs: [] };
    const h = buildFeeHistory(4n, [block, { ...block, gasUsed: 30n, blobGasUsed: 5n }], 9n, 2n, [50]);
    expect(h.oldestBlock).toBe(4n);
    expect(h.baseFeePerGas).toEqual([7n, 7n, 9n]);
    expect(h.gasUsedRatio).toEqual([0.5, 1]);
    expect(h.baseFeePerBlobGas).toEqual([1n, 1n, 2n]);
    expect(h.blobGasUsedRatio).toEqual([0, 0.5]);
    expect(h.reward).toEqual([[0n], [0n]]);
    expect(buildFeeHistory(4n, [block], 9n, 2n, undefined).reward).toBeUndefined();
  });
});
