import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { Ajv2019 } from "ajv/dist/2019.js";
import yaml from "js-yaml";

/**
 * OpenRPC result schemas assembled from execution-apis `src/` YAML (the job hive's Go `specgen` does): method
 * lists in `src/{eth,debug,txpool,testing}/*.yaml` and `src/engine/openrpc/methods`, shared component schemas in
 * `src/schemas/*.yaml` and `src/engine/openrpc/schemas/*.yaml`. Validated with ajv (JSON Schema 2019-09).
 */

type Schema = Record<string, unknown>;
type Validator = ((data: unknown) => boolean) & { errors?: unknown };

function yamlFiles(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith(".yaml"))
      .map((f) => path.join(dir, f));
  } catch {
    return [];
  }
}

/** Rewrites `#/components/schemas/X` refs to `#/$defs/X` so one document holds everything. */
function rewriteRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node !== null && typeof node === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      out[k] = k === "$ref" && typeof v === "string" ? v.replace("#/components/schemas/", "#/$defs/") : rewriteRefs(v);
    }
    return out;
  }
  return node;
}

export class SpecSchemas {
  private readonly defs: Record<string, unknown> = {};
  private readonly results = new Map<string, Schema>();
  private readonly compiled = new Map<string, Validator>();
  private readonly ajv = new Ajv2019({ strict: false, allErrors: false, validateFormats: false });

  constructor(srcDir: string) {
    for (const file of [...yamlFiles(path.join(srcDir, "schemas")), ...yamlFiles(path.join(srcDir, "engine/openrpc/schemas"))]) {
      const doc = yaml.load(readFileSync(file, "utf8")) as Record<string, unknown> | undefined;
      if (doc !== undefined && doc !== null) Object.assign(this.defs, rewriteRefs(doc));
    }
    const methodDirs = ["eth", "debug", "txpool", "testing", "engine/openrpc/methods"].map((d) => path.join(srcDir, d));
    for (const file of methodDirs.flatMap(yamlFiles)) {
      const methods = yaml.load(readFileSync(file, "utf8")) as { name: string; result?: { schema?: Schema } }[] | undefined;
      if (!Array.isArray(methods)) continue;
      for (const m of methods)
        if (m?.result?.schema !== undefined) this.results.set(m.name, rewriteRefs(m.result.schema) as Schema);
    }
  }

  has(method: string): boolean {
    return this.results.has(method);
  }

  /** undefined when `result` fits the method's result schema, else ajv's first errors. */
  validateResult(method: string, result: unknown): string | undefined {
    let validate = this.compiled.get(method);
    if (validate === undefined) {
      const schema = this.results.get(method);
      if (schema === undefined) return `no result schema for ${method}`;
      validate = this.ajv.compile({ ...schema, $defs: this.defs }) as Validator;
      this.compiled.set(method, validate);
    }
    if (validate(result)) return undefined;
    return JSON.stringify(validate.errors).slice(0, 400);
  }
}
