import { bytesToHex } from "@zgnode/utils";
import { describe, expect, it } from "vitest";
import { decodeRevertReason, parseCallArgs, parseStateOverrides } from "../../src/rpc/call.ts";
import { parseBlockId, parseBlockNumberOrTag, parseQuantity, parseStorageKey } from "../../src/rpc/params.ts";

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: number; message: string }).code;
  }
  return undefined;
};

describe("parameter parsing", () => {
  it("parses block references; omitted = latest", () => {
    expect(parseBlockNumberOrTag(undefined, 0)).toEqual({ kind: "tag", tag: "latest" });
    expect(parseBlockNumberOrTag("safe", 0)).toEqual({ kind: "tag", tag: "safe" });
    expect(parseBlockNumberOrTag("0x10", 0)).toEqual({ kind: "number", number: 16n });
    const hash = `0x${"ab".repeat(32)}`;
    expect(parseBlockId(hash, 0)).toMatchObject({ kind: "hash", requireCanonical: false });
    expect(parseBlockId({ blockHash: hash, requireCanonical: true }, 0)).toMatchObject({ kind: "hash", requireCanonical: true });
    expect(parseBlockId({ blockNumber: "0x2" }, 0)).toEqual({ kind: "number", number: 2n });
    expect(code(() => parseBlockNumberOrTag("2", 0))).toBe(-32602);
    expect(code(() => parseBlockNumberOrTag("0xzz", 0))).toBe(-32602);
    expect(code(() => parseQuantity("0x", 0))).toBe(-32602);
  });

  it("left-pads storage keys up to 32 bytes and rejects longer or non-hex ones", () => {
    expect(bytesToHex(parseStorageKey("0x1"))).toBe(`0x${"0".repeat(63)}1`);
    expect(bytesToHex(parseStorageKey(`0x${"ff".repeat(32)}`))).toBe(`0x${"ff".repeat(32)}`);
    expect(code(() => parseStorageKey(`0x${"0".repeat(65)}`))).toBe(-32602);
    expect(code(() => parseStorageKey("0xasdf"))).toBe(-32602);
  });

  it("parses call objects and state overrides", () => {
    const args = parseCallArgs({ to: `0x${"11".repeat(20)}`, input: "0x01", value: "0x5", maxFeePerGas: "0x2" }, 0);
    expect(args).toMatchObject({ value: 5n, maxFeePerGas: 2n, gasPrice: undefined });
    expect(bytesToHex(args.data)).toBe("0x01");
    expect(code(() => parseCallArgs({ input: "0x01", data: "0x02" }, 0))).toBe(-32602);
    const ov = parseStateOverrides(
      { [`0x${"AA".repeat(20)}`]: { balance: "0x10", stateDiff: { [`0x${"00".repeat(32)}`]: `0x${"01".repeat(32)}` } } },
      2,
    );
    expect(ov.get(`0x${"aa".repeat(20)}`)?.balance).toBe(16n);
    expect(code(() => parseStateOverrides({ [`0x${"aa".repeat(20)}`]: { state: {}, stateDiff: {} } }, 2))).toBe(-32602);
  });
});

describe("revert reasons", () => {
  const hex = (s: string) => Uint8Array.from(Buffer.from(s, "hex"));
  it("decodes Error(string) and Panic(uint256) like geth", () => {
    const err = hex(
      "08c379a00000000000000000000000000000000000000000000000000000000000000020000000000000000000000000000000000000000000000000000000000000000a75736572206572726f72",
    );
    expect(decodeRevertReason(err)).toBe("user error");
    expect(decodeRevertReason(hex("4e487b710000000000000000000000000000000000000000000000000000000000000011"))).toBe(
      "arithmetic underflow or overflow",
    );
    expect(decodeRevertReason(hex("deadbeef"))).toBeUndefined();
    // A truncated Error(string) is left undecoded rather than misread.
    expect(decodeRevertReason(err.subarray(0, 75))).toBeUndefined();
  });
});
