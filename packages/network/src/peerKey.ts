import { mkdir, open, readFile, rename } from "node:fs/promises";
import { dirname } from "node:path";
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from "@libp2p/crypto/keys";
import type { PrivateKey } from "@libp2p/interface";
import { CodedError } from "@zgnode/utils";
import { NetworkErrorCode } from "./errors.ts";

/**
 * Loads the node's libp2p identity (an Ed25519 key in libp2p's protobuf encoding) from `path`, creating it on first
 * start, so the peer id other nodes know (and bootnode lists name) survives restarts.
 */
export async function loadOrCreatePeerKey(path: string): Promise<PrivateKey> {
  let raw: Uint8Array | undefined;
  try {
    raw = new Uint8Array(await readFile(path));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  if (raw) {
    try {
      return privateKeyFromProtobuf(raw);
    } catch (err) {
      throw new CodedError(NetworkErrorCode.INVALID_PEER_KEY, `unreadable peer key at ${path}`, undefined, { cause: err });
    }
  }
  const key = await generateKeyPair("Ed25519");
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, "w", 0o600);
  try {
    await fh.writeFile(privateKeyToProtobuf(key));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  return key;
}
