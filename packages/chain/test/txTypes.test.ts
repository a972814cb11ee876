import { createTx } from "@ethereumjs/tx";
import { eoaCode7702SignAuthorization } from "@ethereumjs/util";
import { MemoryStore } from "@zgnode/db";
import { bytesToHex, hexToBytes } from "@zgnode/utils";
import { describe, expect, it } from "vitest";
import { Chain } from "../src/chain.ts";
import { createDevGenesis } from "../src/genesis.ts";
import { serializeBlock } from "../src/rawTx.ts";
import { LocalSealer } from "../src/sealer.ts";
import { TxPool } from "../src/txPool.ts";
import { ALICE, BOB, CAROL } from "./helpers.ts";

describe("transaction types through pool, sealer and import", () => {
  it("includes types 0 (EIP-155), 1, 2 and 4 (EIP-7702) and re-validates the block elsewhere", async () => {
    const chain = await Chain.open({ db: new MemoryStore(), genesis: createDevGenesis() });
    const pool = new TxPool(chain);
    const sealer = new LocalSealer(chain, pool, { mode: "manual" });
    const key = hexToBytes(ALICE.privateKey);
    const common = chain.common;
    const legacy = createTx(
      { type: 0, nonce: 0n, gasPrice: 5n * 10n ** 9n, gasLimit: 21000n, to: BOB.address as `0x${string}`, value: 1n },
      { common },
    ).sign(key);
    const accessList = createTx(
      {
        type: 1,
        chainId: 8888n,
        nonce: 1n,
        gasPrice: 5n * 10n ** 9n,
        gasLimit: 30000n,
        to: BOB.address as `0x${string}`,
        value: 2n,
        accessList: [{ address: CAROL.address as `0x${string}`, storageKeys: [`0x${"00".repeat(32)}`] }],
      },
      { common },
    ).sign(key);
    const feeMarket = createTx(
      {
        type: 2,
        chainId: 8888n,
        nonce: 2n,
        maxFeePerGas: 5n * 10n ** 9n,
        maxPriorityFeePerGas: 1n,
        gasLimit: 21000n,
        to: BOB.address as `0x${string}`,
        value: 3n,
      },
      { common },
    ).sign(key);
    // BOB delegates his account code to CAROL's (empty) account: a set-code transaction sent by ALICE.
    const auth = eoaCode7702SignAuthorization(
      { chainId: "0x22b8", address: CAROL.address as `0x${string}`, nonce: "0x0" },
      hexToBytes(BOB.privateKey),
    );
    const setCode = createTx(
      {
        type: 4,
        chainId: 8888n,
        nonce: 3n,
        maxFeePerGas: 5n * 10n ** 9n,
        maxPriorityFeePerGas: 1n,
        gasLimit: 100_000n,
        to: BOB.address as `0x${string}`,
        authorizationList: [auth],
      },
      { common },
    ).sign(key);
    for (const tx of [legacy, accessList, feeMarket, setCode]) await pool.addRaw(tx.serialize());
    const { block, receipts, rejected } = await sealer.sealNow();
    expect(rejected).toEqual([]);
    expect(block.transactions.map((t) => t.type)).toEqual([0, 1, 2, 4]);
    expect(receipts.map((r) => r.status)).toEqual([1, 1, 1, 1]);
    expect(receipts.map((r) => r.type)).toEqual([0, 1, 2, 4]);
    // The stored encoding reuses the admitted bytes: it must be the block's own encoding.
    expect(bytesToHex(serializeBlock(block))).toBe(bytesToHex(block.serialize()));
    expect(receipts[0].effectiveGasPrice).toBe(5n * 10n ** 9n);
    expect(receipts[2].effectiveGasPrice).toBe(block.header.baseFeePerGas! + 1n);
    // EIP-7702: BOB's code is now the delegation designator 0xef0100 || CAROL.
    const code = await (await chain.stateAt()).getCode(hexToBytes(BOB.address));
    expect(bytesToHex(code)).toBe(`0xef0100${CAROL.address.slice(2).toLowerCase()}`);
    const other = await Chain.open({ db: new MemoryStore(), genesis: createDevGenesis() });
    await other.importBlock(block);
    expect(bytesToHex(other.head.hash())).toBe(bytesToHex(block.hash()));
  });
});
