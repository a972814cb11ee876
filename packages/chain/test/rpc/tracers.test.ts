import { createBlock } from "@ethereumjs/block";
import { createCustomCommon, Mainnet } from "@ethereumjs/common";
import { MerkleStateManager } from "@ethereumjs/statemanager";
import { createAddressFromString } from "@ethereumjs/util";
import { createVM, type VM } from "@ethereumjs/vm";
import { hexToBytes } from "@zgnode/utils";
import { beforeEach, describe, expect, it } from "vitest";
import { parseCallArgs, runCall } from "../../src/rpc/call.ts";
import { CallTracer, StructLogger } from "../../src/rpc/tracers.ts";

const A = "0x000000000000000000000000000000000000000a";
const B = "0x000000000000000000000000000000000000000b";
const C = "0x000000000000000000000000000000000000000c";
const SENDER = "0x1000000000000000000000000000000000000001";

// B: SSTORE(1, 7); return 32 bytes of 0x2a.  PUSH1 7 PUSH1 1 SSTORE PUSH1 0x2a PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN
const B_CODE = "0x6007600155602a60005260206000f3";
// C: REVERT with Error("no") data is overkill; plain revert(0, 0).
const C_CODE = "0x60006000fd";
// A: CALL(gas, B, 0, 0, 0, 0, 32) then STATICCALL(gas, C, 0, 0, 0, 0) then return mem[0..32].
// PUSH1 32 PUSH1 0 PUSH1 0 PUSH1 0 PUSH1 0 PUSH20 B GAS CALL POP
// PUSH1 0 PUSH1 0 PUSH1 0 PUSH1 0 PUSH20 C GAS STATICCALL POP
// PUSH1 32 PUSH1 0 RETURN
const A_CODE = `0x60206000600060006000${"73"}${B.slice(2)}5af150${"6000600060006000"}${"73"}${C.slice(2)}5afa5060206000f3`;

async function makeVm(): Promise<VM> {
  const common = createCustomCommon({ chainId: 8888 }, Mainnet, { hardfork: "shanghai" });
  const sm = new MerkleStateManager({ common });
  const vm = await createVM({ common, stateManager: sm });
  for (const [addr, code] of [
    [A, A_CODE],
    [B, B_CODE],
    [C, C_CODE],
  ] as const) {
    const a = createAddressFromString(addr);
    await sm.modifyAccountFields(a, {});
    await sm.putCode(a, hexToBytes(code));
  }
  return vm;
}

describe("tracers on a real EVM", () => {
  let vm: VM;
  beforeEach(async () => {
    vm = await makeVm();
  });

  async function traced<T extends StructLogger | CallTracer>(tracer: T) {
    const detach = tracer.attach(vm.evm);
    try {
      const block = createBlock({ header: { number: 1n, gasLimit: 30_000_000n, baseFeePerGas: 0n } }, { common: vm.common });
      return await runCall(vm, block, parseCallArgs({ from: SENDER, to: A }, 0), { gasLimit: 200_000n });
    } finally {
      detach();
    }
  }

  it("callTracer records nested frames with their types, targets, outputs and errors", async () => {
    const tracer = new CallTracer();
    const outcome = await traced(tracer);
    const top = tracer.result(200_000n, outcome.result.totalGasSpent)!;
    expect(top).toMatchObject({ type: "CALL", from: SENDER, to: A, gas: "0x30d40", value: "0x0" });
    expect(BigInt(top.gasUsed)).toBe(outcome.result.totalGasSpent);
    expect(top.output).toBe(`0x${"2a".padStart(64, "0")}`);
    expect(top.calls?.map((c) => [c.type, c.to])).toEqual([
      ["CALL", B],
      ["STATICCALL", C],
    ]);
    expect(top.calls?.[0]?.output).toBe(`0x${"2a".padStart(64, "0")}`);
    expect(top.calls?.[1]).toMatchObject({ error: "execution reverted" });
    expect(top.calls?.[1]?.value).toBeUndefined();
    // Only the top call with onlyTopCall.
    const onlyTop = new CallTracer({ onlyTopCall: true });
    const o2 = await traced(onlyTop);
    expect(onlyTop.result(200_000n, o2.result.totalGasSpent)?.calls).toBeUndefined();
  });

  it("struct logger records opcodes with depth, stack, storage and memory on request", async () => {
    const logger = new StructLogger({ enableMemory: true });
    const outcome = await traced(logger);
    const result = logger.result(outcome.result.totalGasSpent, false, outcome.result.execResult.returnValue);
    const ops = result.structLogs;
    expect(ops[0]).toMatchObject({ pc: 0, op: "PUSH1", depth: 1, gasCost: 3, stack: [] });
    const sstore = ops.find((l) => l.op === "SSTORE")!;
    expect(sstore.depth).toBe(2);
    expect(sstore.storage).toEqual({ [`0x${"1".padStart(64, "0")}`]: `0x${"7".padStart(64, "0")}` });
    expect(ops.some((l) => l.op === "REVERT" && l.depth === 2)).toBe(true);
    const ret = ops.filter((l) => l.op === "RETURN").at(-1)!;
    expect(ret.memory?.[0]).toBe(`0x${"2a".padStart(64, "0")}`);
    // Gas is non-increasing within a frame.
    const top = ops.filter((l) => l.depth === 1);
    for (let i = 1; i < top.length; i++) expect(top[i]!.gas).toBeLessThanOrEqual(top[i - 1]!.gas);
    expect(result.returnValue).toBe(`0x${"2a".padStart(64, "0")}`);
    // Stack disabled: no stacks.
    const quiet = new StructLogger({ disableStack: true, disableStorage: true });
    await traced(quiet);
    expect(quiet.logs.every((l) => l.stack === undefined && l.storage === undefined)).toBe(true);
  });
});
