import { bytesToHex, CodedError, concatBytes, hexToBytes, utf8ToBytes } from "@zgnode/utils";
import { ConsensusErrorCode } from "./errors.ts";
import type { BlockId, CommitCertificate, EngineInput, Proposal, Timeout, TimeoutStep, Vote, VoteType } from "./types.ts";

/**
 * Canonical binary encodings. Sign bytes are domain-separated (a fixed prefix per message kind, then the chain id)
 * so a vote can never be replayed as a proposal, on another chain, or as any other BLS-signed message of the node.
 * They carry no timestamp, so every precommit for one (height, round, block) has identical sign bytes and the
 * commit certificate is a single aggregate signature checked with one fast-aggregate-verify.
 */
const VOTE_DOMAIN = utf8ToBytes("zgnode/consensus/vote/v1");
const PROPOSAL_DOMAIN = utf8ToBytes("zgnode/consensus/proposal/v1");
const NIL_ID = new Uint8Array(32);

export function voteSignBytes(
  chainId: bigint,
  v: { type: VoteType; height: number; round: number; blockId: BlockId | null },
): Uint8Array {
  const w = new ByteWriter();
  w.bytes(VOTE_DOMAIN).u64(chainId).u64(v.height).u32(v.round).u8(v.type);
  w.u8(v.blockId === null ? 0 : 1).bytes(v.blockId === null ? NIL_ID : blockIdBytes(v.blockId));
  return w.finish();
}

export function proposalSignBytes(
  chainId: bigint,
  p: { height: number; round: number; polRound: number; blockId: BlockId },
): Uint8Array {
  const w = new ByteWriter();
  w.bytes(PROPOSAL_DOMAIN)
    .u64(chainId)
    .u64(p.height)
    .u32(p.round)
    .u32(p.polRound + 1);
  w.bytes(blockIdBytes(p.blockId));
  return w.finish();
}

function blockIdBytes(id: BlockId): Uint8Array {
  const b = hexToBytes(id);
  if (b.length !== 32) throw new CodedError(ConsensusErrorCode.INVALID_MESSAGE, `block id must be 32 bytes: ${id}`);
  return b;
}

/** A growable little buffer writer (big-endian integers). */
export class ByteWriter {
  private parts: Uint8Array[] = [];

  u8(n: number): this {
    this.parts.push(Uint8Array.of(n & 0xff));
    return this;
  }

  u32(n: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n >>> 0);
    this.parts.push(b);
    return this;
  }

  u64(n: number | bigint): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(n));
    this.parts.push(b);
    return this;
  }

  bytes(b: Uint8Array): this {
    this.parts.push(b);
    return this;
  }

  /** Length-prefixed (u32) bytes. */
  varBytes(b: Uint8Array): this {
    return this.u32(b.length).bytes(b);
  }

  finish(): Uint8Array {
    return concatBytes(...this.parts);
  }
}

export class ByteReader {
  private readonly view: DataView;
  private readonly buf: Uint8Array;
  pos = 0;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new CodedError(ConsensusErrorCode.INVALID_MESSAGE, "message truncated");
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++];
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  u64(): number {
    this.need(8);
    const v = this.view.getBigUint64(this.pos);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new CodedError(ConsensusErrorCode.INVALID_MESSAGE, "integer too large");
    return Number(v);
  }

  bytes(n: number): Uint8Array {
    this.need(n);
    const b = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  varBytes(max = 64 * 1024 * 1024): Uint8Array {
    const n = this.u32();
    if (n > max) throw new CodedError(ConsensusErrorCode.INVALID_MESSAGE, `field of ${n} bytes exceeds ${max}`);
    return this.bytes(n);
  }

  end(): void {
    if (this.pos !== this.buf.length) throw new CodedError(ConsensusErrorCode.INVALID_MESSAGE, "trailing bytes");
  }
}

function readBlockId(r: ByteReader): BlockId {
  return bytesToHex(r.bytes(32));
}

export function writeVote(w: ByteWriter, v: Vote): ByteWriter {
  w.u8(v.type).u64(v.height).u32(v.round).u32(v.validatorIndex);
  w.u8(v.blockId === null ? 0 : 1).bytes(v.blockId === null ? NIL_ID : blockIdBytes(v.blockId));
  return w.varBytes(v.signature);
}

