import { createBlock } from "@ethereumjs/block";
import { createTxFromRLP } from "@ethereumjs/tx";
import { createAccount, createAddressFromString } from "@ethereumjs/util";
import { runTx } from "@ethereumjs/vm";
import { bytesToHex, hexToBytes } from "@zgnode/utils";
import { Contract, Wallet } from "ethers";
import { describe, expect, it } from "vitest";
import { descriptionTuple, expandProofOfPossession, STAKING_ADDRESS, stakingAbi, stakingInterface } from "../src/index.ts";
import { ETHER, StakingHarness, validatorKey } from "./harness.ts";

describe("signed transactions", () => {
  it("an ethers Wallet registers a validator and delegates through real EIP-1559 transactions", async () => {
    const { harness: h } = await StakingHarness.create();
    const wallet = Wallet.createRandom();
    await h.vm.stateManager.putAccount(
      createAddressFromString(wallet.address),
      createAccount({ balance: 1_000n * ETHER, nonce: 0n }),
    );
    const contract = new Contract(STAKING_ADDRESS, stakingAbi);
    const chainId = h.common.chainId();
    const k = validatorKey(7);
    const block = createBlock(
      { header: { number: 10n, timestamp: 20n, gasLimit: 60_000_000n, baseFeePerGas: 7n } },
      { common: h.common },
    );

    const send = async (nonce: number, fn: string, args: unknown[], value: bigint) => {
      const populated = await contract.getFunction(fn).populateTransaction(...args, { value });
      const raw = await wallet.signTransaction({
        ...populated,
        type: 2,
        chainId,
        nonce,
        gasLimit: 1_000_000n,
        maxFeePerGas: 10n ** 9n,
        maxPriorityFeePerGas: 1n,
      });
      const tx = createTxFromRLP(hexToBytes(raw), { common: h.common });
      return runTx(h.vm, { tx, block, skipHardForkValidation: true });
    };

    const created = await send(
      0,
      "createValidator",
      [k.blsPubkey, expandProofOfPossession(k.pop), 0, descriptionTuple({})],
      20n * ETHER,
    );
    expect(created.execResult.exceptionError).toBeUndefined();
    const names = created.receipt.logs.map(
      ([, topics, data]) => stakingInterface.parseLog({ topics: topics.map((t) => bytesToHex(t)), data: bytesToHex(data) })?.name,
    );
    expect(names).toEqual(["ValidatorCreated", "Delegated"]);
    console.log(`createValidator transaction: ${created.totalGasSpent} gas`);

    const delegated = await send(1, "delegate", [validatorKey(0).operator], 3n * ETHER);
    expect(delegated.execResult.exceptionError).toBeUndefined();
    const again = await send(
      2,
      "createValidator",
      [k.blsPubkey, expandProofOfPossession(k.pop), 0, descriptionTuple({})],
      20n * ETHER,
    );
    expect(again.execResult.exceptionError).toBeDefined();
    expect(stakingInterface.parseError(bytesToHex(again.execResult.returnValue))?.name).toBe("ValidatorExists");

    const info = (await h.view("getValidator", [wallet.address]))[0];
    expect(bytesToHex(hexToBytes(info.blsPubkey))).toBe(bytesToHex(k.blsPubkey));
    expect((await h.view("getDelegation", [validatorKey(0).operator, wallet.address]))[1]).toBe(3n * ETHER);
  });
});
