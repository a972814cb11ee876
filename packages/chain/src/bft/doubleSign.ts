import { type BlsSecretKey, blsSign, keccak256 } from "@zgnode/crypto";
import { bytesToHex } from "@zgnode/utils";
import { voteSignBytes } from "../consensus/codec.ts";
import type { ConsensusSigner } from "../consensus/privval.ts";
import { type Proposal, type Vote, VoteType } from "../consensus/types.ts";

/**
 * TEST ONLY: a byzantine signer. It signs every prevote through the real privval, then signs a second, conflicting
 * prevote for the same height and round with the raw key (bypassing the double-sign guard) and hands it to
 * `publish`. Honest validators that receive both votes produce duplicate-vote evidence. The node refuses to build
 * this unless ZGNODE_ENABLE_TEST_FLAGS=1.
 */
export class DoubleSigningSigner implements ConsensusSigner {
  readonly publicKey: Uint8Array;
  private readonly inner: ConsensusSigner;
  private readonly secretKey: BlsSecretKey;
  private readonly chainId: bigint;
  private readonly publish: (vote: Vote) => void;

  constructor(inner: ConsensusSigner, secretKey: BlsSecretKey, chainId: bigint, publish: (vote: Vote) => void) {
    this.inner = inner;
    this.publicKey = inner.publicKey;
    this.secretKey = secretKey;
    this.chainId = chainId;
    this.publish = publish;
  }

  async signVote(vote: Vote): Promise<Vote> {
    const signed = await this.inner.signVote(vote);
    if (vote.type === VoteType.PREVOTE) {
      const otherId = vote.blockId === null ? bytesToHex(keccak256(Uint8Array.of(vote.height & 0xff, vote.round & 0xff))) : null;
      const conflicting: Vote = { ...vote, blockId: otherId, signature: new Uint8Array(0) };
      conflicting.signature = blsSign(this.secretKey, voteSignBytes(this.chainId, conflicting));
      this.publish(conflicting);
    }
    return signed;
  }

  signProposal(proposal: Proposal): Promise<Proposal> {
    return this.inner.signProposal(proposal);
  }
}
