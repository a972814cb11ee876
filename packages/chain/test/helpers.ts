import { createTx, type TypedTransaction } from "@ethereumjs/tx";
import { hexToBytes } from "@zgnode/utils";
import type { Chain } from "../src/chain.ts";
import { DEV_ACCOUNTS } from "../src/devAccounts.ts";

export const ALICE = DEV_ACCOUNTS[0];
export const BOB = DEV_ACCOUNTS[1];
export const CAROL = DEV_ACCOUNTS[2];

/** A signed EIP-1559 transfer on the dev chain. */
export function transfer(
  chain: Chain,
  opts: {
    from?: { privateKey: string };
    to?: string | undefined;
    nonce: bigint;
    value?: bigint;
    maxFee?: bigint;
    tip?: bigint;
    gasLimit?: bigint;
    data?: Uint8Array;
  },
): TypedTransaction {
  const key = hexToBytes((opts.from ?? ALICE).privateKey);
  return createTx(
    {
      type: 2,
      chainId: chain.chainId,
      nonce: opts.nonce,
      to: ("to" in opts ? opts.to : BOB.address) as `0x${string}` | undefined,
      value: opts.value ?? 1000n,
      gasLimit: opts.gasLimit ?? 21000n,
      maxFeePerGas: opts.maxFee ?? 10_000_000_000n,
      maxPriorityFeePerGas: opts.tip ?? 1_000_000_000n,
      data: opts.data,
    },
    { common: chain.common },
  ).sign(key);
}
