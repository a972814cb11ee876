import type { Block, BlockBytes } from "@ethereumjs/block";
import { RLP } from "@ethereumjs/rlp";
import type { Chain } from "./chain.ts";
import { ChainError, ChainErrorCode } from "./errors.ts";

export interface ImportResult {
  /** Blocks newly added (already stored ones are skipped silently). */
  imported: number;
  /** Blocks refused by validation, with the reason; import continues after them. */
  rejected: { number: bigint | undefined; error: string }[];
}

/** Decodes one RLP-encoded block with the chain's fork schedule (throws on malformed input). */
export function decodeBlockRlp(chain: Chain, bytes: Uint8Array): Block {
  return chain.decodeBlock(bytes);
}

/** Splits a concatenation of RLP-encoded blocks (geth `export` / hive chain.rlp format). */
export function decodeRlpBlocks(chain: Chain, bytes: Uint8Array): Block[] {
  const blocks: Block[] = [];
  let rest = bytes;
  while (rest.length > 0) {
    let decoded: { data: unknown; remainder: Uint8Array };
    try {
      decoded = RLP.decode(rest, true) as unknown as { data: unknown; remainder: Uint8Array };
    } catch (err) {
      throw new ChainError(ChainErrorCode.INVALID_RLP, `cannot decode block #${blocks.length}: ${(err as Error).message}`);
    }
    if (!Array.isArray(decoded.data)) {
      throw new ChainError(ChainErrorCode.INVALID_RLP, `item #${blocks.length} is not an RLP list (not a block)`);
    }
    try {
      blocks.push(chain.blockFromValues(decoded.data as BlockBytes));
    } catch (err) {
      throw new ChainError(ChainErrorCode.INVALID_RLP, `cannot decode block #${blocks.length}: ${(err as Error).message}`);
    }
    rest = decoded.remainder;
  }
  return blocks;
}

/**
 * Executes and validates an RLP chain file against `chain` (full validation: header rules, roots, gas, state),
 * through the same `importBlock` path every block takes. Proof-of-work seals are not verified (hive's chains are
 * sealed with a fake ethash).
 */
export async function importRlpChain(chain: Chain, bytes: Uint8Array): Promise<ImportResult> {
  const result: ImportResult = { imported: 0, rejected: [] };
  const blocks = decodeRlpBlocks(chain, bytes);
  for (const block of blocks) {
    const before = chain.head;
    try {
      await chain.importBlock(block);
      if (chain.head !== before) result.imported++;
    } catch (err) {
      result.rejected.push({ number: block.header.number, error: (err as Error).message });
    }
  }
  return result;
}
