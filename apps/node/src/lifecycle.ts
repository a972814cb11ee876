import type { Logger } from "@zgnode/utils";

/**
 * Subsystems register their stop function as they start; `closeAll` runs them in reverse order, so each
 * subsystem stops before the ones it depends on (RPC before the chain, the chain before the database).
 */
export class Lifecycle {
  private readonly stops: { name: string; stop: () => Promise<void> | void }[] = [];
  private closing: Promise<void> | undefined;
  private readonly logger: Logger;

  constructor(logger: Logger) {
    this.logger = logger;
  }

  add(name: string, stop: () => Promise<void> | void): void {
    this.stops.push({ name, stop });
  }

  /** Idempotent; logs and continues past a failing stop so later ones (the database) still close. */
  closeAll(): Promise<void> {
    this.closing ??= (async () => {
      while (this.stops.length > 0) {
        const { name, stop } = this.stops.pop()!;
        const t0 = performance.now();
        try {
          await stop();
          this.logger.debug({ subsystem: name, ms: Math.round(performance.now() - t0) }, "stopped");
        } catch (err) {
          this.logger.error({ err, subsystem: name }, "stop failed");
        }
      }
    })();
    return this.closing;
  }
}
