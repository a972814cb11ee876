import type { PrecompileFunc } from "@ethereumjs/evm";
import { RpcError, RpcErrorCode } from "@zgnode/utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { overridePrecompiles } from "../../src/rpc/simulate.ts";
import { resetNonces, startTestNode, type TestNode } from "./helpers.ts";

type Obj = Record<string, unknown>;

const SENDER = `0x${"c0".repeat(20)}`;
const EOA = `0x${"c1".repeat(20)}`;
/** LOG0 of nothing, then REVERT. */
const LOG_THEN_REVERT = `0x${"a1".repeat(20)}`;
/** LOG0 over 4 GiB of memory: out of gas at the log opcode itself. */
const LOG_OUT_OF_GAS = `0x${"a2".repeat(20)}`;
/** LOG0, STOP: fails at the LOG0 when called with STATICCALL. */
const LOG_ONLY = `0x${"a4".repeat(20)}`;
/** LOG0, CALL LOG_THEN_REVERT, STATICCALL LOG_ONLY, LOG1(topic 1), STOP. */
const LOG_CALL_LOG = `0x${"a3".repeat(20)}`;

/** Each call names its gas: a failed call uses all of it, and the default is the rest of the block. */
const GAS = "0x100000";
const TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";

describe("eth_simulateV1 logs", () => {
  let node: TestNode;

  beforeAll(async () => {
    resetNonces();
    node = await startTestNode();
  });

  afterAll(async () => {
    node.pool.close();
    await node.chain.close();
  });

  it("numbers logs block-wide, failed calls' logs using up indices, failed log opcodes not", async () => {
    const stateOverrides = {
      [SENDER]: { balance: "0xde0b6b3a7640000" },
      [LOG_THEN_REVERT]: { code: "0x60006000a060006000fd" },
      [LOG_OUT_OF_GAS]: { code: "0x63ffffffff6000a000" },
      [LOG_ONLY]: { code: "0x60006000a000" },
      [LOG_CALL_LOG]: {
        code: `0x60006000a0600060006000600060007${3}${LOG_THEN_REVERT.slice(2)}5af150600060006000600073${LOG_ONLY.slice(2)}5afa50600160006000a100`,
      },
    };
    const blocks = (await node.call(
      "eth_simulateV1",
      {
        blockStateCalls: [
          {
            stateOverrides,
            calls: [
              { from: SENDER, to: LOG_THEN_REVERT, gas: GAS },
              { from: SENDER, to: LOG_OUT_OF_GAS, gas: GAS },
              { from: SENDER, to: EOA, value: "0x1", gas: GAS },
              { from: SENDER, to: LOG_CALL_LOG, gas: GAS },
            ],
          },
          { calls: [{ from: SENDER, to: LOG_CALL_LOG, gas: GAS }] },
        ],
        traceTransfers: true,
      },
      "latest",
    )) as Obj[];
    const calls = blocks.map((b) => b.calls as { status: string; logs: Obj[] }[]);
    const [first, second] = calls;
    expect(first!.map((c) => c.status)).toEqual(["0x0", "0x0", "0x1", "0x1"]);
    expect(first![0]!.logs).toEqual([]);
    expect(first![1]!.logs).toEqual([]);
    // Index 0 went to the reverted call's log; the out-of-gas LOG0 never logged.
    expect(first![2]!.logs.map((l) => [l.logIndex, l.address, (l.topics as string[])[0]])).toEqual([
      ["0x1", `0x${"ee".repeat(20)}`, TRANSFER_TOPIC],
    ]);
    // The inner reverted frame's log took index 3 and is dropped; the static frame's LOG0 failed and took none.
    expect(first![3]!.logs.map((l) => [l.logIndex, l.address, (l.topics as string[]).length])).toEqual([
      ["0x2", LOG_CALL_LOG, 0],
      ["0x4", LOG_CALL_LOG, 1],
    ]);
    // The counter starts again in each block.
    expect(second![0]!.logs.map((l) => l.logIndex)).toEqual(["0x0", "0x2"]);
  });

  it("wraps the sender's nonce at 2^64 without validation and refuses a max nonce with it", async () => {
    const request = (validation: boolean) => ({
      blockStateCalls: [
        {
          stateOverrides: { [SENDER]: { nonce: "0xffffffffffffffff" } },
          calls: [
            { from: SENDER, to: EOA },
            { from: SENDER, to: EOA },
          ],
        },
      ],
      returnFullTransactions: true,
      validation,
    });
    const [block] = (await node.call("eth_simulateV1", request(false), "latest")) as Obj[];
    expect((block!.transactions as Obj[]).map((t) => t.nonce)).toEqual(["0xffffffffffffffff", "0x0"]);
    const err = await node.call("eth_simulateV1", request(true), "latest").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RpcError);
    expect((err as RpcError).code).toBe(-32603);
  });

  it("keeps the fork's precompiles warm and move targets cold, and starts each block from the fork's precompiles", async () => {
    const ecrecover = `0x${"00".repeat(19)}01`;
    const sha256 = `0x${"00".repeat(19)}02`;
    const target = `0x${"c4".repeat(20)}`;
    const probe = (addr: string) => `0x73${addr.slice(2)}3f00`; // EXTCODEHASH(addr), STOP
    const [one, two] = (await node.call(
      "eth_simulateV1",
      {
        blockStateCalls: [
          {
            stateOverrides: {
              [ecrecover]: { code: "0x00" },
              [sha256]: { movePrecompileToAddress: target },
              [`0x${"b1".repeat(20)}`]: { code: probe(ecrecover) },
              [`0x${"b2".repeat(20)}`]: { code: probe(target) },
            },
            calls: [
              { from: SENDER, to: `0x${"b1".repeat(20)}` },
              { from: SENDER, to: `0x${"b2".repeat(20)}` },
              { from: SENDER, to: target, input: "0x" },
            ],
          },
          { calls: [{ from: SENDER, to: target, input: "0x" }] },
        ],
      },
      "latest",
    )) as { calls: Obj[] }[];
    // 21000 + PUSH20 + EXTCODEHASH warm (100) / cold (2600).
    expect(one!.calls.map((c) => BigInt(c.gasUsed as string))).toEqual([21103n, 23603n, 21000n + 60n]);
    expect(one!.calls[2]!.returnData).toBe("0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    // The move was this block's only: the next block's target is a plain empty account.
    expect(two!.calls[0]).toMatchObject({ returnData: "0x", gasUsed: "0x5208" });
  });

  it("leaves the state alone for an override that only moves a precompile", async () => {
    const root = async (stateOverrides: Obj) =>
      ((await node.call("eth_simulateV1", { blockStateCalls: [{ stateOverrides }] }, "latest")) as Obj[])[0]!.stateRoot;
    expect(await root({ [`0x${"00".repeat(19)}01`]: { movePrecompileToAddress: `0x${"c5".repeat(20)}` } })).toBe(await root({}));
  });

  it("applies precompile overrides in geth's order and refuses bad moves", () => {
    const fn = (() => undefined) as unknown as PrecompileFunc;
    const other = (() => undefined) as unknown as PrecompileFunc;
    const a1 = `0x${"00".repeat(19)}01`;
    const a2 = `0x${"00".repeat(19)}02`;
    const c2 = `0x${"c2".repeat(20)}`;
    const pristine = new Map([
      [a1.slice(2), fn],
      [a2.slice(2), other],
    ]);
    const state = (...addrs: string[]) => new Map(addrs.map((a) => [a, {}]));
    const active = overridePrecompiles(pristine, state(a1, a2), new Map([[a1, c2]]));
    expect([...active]).toEqual([[c2.slice(2), fn]]);
    // The pristine map is not touched.
    expect(pristine.size).toBe(2);
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return (err as RpcError).code;
      }
      return undefined;
    };
    expect(code(() => overridePrecompiles(pristine, state(c2), new Map([[c2, a1]])))).toBe(RpcErrorCode.SERVER_ERROR);
    expect(code(() => overridePrecompiles(pristine, state(a1, c2), new Map([[a1, c2]])))).toBe(RpcErrorCode.SERVER_ERROR);
    expect(code(() => overridePrecompiles(pristine, state(a1), new Map([[a1, a1]])))).toBe(RpcErrorCode.SERVER_ERROR);
  });

  it("applies a blobBaseFee override to BLOBBASEFEE and to the blob fee, for its block only", async () => {
    const feeReader = `0x${"b3".repeat(20)}`;
    const balanceReader = `0x${"b4".repeat(20)}`;
    const run = async (blobBaseFee: string) => {
      const blocks = (await node.call(
        "eth_simulateV1",
        {
          blockStateCalls: [
            {
              blockOverrides: { blobBaseFee },
              stateOverrides: {
                [SENDER]: { balance: "0xde0b6b3a7640000" },
                [feeReader]: { code: "0x4a5f5260205ff3" }, // BLOBBASEFEE, return it
                [balanceReader]: { code: `0x73${SENDER.slice(2)}315f5260205ff3` }, // BALANCE(SENDER), return it
              },
              calls: [
                { from: SENDER, to: feeReader },
                {
                  from: SENDER,
                  to: EOA,
                  maxFeePerBlobGas: "0xa",
                  blobVersionedHashes: [`0x01${"11".repeat(31)}`],
                },
                { from: SENDER, to: balanceReader },
              ],
            },
            { calls: [{ from: SENDER, to: feeReader }] },
          ],
        },
        "latest",
      )) as { calls: { returnData: string }[] }[];
      return blocks.map((b) => b.calls.map((c) => c.returnData)).map((r) => r.map((d) => (d === "0x" ? d : BigInt(d))));
    };
    const free = await run("0x0");
    const paid = await run("0x2");
    expect(free[0]![0]).toBe(0n);
    expect(paid[0]![0]).toBe(2n);
    // One blob is 131072 blob gas.
    expect((free[0]![2] as bigint) - (paid[0]![2] as bigint)).toBe(2n * 131072n);
    // The next block prices blobs from its own excess blob gas again.
    expect(free[1]![0]).toBe(paid[1]![0]);
    expect(free[1]![0]).toBeGreaterThan(0n);
  });
});
