import type { BlockHeader } from "@ethereumjs/block";
import { Hardfork } from "@ethereumjs/common";

/**
 * Header rules that need the parent (the header constructor already checks field formats and, after the merge,
 * difficulty 0, nonce 0, empty uncle hash and extra data <= 32 bytes). Throws an Error naming the broken rule.
 */
export function validateHeaderAgainstParent(header: BlockHeader, parent: BlockHeader): void {
  if (header.number !== parent.number + 1n) throw new Error(`invalid number ${header.number} after ${parent.number}`);
  if (header.timestamp <= parent.timestamp) {
    throw new Error(`invalid timestamp ${header.timestamp}: not after parent ${parent.timestamp}`);
  }
  if (header.gasLimit >= 2n ** 63n) throw new Error(`gas limit ${header.gasLimit} above 2^63-1`);
  if (header.gasUsed > header.gasLimit) throw new Error(`gas used ${header.gasUsed} above gas limit ${header.gasLimit}`);
  header.validateGasLimit(parent);
  const common = header.common;
  if (common.isActivatedEIP(1559)) {
    const londonBlock = common.hardforkBlock(Hardfork.London);
    const expected = londonBlock !== null && header.number === londonBlock ? 1_000_000_000n : parent.calcNextBaseFee();
    if (header.baseFeePerGas !== expected) {
      throw new Error(`invalid base fee ${header.baseFeePerGas}, expected ${expected}`);
    }
  }
  if (common.isActivatedEIP(4844)) {
    const expected = parent.calcNextExcessBlobGas(common);
    if (header.excessBlobGas !== expected) {
      throw new Error(`invalid excess blob gas ${header.excessBlobGas}, expected ${expected}`);
    }
  }
  if (common.isActivatedEIP(7685) && header.requestsHash === undefined) {
    throw new Error("requestsHash missing after Prague");
  }
}
