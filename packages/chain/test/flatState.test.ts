import { createBlock } from "@ethereumjs/block";
import { Common, Hardfork, Mainnet } from "@ethereumjs/common";
import { Caches, MerkleStateManager } from "@ethereumjs/statemanager";
import { Account, Address, createAddressFromString, generateAddress, generateAddress2, setLengthLeft } from "@ethereumjs/util";
import { createVM, runTx, type VM } from "@ethereumjs/vm";
import { bytesToHex, hexToBytes, RpcError } from "@zgnode/utils";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FlatStateBase, FlatStateManager } from "../src/flatState.ts";
import {
  type AccountOverride,
  applyStateOverrides,
  type CallArgs,
  callBlock,
  callTransaction,
  estimateGas,
  runCall,
  withoutEoaCheck,
} from "../src/rpc/call.ts";
import { CallTracer, StructLogger } from "../src/rpc/tracers.ts";

// Differential test: random contracts and calls run on the flat call state and on the trie-backed
// MerkleStateManager (the path it replaces) must give the same return data, gas, refunds, errors and post-state.

const hex = (n: number, bytes: number) => n.toString(16).padStart(bytes * 2, "0");
const CONTRACTS = [
  "0x00000000000000000000000000000000000c0a00",
  "0x00000000000000000000000000000000000c0a01",
  "0x00000000000000000000000000000000000c0a02",
];
const EOA = "0x00000000000000000000000000000000000e0a00";
const POOR = "0x00000000000000000000000000000000000e0a01";
const EMPTY = "0x00000000000000000000000000000000000e0a02"; // exists with nothing (EIP-161 touch target)
const MISSING = "0x00000000000000000000000000000000000e0a03";
const TARGETS = [
  ...CONTRACTS,
  EOA,
  POOR,
  EMPTY,
  MISSING,
  "0x0000000000000000000000000000000000000001",
  "0x0000000000000000000000000000000000000004",
];
const INITCODES = ["600160005500", "6000ff", "60fe60005360016000f3", "60006000fd", "60016001556000600055600060005260206000f3"];

type Op =
  | { k: "sload"; slot: number }
  | { k: "sstore"; slot: number; value: number }
  | { k: "balance" | "codehash" | "codesize"; target: number }
  | { k: "call"; target: number; value: number; gas: number }
  | { k: "create"; init: number; value: number; salt?: number };
type End = { k: "return" | "revert" | "stop" | "invalid" } | { k: "selfdestruct"; target: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant("sload" as const), slot: fc.nat(3) }),
  fc.record({ k: fc.constant("sstore" as const), slot: fc.nat(3), value: fc.nat(3) }),
  fc.record({
    k: fc.constantFrom("balance" as const, "codehash" as const, "codesize" as const),
    target: fc.nat(TARGETS.length - 1),
  }),
  fc.record({
    k: fc.constant("call" as const),
    target: fc.nat(TARGETS.length - 1),
    value: fc.nat(2),
    gas: fc.constantFrom(0, 3000, 60000),
  }),
  fc.record(
    { k: fc.constant("create" as const), init: fc.nat(INITCODES.length - 1), value: fc.nat(1), salt: fc.nat(1) },
    { requiredKeys: ["k", "init", "value"] },
  ),
);
const endArb: fc.Arbitrary<End> = fc.oneof(
  fc.record({ k: fc.constantFrom("return" as const, "revert" as const, "stop" as const, "invalid" as const) }),
  fc.record({ k: fc.constant("selfdestruct" as const), target: fc.nat(TARGETS.length - 1) }),
);
const programArb = fc.record({ ops: fc.array(opArb, { maxLength: 10 }), end: endArb });

