import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderArtifactJson } from "../scripts/build.ts";
import { compileContract } from "../scripts/compile.ts";
import { stakingAbi, stakingBytecode, stakingDeployedBytecode } from "../src/index.ts";

// The committed artifacts must be exactly what the committed sources compile to with solc 0.8.30 (wasm, offline).
// If this fails after editing contracts/*.sol, run `npx -y pnpm@10.34.8 --filter @zgnode/contracts build`.
describe("committed artifacts", () => {
  const fresh = compileContract("Staking");

  it("artifacts/Staking.json equals a fresh compile", () => {
    const committed = readFileSync(new URL("../artifacts/Staking.json", import.meta.url), "utf8");
    expect(committed).toBe(renderArtifactJson(fresh));
  });

  it("the generated typed module carries the same abi and bytecode", () => {
    expect(JSON.parse(JSON.stringify(stakingAbi))).toEqual(fresh.abi);
    expect(stakingBytecode).toBe(fresh.bytecode);
    expect(stakingDeployedBytecode).toBe(fresh.deployedBytecode);
  });

  it("fits the EIP-170 code size limit and records the storage layout", () => {
    expect((fresh.deployedBytecode.length - 2) / 2).toBeLessThanOrEqual(24_576);
    const layout = fresh.storageLayout as { storage: Array<{ label: string }> };
    expect(layout.storage.map((s) => s.label)).toContain("_validators");
    expect(fresh.compiler.settings.evmVersion).toBe("prague");
  });
});
