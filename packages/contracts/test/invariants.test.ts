import { bytesToHex } from "@zgnode/utils";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { STAKING_ADDRESS } from "../src/index.ts";
import { account, ETHER, StakingHarness, validatorKey } from "./harness.ts";

const PANIC_SELECTOR = "0x4e487b71";

type Op =
  | { kind: "delegate"; v: number; d: number; amount: bigint }
  | { kind: "undelegate"; v: number; d: number; percent: number }
  | { kind: "withdraw"; d: number }
  | { kind: "mine"; blocks: number }
  | { kind: "reward"; v: number; amount: bigint }
  | { kind: "slash"; v: number; ppm: number; evidence: number }
  | { kind: "epochEnd" }
  | { kind: "unjail"; v: number }
  | { kind: "withdrawCommission"; v: number };

const validatorIdx = fc.integer({ min: 0, max: 2 }); // 2 is never registered: calls to it must revert cleanly
// delegator 3 is validator 0's operator, so self-delegation and operator exits are exercised too
const delegatorIdx = fc.integer({ min: 0, max: 3 });
const wei = fc.bigInt({ min: ETHER / 10n, max: 60n * ETHER });

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("delegate" as const), v: validatorIdx, d: delegatorIdx, amount: wei }),
  fc.record({
    kind: fc.constant("undelegate" as const),
    v: validatorIdx,
    d: delegatorIdx,
    percent: fc.integer({ min: 1, max: 100 }),
  }),
  fc.record({ kind: fc.constant("withdraw" as const), d: delegatorIdx }),
  fc.record({ kind: fc.constant("mine" as const), blocks: fc.integer({ min: 1, max: 30 }) }),
  fc.record({ kind: fc.constant("reward" as const), v: validatorIdx, amount: fc.bigInt({ min: 1n, max: 5n * ETHER }) }),
  fc.record({
    kind: fc.constant("slash" as const),
    v: validatorIdx,
    ppm: fc.integer({ min: 1, max: 999_999 }),
    evidence: fc.integer({ min: 1, max: 4 }),
  }),
  fc.record({ kind: fc.constant("epochEnd" as const) }),
  fc.record({ kind: fc.constant("unjail" as const), v: validatorIdx }),
  fc.record({ kind: fc.constant("withdrawCommission" as const), v: validatorIdx }),
);

describe("accounting invariants under random operation sequences", () => {
  it("never panics, and the contract's balance always equals what it accounts for", async () => {
    const delegator = (i: number) => (i === 3 ? validatorKey(0).operator : i === 4 ? validatorKey(1).operator : account(i));
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 14 }), async (ops) => {
        const { harness: h } = await StakingHarness.create();
        for (const o of ops) {
          let out: Awaited<ReturnType<StakingHarness["call"]>> | undefined;
          switch (o.kind) {
            case "delegate":
              out = await h.call(delegator(o.d), "delegate", [validatorKey(o.v).operator], o.amount);
              break;
            case "undelegate": {
              const r = await h.call(delegator(o.d), "getDelegation", [validatorKey(o.v).operator, delegator(o.d)]);
              const shares = ((r.result?.[0] as bigint) * BigInt(o.percent)) / 100n;
              out = await h.call(delegator(o.d), "undelegate", [validatorKey(o.v).operator, shares]);
              break;
            }
            case "withdraw":
              out = await h.call(delegator(o.d), "withdraw");
              break;
            case "mine":
              h.mine(BigInt(o.blocks));
              break;
            case "reward":
              out = await h.system("distributeRewards", [validatorKey(o.v).operator], o.amount);
              break;
            case "slash":
              out = await h.system("slash", [validatorKey(o.v).operator, o.ppm, bytesToHex(new Uint8Array(32).fill(o.evidence))]);
              break;
            case "epochEnd":
              out = await h.system("onEpochEnd");
              break;
            case "unjail":
              out = await h.call(validatorKey(o.v).operator, "unjail");
              break;
            case "withdrawCommission":
              out = await h.call(validatorKey(o.v).operator, "withdrawCommission");
              break;
          }
          if (out !== undefined && !out.ok) {
            // every refusal is one of the contract's own errors, never an arithmetic panic or an empty revert
            expect(bytesToHex(out.raw).slice(0, 10)).not.toBe(PANIC_SELECTOR);
            expect(out.error, `${o.kind} reverted without a contract error`).toBeDefined();
          }
        }
        expect(await h.balance(STAKING_ADDRESS)).toBe(await h.accountedWei());
        // delegations never claim more than the validator holds (rounding leaves at most dust in the pool)
        for (let v = 0; v < 2; v++) {
          const info = (await h.view("getValidator", [validatorKey(v).operator]))[0];
          let claimed = 0n;
          for (let d = 0; d < 5; d++) claimed += (await h.view("getDelegation", [validatorKey(v).operator, delegator(d)]))[1];
          expect(claimed).toBeLessThanOrEqual(info.tokens);
          expect(info.tokens - claimed).toBeLessThanOrEqual(5n);
          const set = (await h.view("activeValidatorSet"))[0] as unknown[];
          expect(set.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 12 },
    );
  });
});
