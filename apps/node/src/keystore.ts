/**
 * Encrypted key files for `zgnode keys`. secp256k1 operator keys use the Ethereum v3 keystore (scrypt + AES-128-CTR
 * + keccak MAC, Web3 Secret Storage; geth, MetaMask, ethers and cast read them); BLS consensus keys use the same KDF idea with AES-256-GCM in a small
 * JSON of our own (no standard covers BLS12-381 keys for a Tendermint-style chain).
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID, scrypt as scryptCb } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { expandProofOfPossession } from "@zgnode/contracts";
import { blsKeyFromSeed, blsProofOfPossession, keccak256, privateKeyToAddress } from "@zgnode/crypto";
import { bytesToHex, concatBytes, equalBytes } from "@zgnode/utils";
import { NodeError, NodeErrorCode } from "./errors.ts";

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, len: number, opts: object) => Promise<Buffer>;
const SCRYPT = { N: 1 << 17, r: 8, p: 1 };

export type KeyType = "secp256k1" | "bls";

export interface KeyEntry {
  type: KeyType;
  /** Operator address (secp256k1) or BLS public key. */
  id: string;
  file: string;
}

export interface BlsKeystore {
  version: 1;
  type: "bls";
  publicKey: string;
  crypto: {
    kdf: "scrypt";
    n: number;
    r: number;
    p: number;
    salt: string;
    cipher: "aes-256-gcm";
    iv: string;
    tag: string;
    ciphertext: string;
  };
}

function stamp(): string {
  return new Date().toISOString().replace(/:/g, "-");
}

export async function encryptBlsSeed(seed: Uint8Array, password: string): Promise<BlsKeystore> {
  const salt = randomBytes(32);
  const key = await scrypt(password, salt, 32, { ...SCRYPT, maxmem: 256 * 1024 * 1024 });
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const ciphertext = Buffer.concat([cipher.update(seed), cipher.final()]);
  return {
    version: 1,
    type: "bls",
    publicKey: bytesToHex(blsKeyFromSeed(seed).toPublicKey().toBytes()),
    crypto: {
      kdf: "scrypt",
      n: SCRYPT.N,
      r: SCRYPT.r,
      p: SCRYPT.p,
      salt: salt.toString("hex"),
      cipher: "aes-256-gcm",
      iv: iv.toString("hex"),
      tag: cipher.getAuthTag().toString("hex"),
      ciphertext: ciphertext.toString("hex"),
    },
  };
}

export async function decryptBlsSeed(ks: BlsKeystore, password: string): Promise<Uint8Array> {
  const c = ks.crypto;
  const key = await scrypt(password, Buffer.from(c.salt, "hex"), 32, { N: c.n, r: c.r, p: c.p, maxmem: 256 * 1024 * 1024 });
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(c.iv, "hex"));
  decipher.setAuthTag(Buffer.from(c.tag, "hex"));
  try {
    return new Uint8Array(Buffer.concat([decipher.update(Buffer.from(c.ciphertext, "hex")), decipher.final()]));
  } catch {
    throw new NodeError(NodeErrorCode.BAD_FILE, "wrong password or corrupted BLS keystore");
  }
}

export interface V3Keystore {
  version: 3;
  id: string;
  address: string;
  crypto: {
    cipher: "aes-128-ctr";
    cipherparams: { iv: string };
    ciphertext: string;
    kdf: "scrypt";
    kdfparams: { dklen: number; salt: string; n: number; r: number; p: number };
    mac: string;
  };
}

export async function encryptV3(privateKey: Uint8Array, password: string): Promise<V3Keystore> {
  const salt = randomBytes(32);
  const dk = await scrypt(password, salt, 32, { ...SCRYPT, maxmem: 256 * 1024 * 1024 });
  const iv = randomBytes(16);
  const cipher = createCipheriv("aes-128-ctr", dk.subarray(0, 16), iv);
  const ciphertext = Buffer.concat([cipher.update(privateKey), cipher.final()]);
  return {
    version: 3,
    id: randomUUID(),
    address: bytesToHex(privateKeyToAddress(privateKey)).slice(2),
    crypto: {
      cipher: "aes-128-ctr",
      cipherparams: { iv: iv.toString("hex") },
      ciphertext: ciphertext.toString("hex"),
      kdf: "scrypt",
      kdfparams: { dklen: 32, salt: salt.toString("hex"), n: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p },
      mac: bytesToHex(keccak256(concatBytes(dk.subarray(16, 32), ciphertext))).slice(2),
    },
  };
}

