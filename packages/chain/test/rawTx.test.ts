import { Block, createBlockHeader } from "@ethereumjs/block";
import type { Common } from "@ethereumjs/common";
import { RLP } from "@ethereumjs/rlp";
import { createLegacyTx, createTx, createTxFromRLP } from "@ethereumjs/tx";
import { bigIntToUnpaddedBytes, createWithdrawal, SECP256K1_ORDER } from "@ethereumjs/util";
import { keccak256, secp256k1 } from "@zgnode/crypto";
import { bytesToHex, concatBytes } from "@zgnode/utils";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createCommonForFork } from "../src/genesis.ts";
import { decodeRawTx, encodingOf, serializeBlock } from "../src/rawTx.ts";
import { uintBytes } from "../src/receipts.ts";

const CHAIN_ID = 8888n;

type Outcome = { ok: true; value: string } | { ok: false; error: string };

function attempt(fn: () => unknown): Outcome {
  try {
    const v = fn();
    return { ok: true, value: v instanceof Uint8Array ? bytesToHex(v) : JSON.stringify(v) };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** What admission saw before: @ethereumjs decodes, then re-serializes for the hash and the signing hash. */
function slow(raw: Uint8Array, common: Common) {
  let tx: ReturnType<typeof createTxFromRLP>;
  try {
    tx = createTxFromRLP(raw, { common });
  } catch (err) {
    return { decodeError: (err as Error).message };
  }
  return {
    json: attempt(() => tx.toJSON()),
    hash: attempt(() => tx.hash()),
    sender: attempt(() => tx.getSenderAddress().bytes),
  };
}

/** The one-pass decoder: its own hash and sender, then what the tx object answers afterwards (from its caches). */
function fast(raw: Uint8Array, common: Common) {
  let d: ReturnType<typeof decodeRawTx>;
  try {
    d = decodeRawTx(raw, common);
  } catch (err) {
    return { decodeError: (err as Error).message };
  }
  const hash = d.hash === undefined ? attempt(() => d.tx.hash()) : attempt(() => d.hash);
  const sender = attempt(() => d.sender());
  expect(attempt(() => d.tx.hash())).toEqual(hash);
  expect(okOf(attempt(() => d.tx.getSenderAddress().bytes))).toEqual(okOf(sender));
  return { json: attempt(() => d.tx.toJSON()), hash, sender };
}

/** Sender errors are compared by outcome only (the wording inside @ethereumjs carries tx details). */
function okOf(o: Outcome): Outcome | boolean {
  return o.ok ? o : false;
}

function same(raw: Uint8Array, common: Common): void {
  const a = slow(raw, common);
  const b = fast(raw, common);
  if ("decodeError" in a || "decodeError" in b) {
    expect(b).toEqual(a);
    return;
  }
  expect(b.json).toEqual(a.json);
  expect(b.hash).toEqual(a.hash);
  expect(okOf(b.sender)).toEqual(okOf(a.sender));
}

const u256 = fc.bigInt({ min: 0n, max: (1n << 256n) - 1n });
const small = fc.oneof(fc.bigInt({ min: 0n, max: 300n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 2n }));
// Mostly fees that fit (gasLimit * fee < 2^256), sometimes any 256-bit value.
const fee = fc.oneof(
  { arbitrary: small, weight: 3 },
  { arbitrary: fc.bigInt({ min: 0n, max: 1n << 200n }), weight: 1 },
  { arbitrary: u256, weight: 1 },
);
const addr = fc.uint8Array({ minLength: 20, maxLength: 20 });
const key = fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((k) => {
  const n = BigInt(bytesToHex(k));
  return n > 0n && n < SECP256K1_ORDER;
});
const accessList = fc.array(
  fc.record({ address: addr, storageKeys: fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 3 }) }),
  { maxLength: 3 },
);

