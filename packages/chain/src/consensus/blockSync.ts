import type { ReqRespProtocol } from "@zgnode/network";
import { CodedError } from "@zgnode/utils";
import { verifyCommitCertificate } from "./certificate.ts";
import { ByteReader, ByteWriter, encodeCertificate, readCertificate } from "./codec.ts";
import { ConsensusErrorCode } from "./errors.ts";
import type { BlockId, CommitCertificate } from "./types.ts";
import type { ValidatorSet } from "./validators.ts";

/**
 * Block sync (`/zgnode/<chainId>/blocks_by_range/1`): a node that fell behind asks a peer for committed blocks
 * from `startHeight`; each comes with its commit certificate, and the follower verifies every certificate against
 * the validator set of that height (and that it certifies exactly this block) before it applies the block.
 */
export interface BlocksByRangeRequest {
  startHeight: number;
  count: number;
}

export interface SyncedBlock {
  /** The encoded block (the consensus payload). */
  payload: Uint8Array;
  certificate: CommitCertificate;
}

export const MAX_BLOCKS_PER_SYNC_REQUEST = 64;

export const blocksByRangeRequestCodec = {
  encode: (r: BlocksByRangeRequest) => new ByteWriter().u64(r.startHeight).u32(r.count).finish(),
  decode: (b: Uint8Array): BlocksByRangeRequest => {
    const r = new ByteReader(b);
    const req = { startHeight: r.u64(), count: r.u32() };
    r.end();
    if (req.startHeight < 1 || req.count < 1 || req.count > MAX_BLOCKS_PER_SYNC_REQUEST)
      throw new CodedError(ConsensusErrorCode.INVALID_MESSAGE, `bad blocks_by_range request ${req.startHeight}+${req.count}`);
    return req;
  },
};

export const syncedBlocksCodec = {
  encode: (blocks: SyncedBlock[]) => {
    const w = new ByteWriter().u32(blocks.length);
    for (const b of blocks) w.varBytes(b.payload).varBytes(encodeCertificate(b.certificate));
    return w.finish();
  },
  decode: (bytes: Uint8Array): SyncedBlock[] => {
    const r = new ByteReader(bytes);
    const n = r.u32();
    if (n > MAX_BLOCKS_PER_SYNC_REQUEST)
      throw new CodedError(ConsensusErrorCode.INVALID_MESSAGE, `${n} blocks in a sync response`);
    const out: SyncedBlock[] = [];
    for (let i = 0; i < n; i++) {
      const payload = r.varBytes();
      const cr = new ByteReader(r.varBytes(1 << 20));
      const certificate = readCertificate(cr);
      cr.end();
      out.push({ payload, certificate });
    }
    r.end();
    return out;
  },
};

/** The protocol table entry; `serve` reads committed blocks (and certificates) from the chain. */
export function blocksByRangeProtocol(
  serve: (req: BlocksByRangeRequest) => Promise<SyncedBlock[]>,
): ReqRespProtocol<BlocksByRangeRequest, SyncedBlock[]> {
  return {
    name: "blocks_by_range",
    version: 1,
    requestCodec: blocksByRangeRequestCodec,
    responseCodec: syncedBlocksCodec,
    handle: (req) => serve(req),
  };
}

/**
 * Checks one synced block before it is applied: it is the height we need, the certificate names this block (by the
 * id the chain computes from the payload) and > 2/3 of the height's validator stake signed it. Throws
 * CONSENSUS_SYNC_INVALID_RESPONSE or CONSENSUS_INVALID_CERTIFICATE.
 */
export function verifySyncedBlock(
  chainId: bigint,
  expectedHeight: number,
  set: ValidatorSet,
  block: SyncedBlock,
  blockIdOf: (payload: Uint8Array) => BlockId,
): void {
  const c = block.certificate;
  if (c.height !== expectedHeight)
    throw new CodedError(ConsensusErrorCode.SYNC_INVALID_RESPONSE, `expected height ${expectedHeight}, got ${c.height}`);
  const id = blockIdOf(block.payload);
  if (id !== c.blockId)
    throw new CodedError(ConsensusErrorCode.SYNC_INVALID_RESPONSE, `certificate is for ${c.blockId}, block is ${id}`);
  verifyCommitCertificate(chainId, set, c);
}
