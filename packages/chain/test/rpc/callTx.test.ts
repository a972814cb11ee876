import { createBlock } from "@ethereumjs/block";
import { Common, Hardfork, Mainnet } from "@ethereumjs/common";
import { MerkleStateManager } from "@ethereumjs/statemanager";
import { TransactionType, type TypedTransaction } from "@ethereumjs/tx";
import { Account, type Address, createAddressFromString } from "@ethereumjs/util";
import { createVM, runTx, type VM } from "@ethereumjs/vm";
import { bytesToHex, hexToBytes, RpcError } from "@zgnode/utils";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type CallArgs, callBlock, callTransaction } from "../../src/rpc/call.ts";

// callTransaction builds legacy and EIP-1559 call txs from a per-VM template (fastCallTx); the txs must behave
// exactly like ones built by createTx from the same fields (the slow path it replaces).

const SENDER = createAddressFromString("0x00000000000000000000000000000000000e0a00");
const CONTRACT = createAddressFromString("0x00000000000000000000000000000000000c0a00");
// Returns slot 0 plus CALLVALUE, GASPRICE, CALLDATASIZE and ORIGIN: what a call can observe of its tx.
const CODE = "0x60005460005234602052 3a604052 36606052 32608052 60a06000f3".replaceAll(" ", "");

async function setup(): Promise<VM> {
  const common = new Common({ chain: Mainnet, hardfork: Hardfork.Prague });
  const sm = new MerkleStateManager({ common });
  await sm.putAccount(SENDER, new Account(4n, 10n ** 18n));
  await sm.putAccount(CONTRACT, new Account(1n, 0n));
  await sm.putCode(CONTRACT, hexToBytes(CODE));
  await sm.putStorage(CONTRACT, new Uint8Array(32), new Uint8Array([7]));
  return createVM({ common, stateManager: sm });
}

async function execute(vm: VM, tx: TypedTransaction, env: Parameters<typeof runTx>[1]["block"]): Promise<unknown> {
  await vm.stateManager.checkpoint();
  try {
    const r = await runTx(vm, {
      tx,
      block: env,
      skipNonce: true,
      skipBlockGasLimitValidation: true,
      skipHardForkValidation: true,
    });
    const sender = await vm.stateManager.getAccount(SENDER);
    return [
      bytesToHex(r.execResult.returnValue),
      r.totalGasSpent,
      r.amountSpent,
      r.execResult.exceptionError?.error,
      sender?.balance,
    ];
  } catch (err) {
    return String(err).replace(/ \(tx type=.*$/s, "");
  } finally {
    await vm.stateManager.revert();
  }
}

describe("callTransaction's template txs", () => {
  it("behave like createTx txs with the same fields", async () => {
    const vm = await setup();
    const block = createBlock(
      { header: { number: 5n, timestamp: 1_700_000_000n, gasLimit: 30_000_000n, baseFeePerGas: 7n } },
      { common: vm.common },
    );
    const fee = fc.option(fc.bigInt(0n, 20n), { nil: undefined });
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          to: fc.constantFrom<Address | undefined>(CONTRACT, SENDER, undefined),
          value: fc.bigInt(0n, 10n ** 15n),
          data: fc.uint8Array({ maxLength: 40 }),
          gas: fc.bigInt(20_000n, 200_000n),
          nonce: fc.option(fc.bigInt(0n, 9n), { nil: undefined }),
          gasPrice: fee,
          maxFeePerGas: fee,
          maxPriorityFeePerGas: fee,
        }),
        async (a) => {
          const args: CallArgs = {
            from: SENDER,
            to: a.to,
            gas: a.gas,
            gasPrice: a.maxFeePerGas === undefined && a.maxPriorityFeePerGas === undefined ? a.gasPrice : undefined,
            maxFeePerGas: a.maxFeePerGas,
            maxPriorityFeePerGas: a.maxPriorityFeePerGas,
            maxFeePerBlobGas: undefined,
            value: a.value,
            data: a.to === undefined ? hexToBytes("0x600160005500") : a.data,
            nonce: a.nonce,
            type: undefined,
            accessList: undefined,
            blobVersionedHashes: undefined,
            authorizationList: undefined,
          };
          const env = callBlock(block, args, vm);
          const build = (template: boolean) =>
            callTransaction(vm, env, args, a.gas, TransactionType.Legacy, template).then(
              (tx) => ({ tx, err: undefined }),
              (err: unknown) => ({ tx: undefined, err: err instanceof RpcError ? err.message : String(err) }),
            );
          const [f, s] = await Promise.all([build(true), build(false)]);
          if (f.tx === undefined || s.tx === undefined) {
            // Priority fee above max fee: both refuse (the template path with geth's wording, checked first).
            expect(f.err).toMatch(/max priority fee per gas higher than max fee per gas/);
            expect(s.err).toMatch(/maxFeePerGas cannot be less than maxPriorityFeePerGas/);
            return;
          }
          const fast = f.tx;
          const slow = s.tx;
          // The template path was taken: the tx's prototype is a template instance, not the class prototype.
          expect(Object.getPrototypeOf(fast)).toBeInstanceOf(slow.constructor);
          expect(fast.getIntrinsicGas()).toBe(slow.getIntrinsicGas());
          expect(fast.getUpfrontCost(7n)).toBe(slow.getUpfrontCost(7n));
          expect(fast.toCreationAddress()).toBe(slow.toCreationAddress());
          expect(fast.getSenderAddress().equals(slow.getSenderAddress())).toBe(true);
          expect(await execute(vm, fast, env)).toEqual(await execute(vm, slow, env));
        },
      ),
      { numRuns: 200 },
    );
  });
});
