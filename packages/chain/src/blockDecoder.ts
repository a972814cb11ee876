import { type Block, type BlockBytes, createBlockFromBytesArray } from "@ethereumjs/block";
import type { Common } from "@ethereumjs/common";
import { RLP } from "@ethereumjs/rlp";
import { bytesToBigInt } from "@ethereumjs/util";
import { createSharedCommon } from "./sharedCommon.ts";

/**
 * Decodes RLP blocks with one shared Common per fork. @ethereumjs otherwise clones the Common (and rebuilds its
 * parameter cache) for the header and again for every transaction: for a block of thousands of transactions that
 * dominates decoding. Decoded blocks must not change their Common's fork (nothing in the node does).
 */
export class BlockDecoder {
  private readonly common: Common;
  private readonly byFork = new Map<string, Common>();

  constructor(common: Common) {
    this.common = common.copy();
  }

  decode(bytes: Uint8Array): Block {
    return this.fromValues(RLP.decode(bytes) as unknown as BlockBytes);
  }

  fromValues(values: BlockBytes): Block {
    if (!Array.isArray(values) || !Array.isArray(values[0])) throw new Error("invalid block RLP: not a list of lists");
    const header = values[0] as Uint8Array[];
    if (!(header[8] instanceof Uint8Array) || !(header[11] instanceof Uint8Array)) {
      throw new Error("invalid block RLP: malformed header");
    }
    const fork = this.common.getHardforkBy({ blockNumber: bytesToBigInt(header[8]), timestamp: bytesToBigInt(header[11]) });
    let common = this.byFork.get(fork);
    if (!common) {
      const base = this.common.copy();
      base.setHardfork(fork);
      common = createSharedCommon(base);
      this.byFork.set(fork, common);
    }
    return createBlockFromBytesArray(values, { common });
  }
}
