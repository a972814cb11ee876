import type { Logger } from "@zgnode/utils";
import type { ConsensusDriver } from "../consensus/driver.ts";
import type { NetworkTransport } from "./transport.ts";

/**
 * Liveness guard for a node left one height behind: if peers decided height H while we missed H's last precommits,
 * they moved to H+1 and never re-send them, and the driver only holds H+1 messages without syncing (it syncs on
 * messages from beyond H+1). When our height has not moved for `stallMs`, ask peers for their status and, if one
 * has committed our current height, make the driver block-sync (certificates are verified as for any sync).
 */
export class CatchUpWatchdog {
  private readonly driver: ConsensusDriver;
  private readonly transport: NetworkTransport;
  private readonly log: Logger | undefined;
  private readonly stallMs: number;
  private timer: NodeJS.Timeout | undefined;
  private lastHeight = -1;
  private lastMoveAt = Date.now();
  private busy = false;
  /** How many times it triggered a sync (for tests and logs). */
  triggered = 0;

  constructor(driver: ConsensusDriver, transport: NetworkTransport, opts: { stallMs?: number; logger?: Logger } = {}) {
    this.driver = driver;
    this.transport = transport;
    this.stallMs = opts.stallMs ?? 2000;
    this.log = opts.logger;
  }

  start(intervalMs = 1000): void {
    this.timer = setInterval(() => void this.tick(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    const h = this.driver.height;
    const now = Date.now();
    if (h !== this.lastHeight) {
      this.lastHeight = h;
      this.lastMoveAt = now;
      return;
    }
    if (now - this.lastMoveAt < this.stallMs) return;
    this.busy = true;
    try {
      const statuses = await this.transport.peerStatuses();
      const ahead = statuses.filter((s) => s.status.height >= h);
      if (ahead.length > 0 && this.driver.height === h) {
        this.triggered++;
        this.log?.info({ height: h, peerHeight: Math.max(...ahead.map((s) => s.status.height)) }, "behind peers: block sync");
        // The driver's own sync (rate-limited, verifies certificates); not part of its typed API yet.
        const d = this.driver as unknown as { requestSync?: () => void; syncNow?: () => void };
        if (typeof d.syncNow === "function") d.syncNow();
        else if (typeof d.requestSync === "function") d.requestSync();
        else this.log?.warn("driver offers no sync entry point; cannot catch up");
        this.lastMoveAt = now;
      }
    } catch (err) {
      this.log?.debug({ err: (err as Error).message }, "catch-up check failed");
    } finally {
      this.busy = false;
    }
  }
}