const txSpec = fc.record({
  type: fc.constantFrom(0, 0, 1, 2, 2, 3, 4),
  legacyUnprotected: fc.boolean(),
  nonce: small,
  gasPrice: fee,
  tip: fee,
  extra: fee,
  gasLimit: fc.oneof(fc.bigInt({ min: 0n, max: 300n }), fc.bigInt({ min: 21_000n, max: 30_000_000n })),
  to: fc.option(addr, { nil: undefined }),
  value: fee,
  data: fc.uint8Array({ maxLength: 80 }),
  accessList,
  key,
});

type Spec = typeof txSpec extends fc.Arbitrary<infer T> ? T : never;

/** A signed transaction's raw bytes, or undefined when @ethereumjs refuses to build it (e.g. fee cap overflow). */
function build(s: Spec, common: Common): Uint8Array | undefined {
  const hex = (b: Uint8Array) => bytesToHex(b) as `0x${string}`;
  const accessList = s.accessList.map((e) => ({ address: hex(e.address), storageKeys: e.storageKeys.map(hex) }));
  try {
    if (s.type === 0 && s.legacyUnprotected) {
      // Pre-EIP-155 signature (v = 27/28): @ethereumjs' sign() always protects, so sign the 6-field message here.
      const fields = [s.nonce, s.gasPrice, s.gasLimit].map(bigIntToUnpaddedBytes);
      const msg = [...fields, s.to ?? new Uint8Array(0), bigIntToUnpaddedBytes(s.value), s.data];
      const sig = secp256k1.sign(keccak256(RLP.encode(msg)), s.key, { lowS: true, prehash: false, format: "recovered" });
      const recovery = BigInt(sig[0]);
      const r = BigInt(bytesToHex(sig.subarray(1, 33)));
      const ss = BigInt(bytesToHex(sig.subarray(33, 65)));
      return createLegacyTx(
        {
          nonce: s.nonce,
          gasPrice: s.gasPrice,
          gasLimit: s.gasLimit,
          to: s.to,
          value: s.value,
          data: s.data,
          v: 27n + recovery,
          r,
          s: ss,
        },
        { common },
      ).serialize();
    }
    const base = { nonce: s.nonce, gasLimit: s.gasLimit, to: s.to, value: s.value, data: s.data, chainId: CHAIN_ID };
    const data =
      s.type === 0
        ? { ...base, type: 0, gasPrice: s.gasPrice }
        : s.type === 1
          ? { ...base, type: 1, gasPrice: s.gasPrice, accessList }
          : {
              ...base,
              type: s.type,
              maxPriorityFeePerGas: s.tip,
              maxFeePerGas: s.tip + s.extra,
              accessList,
              ...(s.type === 3
                ? {
                    to: s.to ?? new Uint8Array(20),
                    maxFeePerBlobGas: s.gasPrice,
                    blobVersionedHashes: [concatBytes(new Uint8Array([1]), s.key.subarray(1))],
                  }
                : {}),
              ...(s.type === 4
                ? {
                    to: s.to ?? new Uint8Array(20),
                    authorizationList: [
                      [
                        bigIntToUnpaddedBytes(CHAIN_ID),
                        s.key.subarray(0, 20),
                        bigIntToUnpaddedBytes(s.nonce),
                        new Uint8Array(0),
                        s.key,
                        s.key,
                      ],
                    ],
                  }
                : {}),
            };
    return createTx(data as never, { common })
      .sign(s.key)
      .serialize();
  } catch {
    return undefined;
  }
}

/** Ways to damage a signed transaction: each keeps the outer shape plausible so the decoders get past RLP. */
const corruption = fc.oneof(
  fc.constant({ kind: "none" as const }),
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant("truncate" as const), n: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant("append" as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 3 }) }),
  fc.record({ kind: fc.constant("leadingZero" as const), field: fc.nat() }),
  fc.record({ kind: fc.constant("replace" as const), field: fc.nat(), bytes: fc.uint8Array({ maxLength: 33 }) }),
  fc.constant({ kind: "highS" as const }),
  fc.record({ kind: fc.constant("v" as const), v: fc.bigInt({ min: 0n, max: 20_000n }) }),
);

