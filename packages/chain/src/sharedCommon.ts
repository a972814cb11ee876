import type { Common } from "@ethereumjs/common";

type Mutable = Common & { copy: () => Common; updateParams: (params: unknown) => Common };

/**
 * A copy of `common` that many objects can share. Every @ethereumjs transaction clones the Common it is given and
 * merges its parameter table into the clone, which rebuilds the parameter cache: per transaction that costs more
 * than executing a transfer. The shared copy returns itself from `copy()` and merges each parameter table once.
 * Only for objects that never change the fork of their Common (decoded transactions, a block being generated).
 */
export function createSharedCommon(common: Common): Common {
  const proto = Object.getPrototypeOf(common) as Mutable;
  // Common.copy copies own properties too: start from the prototype's copy and drop any earlier overrides.
  const shared = proto.copy.call(common) as Mutable;
  releaseSharedCommon(shared);
  const merged = new WeakSet<object>();
  shared.copy = () => shared;
  shared.updateParams = (params: unknown) => {
    if (typeof params === "object" && params !== null) {
      if (merged.has(params)) return shared;
      merged.add(params);
    }
    return proto.updateParams.call(shared, params);
  };
  return shared;
}

/** Undoes `createSharedCommon`'s overrides (the object behaves like a normal Common again). */
export function releaseSharedCommon(common: Common): void {
  delete (common as { copy?: unknown }).copy;
  delete (common as { updateParams?: unknown }).updateParams;
}
