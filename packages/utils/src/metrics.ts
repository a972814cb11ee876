import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export { Counter, Gauge, Histogram, Registry };

/** One Prometheus registry per node; packages register their own metrics in it through `metrics.ts` factories. */
export function createMetricsRegistry(opts: { defaultMetrics?: boolean; prefix?: string } = {}): Registry {
  const registry = new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: opts.prefix ?? "zgnode_" });
  return registry;
}