type Corruption = typeof corruption extends fc.Arbitrary<infer T> ? T : never;

function corrupt(raw: Uint8Array, c: Corruption): Uint8Array {
  if (c.kind === "none") return raw;
  if (c.kind === "flip") {
    const out = raw.slice();
    out[c.at % out.length] ^= 1 << c.bit;
    return out;
  }
  if (c.kind === "truncate") return raw.subarray(0, Math.max(1, raw.length - c.n));
  if (c.kind === "append") return concatBytes(raw, c.bytes);
  const typed = raw[0] < 0xc0;
  const fields = RLP.decode(typed ? raw.subarray(1) : raw) as (Uint8Array | unknown[])[];
  const n = fields.length;
  if (c.kind === "leadingZero" || c.kind === "replace") {
    const i = c.field % n;
    if (!(fields[i] instanceof Uint8Array)) return raw;
    fields[i] = c.kind === "replace" ? c.bytes : concatBytes(new Uint8Array([0]), fields[i] as Uint8Array);
  } else if (c.kind === "highS") {
    // The other valid signature for the same message: s' = n - s with the parity flipped (EIP-2 forbids it).
    const s = BigInt(bytesToHex(fields[n - 1] as Uint8Array));
    fields[n - 1] = bigIntToUnpaddedBytes(SECP256K1_ORDER - s);
    const v = BigInt(bytesToHex(fields[n - 3] as Uint8Array) === "0x" ? 0 : bytesToHex(fields[n - 3] as Uint8Array));
    fields[n - 3] = bigIntToUnpaddedBytes(typed ? v ^ 1n : v % 2n === 0n ? v - 1n : v + 1n);
  } else {
    fields[n - 3] = bigIntToUnpaddedBytes(c.v);
  }
  const body = RLP.encode(fields as never);
  return typed ? concatBytes(raw.subarray(0, 1), body) : body;
}

describe("decodeRawTx (one-pass admission decode)", () => {
  for (const [name, common] of [
    ["native crypto", createCommonForFork("prague", CHAIN_ID)],
    ["JS crypto", jsCommon()],
  ] as const) {
    it(`matches @ethereumjs on random valid and damaged transactions (${name})`, () => {
      let built = 0;
      const types = new Set<number>();
      fc.assert(
        fc.property(txSpec, corruption, (spec, c) => {
          const raw = build(spec, common);
          if (!raw) return;
          built++;
          types.add(spec.type);
          same(raw, common);
          same(corrupt(raw, c), common);
        }),
        { numRuns: name === "JS crypto" ? 150 : 600 },
      );
      // The generator must mostly produce buildable transactions, or the property tests nothing.
      expect(built).toBeGreaterThan(name === "JS crypto" ? 75 : 300);
      expect([...types].sort()).toEqual([0, 1, 2, 3, 4]);
    });
  }

  it("hashes and recovers exactly like @ethereumjs on canonical transactions of every type", () => {
    const common = createCommonForFork("prague", CHAIN_ID);
    const k = new Uint8Array(32).fill(3);
    for (const type of [0, 1, 2, 3, 4]) {
      const data = {
        type,
        chainId: CHAIN_ID,
        nonce: 7n,
        gasLimit: 100_000n,
        gasPrice: 5n,
        maxFeePerGas: 5n,
        maxPriorityFeePerGas: 1n,
        to: `0x${"22".repeat(20)}`,
        value: 1n,
        data: new Uint8Array(70).fill(9),
        ...(type === 3
          ? { maxFeePerBlobGas: 1n, blobVersionedHashes: [concatBytes(new Uint8Array([1]), new Uint8Array(31))] }
          : {}),
        ...(type === 4
          ? { authorizationList: [[new Uint8Array([1]), new Uint8Array(20), new Uint8Array(0), new Uint8Array(0), k, k]] }
          : {}),
      };
      const tx = createTx(data as never, { common }).sign(k);
      const d = decodeRawTx(tx.serialize(), common);
      expect(bytesToHex(d.hash as Uint8Array), `type ${type}`).toBe(bytesToHex(tx.hash()));
      expect(bytesToHex(d.sender()), `type ${type}`).toBe(tx.getSenderAddress().toString());
    }
  });

  it("falls back to @ethereumjs for a chain id with a leading zero (it re-encodes that field)", () => {
    const common = createCommonForFork("prague", CHAIN_ID);
    const tx = createTx(
      { type: 2, chainId: CHAIN_ID, gasLimit: 21000n, maxFeePerGas: 1n, to: `0x${"22".repeat(20)}` },
      { common },
    ).sign(new Uint8Array(32).fill(5));
    const raw = corrupt(tx.serialize(), { kind: "leadingZero", field: 0 });
    const d = decodeRawTx(raw, common);
    expect(bytesToHex(d.hash as Uint8Array)).toBe(bytesToHex(tx.hash()));
    expect(bytesToHex(d.hash as Uint8Array)).not.toBe(bytesToHex(keccak256(raw)));
    same(raw, common);
  });
});

