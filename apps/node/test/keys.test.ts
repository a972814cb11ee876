import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blsKeyFromSeed } from "@zgnode/crypto";
import { bytesToHex } from "@zgnode/utils";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCommands, runCli } from "../src/cli.ts";
import { listKeys, unlockKey } from "../src/keystore.ts";
import { io } from "./helpers.ts";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "zgnode-keys-"));
  await writeFile(join(dir, "pw"), "correct horse\n");
  await writeFile(join(dir, "wrong"), "battery staple\n");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("zgnode keys", () => {
  it("new writes a v3 keystore that ethers decrypts to the printed address; list shows it", async () => {
    const commands = await loadCommands();
    const a = io();
    expect(await runCli(["keys", "new", "--home", dir, "--password-file", join(dir, "pw")], a, commands)).toBe(0);
    const address = /address: (0x[0-9a-fA-F]{40})/.exec(a.out())?.[1] as string;
    const file = /file: (.*)/.exec(a.out())?.[1] as string;
    const wallet = await Wallet.fromEncryptedJson(await readFile(file, "utf8"), "correct horse");
    expect(wallet.address.toLowerCase()).toBe(address.toLowerCase());
    const l = io();
    expect(await runCli(["keys", "list", "--home", dir], l, commands)).toBe(0);
    expect(l.out().toLowerCase()).toContain(address.toLowerCase());
    await expect(unlockKey(file, "battery staple")).rejects.toMatchObject({ code: "NODE_BAD_FILE" });
  }, 60_000);

  it("import keeps the given key (secp256k1 and BLS) and unlocks only with the password", async () => {
    const commands = await loadCommands();
    const key = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
    await writeFile(join(dir, "key"), `${key}\n`);
    const a = io();
    expect(
      await runCli(
        [
          "keys",
          "import",
          "--keystore",
          join(dir, "ks"),
          "--private-key-file",
          join(dir, "key"),
          "--password-file",
          join(dir, "pw"),
        ],
        a,
        commands,
      ),
    ).toBe(0);
    expect(a.out()).toContain("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
    const b = io();
    expect(
      await runCli(
        [
          "keys",
          "import",
          "--type",
          "bls",
          "--keystore",
          join(dir, "ks"),
          "--private-key-file",
          join(dir, "key"),
          "--password-file",
          join(dir, "pw"),
        ],
        b,
        commands,
      ),
    ).toBe(0);
    const pub = bytesToHex(
      blsKeyFromSeed(Uint8Array.from(Buffer.from(key.slice(2), "hex")))
        .toPublicKey()
        .toBytes(),
    );
    expect(b.out()).toContain(`publicKey: ${pub}`);
    expect(b.out()).toMatch(/proofOfPossession: 0x[0-9a-f]{384}\n/);
    const keys = await listKeys(join(dir, "ks"));
    expect(keys.map((k) => k.type).sort()).toEqual(["bls", "secp256k1"]);
    const bls = keys.find((k) => k.type === "bls") as { file: string };
    expect(bytesToHex((await unlockKey(bls.file, "correct horse")).secret)).toBe(key);
    await expect(unlockKey(bls.file, "battery staple")).rejects.toMatchObject({ code: "NODE_BAD_FILE" });
    // Bad input: a short key is refused with a coded error, nothing written.
    await writeFile(join(dir, "short"), "0x1234\n");
    const c = io();
    expect(
      await runCli(
        [
          "keys",
          "import",
          "--keystore",
          join(dir, "ks"),
          "--private-key-file",
          join(dir, "short"),
          "--password-file",
          join(dir, "pw"),
        ],
        c,
        commands,
      ),
    ).toBe(1);
    expect(c.err()).toContain("NODE_BAD_FILE");
    expect(await listKeys(join(dir, "ks"))).toHaveLength(2);
  }, 60_000);
});