export function readVote(r: ByteReader): Vote {
  const type = r.u8();
  if (type !== 1 && type !== 2) throw new CodedError(ConsensusErrorCode.INVALID_MESSAGE, `unknown vote type ${type}`);
  const height = r.u64();
  const round = r.u32();
  const validatorIndex = r.u32();
  const hasId = r.u8();
  const id = readBlockId(r);
  const signature = r.varBytes(1024);
  return { type: type as VoteType, height, round, validatorIndex, blockId: hasId ? id : null, signature };
}

export function writeProposal(w: ByteWriter, p: Proposal): ByteWriter {
  w.u64(p.height)
    .u32(p.round)
    .u32(p.polRound + 1)
    .u32(p.proposerIndex)
    .bytes(blockIdBytes(p.blockId));
  return w.varBytes(p.payload).varBytes(p.signature);
}

export function readProposal(r: ByteReader): Proposal {
  const height = r.u64();
  const round = r.u32();
  const polRound = r.u32() - 1;
  const proposerIndex = r.u32();
  const blockId = readBlockId(r);
  const payload = r.varBytes();
  const signature = r.varBytes(1024);
  return { height, round, polRound, proposerIndex, blockId, payload, signature };
}

export function encodeVote(v: Vote): Uint8Array {
  return writeVote(new ByteWriter(), v).finish();
}

export function decodeVote(b: Uint8Array): Vote {
  const r = new ByteReader(b);
  const v = readVote(r);
  r.end();
  return v;
}

export function encodeProposal(p: Proposal): Uint8Array {
  return writeProposal(new ByteWriter(), p).finish();
}

export function decodeProposal(b: Uint8Array): Proposal {
  const r = new ByteReader(b);
  const p = readProposal(r);
  r.end();
  return p;
}

export function encodeCertificate(c: CommitCertificate): Uint8Array {
  const w = new ByteWriter().u64(c.height).u32(c.round).bytes(blockIdBytes(c.blockId));
  return w.varBytes(c.signature).varBytes(c.signers).finish();
}

export function readCertificate(r: ByteReader): CommitCertificate {
  const height = r.u64();
  const round = r.u32();
  const blockId = readBlockId(r);
  const signature = r.varBytes(1024);
  const signers = r.varBytes(1 << 16);
  return { height, round, blockId, signature, signers };
}

export function decodeCertificate(b: Uint8Array): CommitCertificate {
  const r = new ByteReader(b);
  const c = readCertificate(r);
  r.end();
  return c;
}

const TIMEOUT_STEPS: TimeoutStep[] = ["propose", "prevote", "precommit", "newHeight", "rebroadcast"];

/** Engine inputs as WAL records. */
export function encodeEngineInput(input: EngineInput): Uint8Array {
  const w = new ByteWriter();
  switch (input.type) {
    case "proposal":
      return writeProposal(w.u8(1), input.proposal).finish();
    case "vote":
      return writeVote(w.u8(2), input.vote).finish();
    case "timeout": {
      const t = input.timeout;
      return w.u8(3).u64(t.height).u32(t.round).u8(TIMEOUT_STEPS.indexOf(t.step)).finish();
    }
    case "blockBuilt":
      return w.u8(4).u64(input.height).u32(input.round).bytes(blockIdBytes(input.blockId)).varBytes(input.payload).finish();
  }
}

export function decodeEngineInput(b: Uint8Array): EngineInput {
  const r = new ByteReader(b);
  const tag = r.u8();
  let input: EngineInput;
  switch (tag) {
    case 1:
      input = { type: "proposal", proposal: readProposal(r) };
      break;
    case 2:
      input = { type: "vote", vote: readVote(r) };
      break;
    case 3: {
      const height = r.u64();
      const round = r.u32();
      const step = TIMEOUT_STEPS[r.u8()];
      if (!step) throw new CodedError(ConsensusErrorCode.INVALID_MESSAGE, "unknown timeout step");
      const timeout: Timeout = { height, round, step };
      input = { type: "timeout", timeout };
      break;
    }
    case 4: {
      const height = r.u64();
      const round = r.u32();
      const blockId = readBlockId(r);
      input = { type: "blockBuilt", height, round, blockId, payload: r.varBytes() };
      break;
    }
    default:
      throw new CodedError(ConsensusErrorCode.INVALID_MESSAGE, `unknown engine input tag ${tag}`);
  }
  r.end();
  return input;
}