function compile(p: { ops: Op[]; end: End }): string {
  let code = "";
  let i = 0;
  const keep = () => `61${hex(i++ * 32, 2)}52`; // PUSH2 offset MSTORE
  const addr = (t: number) => `73${TARGETS[t]!.slice(2)}`;
  for (const op of p.ops) {
    if (op.k === "sload") code += `60${hex(op.slot, 1)}54${keep()}`;
    else if (op.k === "sstore") code += `60${hex(op.value, 1)}60${hex(op.slot, 1)}55`;
    else if (op.k === "balance") code += `${addr(op.target)}31${keep()}`;
    else if (op.k === "codehash") code += `${addr(op.target)}3f${keep()}`;
    else if (op.k === "codesize") code += `${addr(op.target)}3b${keep()}`;
    else if (op.k === "call") code += `6000600060006000 60${hex(op.value, 1)}${addr(op.target)}62${hex(op.gas, 3)}f1${keep()}`;
    else {
      const c = op as Extract<Op, { k: "create" }>;
      const init = INITCODES[c.init]!;
      // CREATE, or CREATE2 with a fixed salt: the same salt twice in one call collides.
      const salt = c.salt === undefined ? "" : `60${hex(c.salt, 1)}`;
      const opcode = c.salt === undefined ? "f0" : "f5";
      code += `7f${init.padEnd(64, "0")}61080052 ${salt}60${hex(init.length / 2, 1)}610800 60${hex(c.value, 1)}${opcode}${keep()}`;
    }
  }
  const e = p.end;
  if (e.k === "return") code += `61${hex(i * 32, 2)}6000f3`;
  else if (e.k === "revert") code += `61${hex(i * 32, 2)}6000fd`;
  else if (e.k === "stop") code += "00";
  else if (e.k === "invalid") code += "fe";
  else code += `${addr((e as Extract<End, { k: "selfdestruct" }>).target)}ff`;
  return `0x${code.replaceAll(" ", "")}`;
}

const slotsArb = fc.array(fc.tuple(fc.nat(3), fc.nat(3)), { maxLength: 4 });
const overrideArb = fc.record(
  {
    balance: fc.bigInt(0n, 10n ** 18n),
    nonce: fc.bigInt(0n, 5n),
    code: programArb,
    state: slotsArb,
    stateDiff: slotsArb,
  },
  { requiredKeys: [] },
);
const callArb = fc.record({
  from: fc.constantFrom(EOA, POOR, CONTRACTS[1]!, MISSING),
  to: fc.constantFrom<string | undefined>(CONTRACTS[0], CONTRACTS[1], CONTRACTS[2], EOA, MISSING, undefined),
  initcode: programArb,
  value: fc.constantFrom(0n, 1n, 10n ** 18n),
  gas: fc.constantFrom<bigint | undefined>(undefined, 21_000n, 30_000n, 100_000n),
  gasPrice: fc.constantFrom<bigint | undefined>(undefined, 0n, 1n),
  overrides: fc.array(fc.tuple(fc.nat(TARGETS.length - 3), overrideArb), { maxLength: 2 }),
});
const worldArb = fc.record({
  programs: fc.array(programArb, { minLength: 3, maxLength: 3 }),
  storage: fc.array(slotsArb, { minLength: 3, maxLength: 3 }),
  balances: fc.array(fc.bigInt(0n, 3n), { minLength: 3, maxLength: 3 }),
  calls: fc.array(callArb, { minLength: 1, maxLength: 3 }),
});

type World = typeof worldArb extends fc.Arbitrary<infer W> ? W : never;
type Call = World["calls"][number];

const slotKey = (n: number) => setLengthLeft(new Uint8Array([n]), 32);
const slotValue = (n: number) => setLengthLeft(new Uint8Array(n === 0 ? [] : [n]), 32);

async function buildState(common: Common, w: World): Promise<{ sm: MerkleStateManager; root: Uint8Array }> {
  const sm = new MerkleStateManager({ common, caches: new Caches() });
  await sm.checkpoint();
  await sm.putAccount(createAddressFromString(EOA), new Account(3n, 10n ** 20n));
  await sm.putAccount(createAddressFromString(POOR), new Account(0n, 5n));
  await sm.putAccount(createAddressFromString(EMPTY), new Account());
  for (let i = 0; i < CONTRACTS.length; i++) {
    const a = createAddressFromString(CONTRACTS[i]!);
    await sm.putAccount(a, new Account(1n, w.balances[i]!));
    await sm.putCode(a, hexToBytes(compile(w.programs[i]!)));
    for (const [k, v] of w.storage[i]!) await sm.putStorage(a, slotKey(k), slotValue(v));
  }
  await sm.commit();
  await sm.flush();
  return { sm, root: await sm.getStateRoot() };
}

