import { describe, expect, it } from "vitest";
import { randomScenario, runSimulation, type SimResult } from "./sim.ts";

/**
 * Thousands of seeded runs of the engine over a faulty simulated network. Set SEED=<n> to rerun one seed exactly
 * (and SEEDS=<count> to change how many run).
 */
const single = process.env.SEED !== undefined ? Number(process.env.SEED) : undefined;
const count = Number(process.env.SEEDS ?? 3000);
const seeds = single !== undefined ? [single] : Array.from({ length: count }, (_, i) => i + 1);

function describeFailure(r: SimResult, what: string): string {
  return `seed ${r.seed}: ${what} (heights ${r.heights.join(",")}, t=${r.endTimeMs.toFixed(0)}ms, events ${r.events}); rerun with SEED=${r.seed}`;
}

describe("consensus simulation", () => {
  it(`is safe and live after heal over ${seeds.length} seeded runs with < 1/3 faulty stake`, () => {
    let maxRounds = 0;
    let evidence = 0;
    let totalEvents = 0;
    for (const seed of seeds) {
      const sc = randomScenario(seed);
      const r = runSimulation(sc);
      totalEvents += r.events;
      maxRounds = Math.max(maxRounds, r.rounds);
      evidence += r.evidence;
      if (r.safetyViolations.length > 0) throw new Error(describeFailure(r, r.safetyViolations.join("; ")));
      if (r.falseEvidence > 0) throw new Error(describeFailure(r, "evidence accused an honest validator"));
      if (!r.liveness) throw new Error(describeFailure(r, `no progress after heal at ${sc.healAtMs}ms`));
    }
    if (single === undefined) {
      // The scenarios really exercise the faulty paths: equivocators were caught and rounds beyond 0 were needed.
      expect(evidence).toBeGreaterThan(0);
      expect(maxRounds).toBeGreaterThan(1);
    }
    console.log(`simulated ${seeds.length} runs, ${totalEvents} events, max round ${maxRounds}, ${evidence} evidence`);
  });

  it("reports a stall when too much stake is offline (the liveness check can fail)", () => {
    const sc = { ...randomScenario(11), powers: [10, 10, 10, 10], kinds: ["honest", "honest", "silent", "silent"] as const };
    const r = runSimulation(
      { ...sc, kinds: [...sc.kinds], crashes: [], powerChanges: [] },
      { maxVirtualMs: sc.healAtMs + 5_000 },
    );
    expect(r.liveness).toBe(false);
    expect(r.safetyViolations).toEqual([]);
    expect(r.heights.slice(0, 2)).toEqual([1, 1]);
  });

  it("is a function of the seed: a rerun reproduces a run exactly", () => {
    for (const seed of [7, 602, 1234]) {
      const a = runSimulation(randomScenario(seed));
      const b = runSimulation(randomScenario(seed));
      expect(b).toEqual(a);
    }
    expect(runSimulation(randomScenario(8)).events).not.toBe(runSimulation(randomScenario(7)).events);
  });

  it("detects forks when a third or more of the stake equivocates (the checker can fail)", () => {
    let forks = 0;
    for (let seed = 1; seed <= 300 && forks === 0; seed++) {
      const r = runSimulation(randomScenario(seed, { faultyStake: "over" }), { maxEvents: 50_000 });
      if (r.safetyViolations.some((v) => v.includes("committed"))) forks++;
    }
    expect(forks).toBeGreaterThan(0);
  });
});
