import { sleep } from "@zgnode/utils";
import { describe, expect, it } from "vitest";
import type { NetworkTransport } from "../../src/bft/transport.ts";
import { CatchUpWatchdog } from "../../src/bft/watchdog.ts";
import type { ConsensusDriver } from "../../src/consensus/driver.ts";

/** A driver stand-in with the fields the watchdog reads, counting sync requests. */
function fakeDriver(height: number) {
  return {
    height,
    syncs: 0,
    requestSync() {
      this.syncs++;
    },
  };
}

function fakeTransport(peerHeights: number[]) {
  return {
    calls: 0,
    async peerStatuses() {
      this.calls++;
      return peerHeights.map((h, i) => ({ peer: `p${i}`, status: { height: h, headHash: "0x00" as const } }));
    },
  };
}

describe("CatchUpWatchdog", () => {
  it("syncs when stalled and a peer has committed our height; not while progressing or when nobody is ahead", async () => {
    const driver = fakeDriver(10);
    const ahead = fakeTransport([9, 10]);
    const w = new CatchUpWatchdog(driver as unknown as ConsensusDriver, ahead as unknown as NetworkTransport, { stallMs: 60 });
    w.start(20);
    await sleep(250);
    w.stop();
    expect(driver.syncs).toBeGreaterThan(0);
    expect(w.triggered).toBe(driver.syncs);

    // Nobody has committed height 10: the stall is the network's, not ours.
    const d2 = fakeDriver(10);
    const behind = fakeTransport([9, 9]);
    const w2 = new CatchUpWatchdog(d2 as unknown as ConsensusDriver, behind as unknown as NetworkTransport, { stallMs: 60 });
    w2.start(20);
    await sleep(250);
    w2.stop();
    expect(behind.calls).toBeGreaterThan(0);
    expect(d2.syncs).toBe(0);

    // Heights keep moving: no status queries at all.
    const d3 = fakeDriver(10);
    const t3 = fakeTransport([50]);
    const w3 = new CatchUpWatchdog(d3 as unknown as ConsensusDriver, t3 as unknown as NetworkTransport, { stallMs: 200 });
    w3.start(20);
    const mover = setInterval(() => d3.height++, 15);
    await sleep(250);
    clearInterval(mover);
    w3.stop();
    expect(t3.calls).toBe(0);
    expect(d3.syncs).toBe(0);
  });
});
