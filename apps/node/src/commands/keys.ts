import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { CliCommand, CliIo } from "../cli.ts";
import { type FlagSpec, flagHelp, parseFlags } from "../config.ts";
import { NodeError, NodeErrorCode } from "../errors.ts";

const common: FlagSpec[] = [
  {
    name: "home",
    type: "string",
    value: "<dir>",
    description: "node home; keys go to <home>/keystore",
    defaultText: "~/.zgnode",
  },
  { name: "keystore", type: "string", value: "<dir>", description: "keystore directory (overrides --home)" },
  { name: "help", type: "boolean", description: "show this help" },
];
const withPassword: FlagSpec[] = [
  {
    name: "password-file",
    type: "string",
    value: "<file>",
    description: "read the password from a file (else prompt on the TTY)",
  },
  { name: "type", type: "string", value: "secp256k1|bls", description: "key type", defaultText: "secp256k1" },
  ...common,
];
const importFlags: FlagSpec[] = [
  { name: "private-key-file", type: "string", value: "<file>", description: "hex private key (secp256k1) or 32-byte seed (bls)" },
  ...withPassword,
];

function keystoreDir(v: Record<string, unknown>): string {
  if (typeof v.keystore === "string") return v.keystore;
  return join(typeof v.home === "string" ? v.home : join(homedir(), ".zgnode"), "keystore");
}

function keyType(v: Record<string, unknown>): "secp256k1" | "bls" {
  const t = v.type ?? "secp256k1";
  if (t !== "secp256k1" && t !== "bls") throw new NodeError(NodeErrorCode.BAD_FLAG, "--type must be secp256k1 or bls");
  return t;
}

/** The password: first line of --password-file, or typed on the terminal (not echoed), twice for a new key. */
async function password(v: Record<string, unknown>, io: CliIo, confirm: boolean): Promise<string> {
  if (typeof v["password-file"] === "string") {
    const text = await readFile(v["password-file"], "utf8").catch((err: Error) => {
      throw new NodeError(NodeErrorCode.BAD_FILE, `cannot read password file: ${err.message}`);
    });
    const pw = text.split(/\r?\n/)[0];
    if (!pw) throw new NodeError(NodeErrorCode.BAD_FILE, "password file is empty");
    return pw;
  }
  if (!process.stdin.isTTY) throw new NodeError(NodeErrorCode.BAD_FLAG, "no TTY: pass --password-file <file>");
  const ask = (q: string) =>
    new Promise<string>((resolve) => {
      const rl = createInterface({ input: process.stdin, output: io.stderr, terminal: true });
      const write = (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput;
      io.stderr.write(q);
      (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
        if (s.includes("\n")) write.call(rl, "\n");
      };
      rl.question("", (answer) => {
        rl.close();
        resolve(answer);
      });
    });
  const pw = await ask("Password: ");
  if (!pw) throw new NodeError(NodeErrorCode.BAD_FLAG, "empty password");
  if (confirm && (await ask("Repeat password: ")) !== pw) throw new NodeError(NodeErrorCode.BAD_FLAG, "passwords differ");
  return pw;
}

function printKey(io: CliIo, k: { type: string; file: string; info: Record<string, string> }): void {
  io.stdout.write(`type: ${k.type}\n`);
  for (const [name, value] of Object.entries(k.info)) io.stdout.write(`${name}: ${value}\n`);
  io.stdout.write(`file: ${k.file}\n`);
}

export const commands: CliCommand[] = [
  {
    path: ["keys", "new"],
    summary: "create a key in an encrypted keystore (secp256k1 operator or BLS consensus key)",
    async run(argv: string[], io: CliIo): Promise<number> {
      const v = parseFlags(argv, io.env, withPassword);
      if (v.help) {
        io.stdout.write(flagHelp("keys new", "create a key in an encrypted keystore", withPassword));
        return 0;
      }
      const { storeKey } = await import("../keystore.ts");
      printKey(io, await storeKey(keystoreDir(v), keyType(v), await password(v, io, true)));
      return 0;
    },
  },
  {
    path: ["keys", "list"],
    summary: "list the keys of a keystore",
    async run(argv: string[], io: CliIo): Promise<number> {
      const v = parseFlags(argv, io.env, common);
      if (v.help) {
        io.stdout.write(flagHelp("keys list", "list the keys of a keystore", common));
        return 0;
      }
      const { listKeys } = await import("../keystore.ts");
      for (const k of await listKeys(keystoreDir(v))) io.stdout.write(`${k.type.padEnd(9)}  ${k.id}  ${k.file}\n`);
      return 0;
    },
  },
  {
    path: ["keys", "import"],
    summary: "import a raw private key (or BLS seed) into an encrypted keystore",
    async run(argv: string[], io: CliIo): Promise<number> {
      const v = parseFlags(argv, io.env, importFlags);
      if (v.help) {
        io.stdout.write(flagHelp("keys import", "import a raw key into an encrypted keystore", importFlags));
        return 0;
      }
      if (typeof v["private-key-file"] !== "string")
        throw new NodeError(NodeErrorCode.BAD_FLAG, "--private-key-file is required");
      const hex = (await readFile(v["private-key-file"], "utf8")).trim();
      if (!/^(0x)?[0-9a-fA-F]{64}$/.test(hex))
        throw new NodeError(NodeErrorCode.BAD_FILE, "the key file must hold 32 bytes of hex");
      const secret = Uint8Array.from(Buffer.from(hex.replace(/^0x/, ""), "hex"));
      const { storeKey } = await import("../keystore.ts");
      printKey(io, await storeKey(keystoreDir(v), keyType(v), await password(v, io, true), secret));
      return 0;
    },
  },
];