describe("serializeBlock (admission's encodings reused)", () => {
  it("equals block.serialize() for blocks mixing raw-admitted and plain transactions, with withdrawals", () => {
    const common = createCommonForFork("prague", CHAIN_ID);
    const withdrawal = fc.record({
      index: fc.bigInt({ min: 0n, max: 1000n }),
      validatorIndex: fc.bigInt({ min: 0n, max: 1000n }),
      address: addr,
      amount: small,
    });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(txSpec, fc.boolean()), { maxLength: 8 }),
        fc.array(withdrawal, { maxLength: 3 }),
        fc.uint8Array({ maxLength: 32 }),
        (specs, withdrawals, extraData) => {
          const transactions = [];
          for (const [spec, viaRaw] of specs) {
            const raw = build(spec, common);
            if (!raw) continue;
            transactions.push(viaRaw ? decodeRawTx(raw, common).tx : createTxFromRLP(raw, { common }));
          }
          // The Block constructor keeps the given transaction objects (createBlock would rebuild them).
          const header = createBlockHeader({ number: 1n, extraData }, { common });
          const block = new Block(header, transactions, [], withdrawals.map(createWithdrawal), { common });
          expect(block.transactions).toEqual(transactions);
          expect(bytesToHex(serializeBlock(block))).toBe(bytesToHex(block.serialize()));
          for (const tx of transactions) expect(bytesToHex(encodingOf(tx))).toBe(bytesToHex(tx.serialize()));
        },
      ),
      { numRuns: 80 },
    );
  });
});

describe("receipts' uintBytes (bigIntToUnpaddedBytes)", () => {
  it("matches @ethereumjs across the double-safe boundary and beyond", () => {
    const check = (n: bigint) => {
      expect(bytesToHex(uintBytes(n)), String(n)).toBe(bytesToHex(bigIntToUnpaddedBytes(n)));
    };
    for (const n of [0n, 1n, 127n, 128n, 255n, 256n, 21000n, (1n << 53n) - 1n, 1n << 53n, (1n << 53n) + 1n, (1n << 64n) - 1n]) {
      check(n);
    }
    fc.assert(fc.property(fc.oneof(fc.bigInt({ min: 0n, max: 1n << 60n }), u256), check), { numRuns: 2000 });
  });
});

/** The same chain without the native hooks (the fallback when the addons do not load). */
function jsCommon(): Common {
  const c = createCommonForFork("prague", CHAIN_ID);
  const crypto = c.customCrypto as { ecrecover?: unknown; keccak256?: unknown };
  delete crypto.ecrecover;
  delete crypto.keccak256;
  return c;
}
