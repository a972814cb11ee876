import { open, readFile, rename } from "node:fs/promises";
import { dirname } from "node:path";
import { type BlsSecretKey, blsSign } from "@zgnode/crypto";
import { bytesToHex, CodedError, type Hex, hexToBytes } from "@zgnode/utils";
import { proposalSignBytes, voteSignBytes } from "./codec.ts";
import { ConsensusErrorCode } from "./errors.ts";
import { type Proposal, Step, type Vote, VoteType } from "./types.ts";

/** What the validator signed last (CometBFT's LastSignState). Steps: propose 1, prevote 2, precommit 3. */
export interface LastSignState {
  height: number;
  round: number;
  step: number;
  signBytes: Hex;
  signature: Hex;
}

export type SignDecision = { action: "sign" } | { action: "reuse"; signature: Uint8Array };

/**
 * The double-sign guard as a pure function. Signing below the last (height, round, step) is refused; at the same
 * HRS only the identical sign bytes may be signed again (the stored signature is returned, so a restarted node that
 * replays its WAL re-emits exactly what it sent before); anything else is a conflicting signature and refused.
 */
export function checkSignRequest(
  last: LastSignState | undefined,
  height: number,
  round: number,
  step: number,
  signBytes: Uint8Array,
): SignDecision {
  if (!last) return { action: "sign" };
  const cmp = compareHrs(height, round, step, last);
  if (cmp > 0) return { action: "sign" };
  if (cmp < 0) {
    throw new CodedError(
      ConsensusErrorCode.DOUBLE_SIGN,
      `refusing to sign ${height}/${round}/${step}: already signed ${last.height}/${last.round}/${last.step}`,
    );
  }
  if (bytesToHex(signBytes) === last.signBytes) return { action: "reuse", signature: hexToBytes(last.signature) };
  throw new CodedError(ConsensusErrorCode.DOUBLE_SIGN, `conflicting data at ${height}/${round}/${step}`);
}

function compareHrs(height: number, round: number, step: number, last: LastSignState): number {
  return height - last.height || round - last.round || step - last.step;
}

export function voteStep(type: VoteType): number {
  return type === VoteType.PREVOTE ? Step.PREVOTE : Step.PRECOMMIT;
}

/** Signs consensus messages. The driver calls it only after the WAL holds everything that led to the message. */
export interface ConsensusSigner {
  readonly publicKey: Uint8Array;
  signVote(vote: Vote): Promise<Vote>;
  signProposal(proposal: Proposal): Promise<Proposal>;
}

/**
 * A file-backed private validator: the BLS key plus the last-sign record, which is written to a temporary file,
 * fsynced, renamed over the old one and the directory fsynced BEFORE a signature is released, so after a crash
 * at any point the node cannot sign something that conflicts with what it may already have sent.
 */
export class FilePrivValidator implements ConsensusSigner {
  readonly publicKey: Uint8Array;
  readonly path: string;
  private readonly secretKey: BlsSecretKey;
  private readonly chainId: bigint;
  private last: LastSignState | undefined;
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(path: string, secretKey: BlsSecretKey, chainId: bigint, last: LastSignState | undefined) {
    this.path = path;
    this.secretKey = secretKey;
    this.chainId = chainId;
    this.last = last;
    this.publicKey = secretKey.toPublicKey().toBytes();
  }

  static async open(path: string, secretKey: BlsSecretKey, chainId: bigint): Promise<FilePrivValidator> {
    let last: LastSignState | undefined;
    let raw: string | undefined;
    try {
      raw = await readFile(path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    if (raw !== undefined) {
      try {
        last = JSON.parse(raw) as LastSignState;
      } catch (err) {
        throw new CodedError(ConsensusErrorCode.PRIVVAL_CORRUPT, `unreadable last-sign state ${path}`, undefined, {
          cause: err,
        });
      }
      if (![last.height, last.round, last.step].every(Number.isSafeInteger))
        throw new CodedError(ConsensusErrorCode.PRIVVAL_CORRUPT, `invalid last-sign state ${path}`);
    }
    return new FilePrivValidator(path, secretKey, chainId, last);
  }

  get lastSignState(): LastSignState | undefined {
    return this.last;
  }

  signVote(vote: Vote): Promise<Vote> {
    const bytes = voteSignBytes(this.chainId, vote);
    return this.serial(async () => ({
      ...vote,
      signature: await this.sign(vote.height, vote.round, voteStep(vote.type), bytes),
    }));
  }

  signProposal(proposal: Proposal): Promise<Proposal> {
    const bytes = proposalSignBytes(this.chainId, proposal);
    return this.serial(async () => ({
      ...proposal,
      signature: await this.sign(proposal.height, proposal.round, Step.PROPOSE, bytes),
    }));
  }

  /** Requests are serialized so two concurrent calls cannot both pass the check before either is persisted. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async sign(height: number, round: number, step: number, signBytes: Uint8Array): Promise<Uint8Array> {
    const decision = checkSignRequest(this.last, height, round, step, signBytes);
    if (decision.action === "reuse") return decision.signature;
    const signature = blsSign(this.secretKey, signBytes);
    const next: LastSignState = { height, round, step, signBytes: bytesToHex(signBytes), signature: bytesToHex(signature) };
    await writeFileDurable(this.path, JSON.stringify(next));
    this.last = next;
    return signature;
  }
}

/** Atomically replaces `path`: write a temp file, fsync it, rename, fsync the directory. */
export async function writeFileDurable(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, "w");
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  const dir = await open(dirname(path), "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