async function vms(common: Common, w: World): Promise<{ merkle: VM; flat: VM }> {
  const { sm, root } = await buildState(common, w);
  const merkleSm = sm.shallowCopy(false);
  await merkleSm.setStateRoot(root);
  const baseSm = sm.shallowCopy(false);
  await baseSm.setStateRoot(root);
  const merkle = await createVM({ common: common.copy(), stateManager: merkleSm });
  const c = common.copy();
  const flat = await createVM({ common: c, stateManager: new FlatStateManager(new FlatStateBase(baseSm), c) });
  return { merkle, flat };
}

function toArgs(c: Call): CallArgs {
  return {
    from: createAddressFromString(c.from),
    to: c.to === undefined ? undefined : createAddressFromString(c.to),
    gas: c.gas,
    gasPrice: c.gasPrice,
    maxFeePerGas: undefined,
    maxPriorityFeePerGas: undefined,
    maxFeePerBlobGas: undefined,
    value: c.value,
    data: c.to === undefined ? hexToBytes(compile(c.initcode)) : new Uint8Array(),
    nonce: undefined,
    type: undefined,
    accessList: undefined,
    blobVersionedHashes: undefined,
    authorizationList: undefined,
  };
}

function toOverrides(c: Call): Map<string, AccountOverride> {
  const out = new Map<string, AccountOverride>();
  for (const [t, o] of c.overrides) {
    const slots = (s: [number, number][] | undefined) =>
      s === undefined ? undefined : new Map(s.map(([k, v]) => [slotKey(k), slotValue(v)]));
    out.set(TARGETS[t]!, {
      balance: o.balance,
      nonce: o.nonce,
      code: o.code === undefined ? undefined : hexToBytes(compile(o.code)),
      state: slots(o.state),
      stateDiff: o.state === undefined ? slots(o.stateDiff) : undefined,
    });
  }
  return out;
}

const describeError = (err: unknown) => (err instanceof RpcError ? `${err.code} ${err.message}` : String(err));

/** Everything a call could observe or change, read back inside the call's checkpoint. */
async function snapshot(vm: VM, extra: Address[]): Promise<unknown[]> {
  const out: unknown[] = [];
  const addrs = [...TARGETS.map((t) => createAddressFromString(t)), ...extra];
  for (const c of CONTRACTS) {
    for (const salt of [0, 1]) {
      for (const init of INITCODES)
        addrs.push(new Address(generateAddress2(hexToBytes(c), slotKey(salt), hexToBytes(`0x${init}`))));
    }
  }
  for (const c of CONTRACTS)
    for (let n = 1n; n < 6n; n++)
      addrs.push(
        createAddressFromString(bytesToHex(generateAddress(hexToBytes(c), setLengthLeft(new Uint8Array([Number(n)]), 1)))),
      );
  for (const a of addrs) {
    const acc = await vm.stateManager.getAccount(a);
    const slots = [];
    for (let k = 0; k < 4; k++) slots.push(bytesToHex(await vm.stateManager.getStorage(a, slotKey(k))));
    out.push([
      a.toString(),
      acc === undefined ? null : [acc.nonce, acc.balance, bytesToHex(acc.codeHash)],
      bytesToHex(await vm.stateManager.getCode(a)),
      slots,
    ]);
  }
  return out;
}