export async function decryptV3(ks: V3Keystore, password: string): Promise<Uint8Array> {
  const c = ks.crypto;
  if (c.kdf !== "scrypt" || c.cipher !== "aes-128-ctr")
    throw new NodeError(NodeErrorCode.BAD_FILE, `unsupported keystore (${c.kdf}, ${c.cipher})`);
  const k = c.kdfparams;
  const dk = await scrypt(password, Buffer.from(k.salt, "hex"), k.dklen, { N: k.n, r: k.r, p: k.p, maxmem: 256 * 1024 * 1024 });
  const ciphertext = Buffer.from(c.ciphertext, "hex");
  const mac = keccak256(concatBytes(dk.subarray(16, 32), ciphertext));
  if (!equalBytes(mac, Buffer.from(c.mac, "hex")))
    throw new NodeError(NodeErrorCode.BAD_FILE, "wrong password or corrupted keystore");
  const decipher = createDecipheriv("aes-128-ctr", dk.subarray(0, 16), Buffer.from(c.cipherparams.iv, "hex"));
  return new Uint8Array(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
}

/** Creates (or imports) a key and writes it encrypted into `dir`. */
export async function storeKey(
  dir: string,
  type: KeyType,
  password: string,
  secret?: Uint8Array,
): Promise<KeyEntry & { info: Record<string, string> }> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (type === "secp256k1") {
    const key = secret ?? new Uint8Array(randomBytes(32));
    if (key.length !== 32) throw new NodeError(NodeErrorCode.BAD_FILE, "a secp256k1 private key is 32 bytes");
    const ks = await encryptV3(key, password);
    const file = join(dir, `UTC--${stamp()}--${ks.address}.json`);
    await writeFile(file, `${JSON.stringify(ks)}\n`, { mode: 0o600 });
    return { type, id: `0x${ks.address}`, file, info: { address: `0x${ks.address}` } };
  }
  const seed = secret ?? new Uint8Array(randomBytes(32));
  if (seed.length !== 32) throw new NodeError(NodeErrorCode.BAD_FILE, "a BLS key seed is 32 bytes");
  const ks = await encryptBlsSeed(seed, password);
  const file = join(dir, `BLS--${stamp()}--${ks.publicKey.slice(2, 18)}.json`);
  await writeFile(file, `${JSON.stringify(ks, null, 2)}\n`, { mode: 0o600 });
  const sk = blsKeyFromSeed(seed);
  return {
    type,
    id: ks.publicKey,
    file,
    info: {
      publicKey: ks.publicKey,
      // What Staking.createValidator takes as proof of possession (uncompressed, 192 bytes).
      proofOfPossession: bytesToHex(expandProofOfPossession(blsProofOfPossession(sk))),
    },
  };
}

export async function listKeys(dir: string): Promise<KeyEntry[]> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith(".json")).sort();
  } catch {
    return [];
  }
  const out: KeyEntry[] = [];
  for (const f of files) {
    try {
      const j = JSON.parse(await readFile(join(dir, f), "utf8")) as { type?: string; address?: string; publicKey?: string };
      if (j.type === "bls" && j.publicKey) out.push({ type: "bls", id: j.publicKey, file: join(dir, f) });
      else if (j.address) out.push({ type: "secp256k1", id: `0x${j.address.replace(/^0x/, "")}`, file: join(dir, f) });
    } catch {
      // not a keystore
    }
  }
  return out;
}

/** Decrypts a keystore file: the private key (secp256k1) or the seed (BLS). */
export async function unlockKey(file: string, password: string): Promise<{ type: KeyType; secret: Uint8Array }> {
  const text = await readFile(file, "utf8");
  const j = JSON.parse(text) as { type?: string };
  if (j.type === "bls") return { type: "bls", secret: await decryptBlsSeed(j as BlsKeystore, password) };
  return { type: "secp256k1", secret: await decryptV3(j as V3Keystore, password) };
}
