/** Compiles Solidity with npm `solc` (solc-js, WebAssembly) at test time: no binaries checked in. */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

export interface CompiledContract {
  abi: unknown[];
  bytecode: `0x${string}`;
}

interface SolcOutput {
  errors?: { severity: string; formattedMessage: string }[];
  contracts: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>>;
}

export function compileSolidity(source: string, contractName: string): CompiledContract {
  const solc = require("solc") as { compile(input: string): string };
  const input = {
    language: "Solidity",
    sources: { "Contract.sol": { content: source } },
    settings: { optimizer: { enabled: true, runs: 200 }, outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } } },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input))) as SolcOutput;
  const errors = (out.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length > 0) throw new Error(errors.map((e) => e.formattedMessage).join("\n"));
  const c = out.contracts["Contract.sol"][contractName];
  return { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` };
}

/** The e2e contract: storage, indexed events, a require with a reason and a custom error. */
export const STORE_SOURCE = `
// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

contract Store {
    error TooLarge(uint256 value, uint256 max);

    event ValueSet(address indexed setter, uint256 indexed value, string note);
    event Ping(uint256 indexed tag, address indexed from);

    uint256 public constant MAX = 1000000;
    uint256 public value;
    mapping(address => uint256) public lastBy;

    constructor(uint256 initial) {
        value = initial;
    }

    function set(uint256 v, string calldata note) external {
        if (v > MAX) revert TooLarge(v, MAX);
        value = v;
        lastBy[msg.sender] = v;
        emit ValueSet(msg.sender, v, note);
    }

    function ping(uint256 tag) external {
        emit Ping(tag, msg.sender);
    }

    function mustBePositive(uint256 v) external pure returns (uint256) {
        require(v > 0, "value must be positive");
        return v;
    }
}
`;
