import { Interface } from "ethers";
import { stakingAbi, stakingBytecode, stakingDeployedBytecode } from "./generated/staking.ts";

export { stakingAbi, stakingBytecode, stakingDeployedBytecode };

/** Fixed genesis address of the staking contract (0G's docs list 0x...1001 as the Staking precompile). */
export const STAKING_ADDRESS = "0x0000000000000000000000000000000000001001" as const;

/**
 * Sender of the chain's system calls (`slash`, `distributeRewards`, `onEpochEnd`), as EIP-4788 and EIP-2935 use
 * it. No key exists for it; the chain runs these calls itself at block start / epoch end.
 */
export const SYSTEM_ADDRESS = "0xfffffffffffffffffffffffffffffffffffffffe" as const;

/** Parts-per-million denominator for commission and slash fractions. */
export const PPM = 1_000_000;

/** ethers v6 interface over the typed ABI: encode calls, decode results, logs and custom errors. */
export const stakingInterface = new Interface(stakingAbi);
