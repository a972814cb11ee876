/** Shallow-merges user options over defaults, ignoring `undefined` values so a missing flag keeps its default. */
export function withDefaults<T extends object>(defaults: T, opts: Partial<T> | undefined): T {
  const out = { ...defaults };
  if (opts) {
    for (const [k, v] of Object.entries(opts)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}