/** One call as the RPC runs it (overrides inside an outer checkpoint), plus the post-state before the revert. */
async function observe(vm: VM, c: Call): Promise<unknown> {
  const args = toArgs(c);
  const header = { number: 5n, timestamp: 1_700_000_000n, gasLimit: 30_000_000n, baseFeePerGas: 7n };
  const block = callBlock(createBlock({ header }, { common: vm.common }), args, vm);
  const sm = vm.stateManager;
  await sm.checkpoint();
  try {
    await applyStateOverrides(vm, toOverrides(c));
    const gasLimit = args.gas ?? 1_000_000n;
    let call: unknown;
    try {
      const o = await runCall(vm, block, args, { gasLimit });
      const r = o.result;
      call = [
        bytesToHex(r.execResult.returnValue),
        r.totalGasSpent,
        r.gasRefund,
        o.error,
        r.createdAddress?.toString(),
        r.execResult.logs?.length,
      ];
    } catch (err) {
      call = describeError(err);
    }
    // debug_traceCall runs on the same state: struct logs (with storage and memory) and call frames must agree.
    let trace: unknown;
    const logger = new StructLogger({ enableMemory: true, enableReturnData: true });
    const frames = new CallTracer();
    const detach = [logger.attach(vm.evm), frames.attach(vm.evm)];
    try {
      const o = await runCall(vm, block, args, { gasLimit });
      const r = o.result;
      trace = [
        logger.result(r.totalGasSpent, o.error !== undefined, r.execResult.returnValue),
        frames.result(gasLimit, r.totalGasSpent),
      ];
    } catch (err) {
      trace = describeError(err);
    } finally {
      for (const d of detach) d();
    }
    let estimate: unknown;
    try {
      estimate = await estimateGas(vm, block, args, 1_000_000n);
    } catch (err) {
      estimate = describeError(err);
    }
    // The same tx once more without the revert, to compare the state it leaves.
    let post: unknown;
    await sm.checkpoint();
    try {
      const tx = await callTransaction(vm, block, args, gasLimit);
      const r = await withoutEoaCheck(vm, args.from, () =>
        runTx(vm, {
          tx,
          block,
          skipNonce: true,
          skipBalance: true,
          skipBlockGasLimitValidation: true,
          skipHardForkValidation: true,
        }),
      );
      post = await snapshot(vm, r.createdAddress === undefined ? [] : [r.createdAddress]);
    } catch (err) {
      post = describeError(err);
    } finally {
      await sm.revert();
    }
    return { call, trace, estimate, post };
  } finally {
    await sm.revert();
  }
}

describe("FlatStateManager", () => {
  for (const hardfork of [Hardfork.Shanghai, Hardfork.Prague]) {
    it(`runs random calls like the MerkleStateManager path (${hardfork})`, async () => {
      await fc.assert(
        fc.asyncProperty(worldArb, async (w) => {
          const common = new Common({ chain: Mainnet, hardfork });
          const { merkle, flat } = await vms(common, w);
          for (const c of w.calls) {
            const want = await observe(merkle, c);
            const got = await observe(flat, c);
            expect(got).toEqual(want);
          }
          // Nothing a call wrote survives it: the states still agree afterwards.
          expect(await snapshot(flat, [])).toEqual(await snapshot(merkle, []));
        }),
        { numRuns: 60 },
      );
    }, 120_000);
  }

  it("answers storage like the trie: stripped values, cleared and deleted accounts", async () => {
    const common = new Common({ chain: Mainnet, hardfork: Hardfork.Prague });
    const w = fc.sample(worldArb, { seed: 1, numRuns: 1 })[0]!;
    const { flat } = await vms(common, w);
    const sm = flat.stateManager;
    const a = createAddressFromString(CONTRACTS[0]!);
    await sm.checkpoint();
    await sm.putStorage(a, slotKey(0), slotValue(2));
    expect(bytesToHex(await sm.getStorage(a, slotKey(0)))).toBe("0x02");
    await sm.checkpoint();
    await sm.clearStorage(a);
    expect(await sm.getStorage(a, slotKey(0))).toEqual(new Uint8Array());
    await sm.revert();
    expect(bytesToHex(await sm.getStorage(a, slotKey(0)))).toBe("0x02");
    await sm.deleteAccount(a);
    expect(await sm.getAccount(a)).toBeUndefined();
    expect(await sm.getCode(a)).toEqual(new Uint8Array());
    await expect(sm.putStorage(a, slotKey(1), slotValue(1))).rejects.toThrow(/non-existing account/);
    await sm.revert();
    expect((await sm.getAccount(a))?.nonce).toBe(1n);
    expect((await sm.getCode(a)).length).toBeGreaterThan(0);
  });
});
