/**
 * hive rpc-compat comparison rules: the reply must equal the expected JSON exactly (no extra or missing keys,
 * array order matters), numbers compared by value; wherever both hold an `error` object, its `message` is
 * ignored, so only `code` (and `data` if present) must match.
 */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObject(v: unknown): v is Record<string, Json> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Deletes `message` from every `error` object that exists at the same path in both values. */
export function stripMatchingErrorMessages(a: Json, b: Json): void {
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) stripMatchingErrorMessages(a[i]!, b[i]!);
    return;
  }
  if (!isObject(a) || !isObject(b)) return;
  if (isObject(a.error) && isObject(b.error)) {
    delete a.error.message;
    delete b.error.message;
  }
  for (const k of Object.keys(a)) if (k in b) stripMatchingErrorMessages(a[k]!, b[k]!);
}

/** Returns undefined when equal, else the JSON path of the first difference and what differs. */
export function diffJson(actual: Json, expected: Json, at = "$"): string | undefined {
  if (typeof expected === "number" || typeof actual === "number") {
    return typeof actual === "number" && typeof expected === "number" && actual === expected
      ? undefined
      : `${at}: got ${JSON.stringify(actual)}, want ${JSON.stringify(expected)}`;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${at}: got ${short(actual)}, want an array`;
    if (actual.length !== expected.length) return `${at}: got ${actual.length} items, want ${expected.length}`;
    for (let i = 0; i < expected.length; i++) {
      const d = diffJson(actual[i]!, expected[i]!, `${at}[${i}]`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  if (isObject(expected)) {
    if (!isObject(actual)) return `${at}: got ${short(actual)}, want an object`;
    for (const k of Object.keys(expected)) {
      if (!(k in actual)) return `${at}.${k}: missing`;
      const d = diffJson(actual[k]!, expected[k]!, `${at}.${k}`);
      if (d !== undefined) return d;
    }
    for (const k of Object.keys(actual)) if (!(k in expected)) return `${at}.${k}: unexpected key (${short(actual[k]!)})`;
    return undefined;
  }
  return actual === expected ? undefined : `${at}: got ${short(actual)}, want ${short(expected)}`;
}

function short(v: Json): string {
  const s = JSON.stringify(v);
  return s.length > 160 ? `${s.slice(0, 160)}…` : s;
}

/** Compares one raw reply with the expected line under hive's rules. */
export function compareResponse(actualText: string, expectedText: string): string | undefined {
  let actual: Json;
  try {
    actual = JSON.parse(actualText) as Json;
  } catch {
    return `reply is not JSON: ${actualText.slice(0, 160)}`;
  }
  const expected = JSON.parse(expectedText) as Json;
  stripMatchingErrorMessages(actual, expected);
  return diffJson(actual, expected);
}
