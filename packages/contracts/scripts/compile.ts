import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
// solc-js (emscripten/wasm build of solc 0.8.30): compiles offline, same output on every machine.
import solc from "solc";

export const CONTRACTS_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "contracts");
export const SOLC_VERSION = "0.8.30";

/** Compiler settings are part of the artifact: changing them changes the bytecode, and the drift test sees it. */
export const COMPILER_SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: "prague",
  metadata: { bytecodeHash: "none" },
  outputSelection: {
    "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "storageLayout"] },
  },
} as const;

export interface ContractArtifact {
  contractName: string;
  sourceName: string;
  compiler: { version: string; settings: typeof COMPILER_SETTINGS };
  abi: unknown[];
  bytecode: string;
  deployedBytecode: string;
  storageLayout: unknown;
}

interface SolcOutput {
  errors?: Array<{ severity: string; formattedMessage: string }>;
  contracts: Record<
    string,
    Record<
      string,
      {
        abi: unknown[];
        evm: { bytecode: { object: string }; deployedBytecode: { object: string } };
        storageLayout: unknown;
      }
    >
  >;
}

/** Compiles every contracts/*.sol and returns the artifact of `contractName` (defined in `<contractName>.sol`). */
export function compileContract(contractName: string): ContractArtifact {
  const sources: Record<string, string> = {};
  for (const file of readdirSync(CONTRACTS_DIR).sort()) {
    if (file.endsWith(".sol")) sources[file] = readFileSync(join(CONTRACTS_DIR, file), "utf8");
  }
  return compileSources(sources, contractName);
}

/** Compiles in-memory sources (file name -> text) with the same settings; used by tests for helper contracts. */
export function compileSources(files: Record<string, string>, contractName: string): ContractArtifact {
  const sources: Record<string, { content: string }> = {};
  for (const [name, content] of Object.entries(files)) sources[name] = { content };
  const input = { language: "Solidity", sources, settings: COMPILER_SETTINGS };
  const version = solc.version();
  if (!version.startsWith(`${SOLC_VERSION}+`)) throw new Error(`expected solc ${SOLC_VERSION}, found ${version}`);
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as SolcOutput;
  const errors = (output.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length > 0) throw new Error(`solc failed:\n${errors.map((e) => e.formattedMessage).join("\n")}`);
  // Warnings do not change the output, but a clean build is the rule: fail on them so they get fixed.
  const warnings = (output.errors ?? []).filter((e) => e.severity === "warning");
  if (warnings.length > 0) throw new Error(`solc warnings:\n${warnings.map((e) => e.formattedMessage).join("\n")}`);
  const sourceName = `${contractName}.sol`;
  const contract = output.contracts[sourceName]?.[contractName];
  if (contract === undefined) throw new Error(`no contract ${contractName} in ${sourceName}`);
  return {
    contractName,
    sourceName,
    compiler: { version, settings: COMPILER_SETTINGS },
    abi: contract.abi,
    bytecode: `0x${contract.evm.bytecode.object}`,
    deployedBytecode: `0x${contract.evm.deployedBytecode.object}`,
    storageLayout: contract.storageLayout,
  };
}
