import type { GenesisState } from "@ethereumjs/common";
import { type GenesisAlloc, type GenesisValidator, type StakingParams, stakingGenesisAlloc } from "@zgnode/contracts";
import { type Hex, toQuantity } from "@zgnode/utils";
import { createDevGenesis, DEV_GAS_LIMIT, type GenesisSpec } from "../genesis.ts";
import { BftError, BftErrorCode } from "./errors.ts";

/**
 * The shared genesis of a BFT network as written to `genesis.json`: chain id, header fields and the complete
 * allocation in geth's `alloc` shape, including the staking contract (code and storage) with the genesis
 * validators. Every node builds the identical block 0 from it.
 */
export interface BftGenesisFile {
  chainId: number;
  timestamp: number;
  gasLimit: Hex;
  alloc: GenesisAlloc;
}

export async function createBftGenesisFile(args: {
  chainId: number;
  validators: GenesisValidator[];
  /** Funded accounts (hex address -> wei). */
  balances: Record<string, bigint>;
  staking?: Partial<StakingParams>;
  timestamp?: number;
  gasLimit?: bigint;
}): Promise<BftGenesisFile> {
  const staking = await stakingGenesisAlloc(args.staking, args.validators);
  const alloc: GenesisAlloc = {};
  for (const [addr, bal] of Object.entries(args.balances))
    alloc[addr.toLowerCase() as Hex] = { balance: toQuantity(bal), nonce: "0x0", code: "0x", storage: {} };
  Object.assign(alloc, staking);
  return {
    chainId: args.chainId,
    timestamp: args.timestamp ?? 0,
    gasLimit: toQuantity(args.gasLimit ?? DEV_GAS_LIMIT),
    alloc,
  };
}

/** The execution genesis (Prague, system contracts) for a `genesis.json` written by `createBftGenesisFile`. */
export function bftGenesisSpec(file: BftGenesisFile): GenesisSpec {
  if (!Number.isSafeInteger(file.chainId) || typeof file.alloc !== "object" || file.alloc === null)
    throw new BftError(BftErrorCode.INVALID_PAYLOAD, "genesis.json needs chainId and alloc");
  const spec = createDevGenesis({
    chainId: BigInt(file.chainId),
    alloc: {},
    timestamp: BigInt(file.timestamp ?? 0),
    gasLimit: BigInt(file.gasLimit ?? DEV_GAS_LIMIT),
  });
  const alloc: GenesisState = spec.alloc;
  for (const [addr, a] of Object.entries(file.alloc)) {
    alloc[addr.toLowerCase() as Hex] = [
      a.balance,
      (a.code || "0x") as Hex,
      Object.entries(a.storage ?? {}).map(([k, v]) => [k as Hex, v as Hex]),
      a.nonce || "0x0",
    ];
  }
  spec.header.extraData = new TextEncoder().encode("zgnode bft");
  return spec;
}
