import { type FileHandle, open } from "node:fs/promises";
import { StorageError, StorageErrorCode } from "./errors.ts";

/** Random-access bytes to hash: an in-memory buffer or an open file, read block by block (never all at once). */
export interface FileSource {
  readonly size: number;
  /** Fills `target` from `position`; returns the bytes read (less than `target.length` only at the end). */
  read(target: Uint8Array, position: number): Promise<number>;
  close(): Promise<void>;
}

export function bytesSource(bytes: Uint8Array): FileSource {
  return {
    size: bytes.length,
    async read(target, position) {
      const part = bytes.subarray(position, position + target.length);
      target.set(part);
      return part.length;
    },
    async close() {},
  };
}

/** Opens `path` for streaming; the file is read in blocks, so files larger than memory are fine. */
export async function openFileSource(path: string): Promise<FileSource> {
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (err) {
    throw new StorageError(
      StorageErrorCode.FILE_READ,
      `cannot open ${path}: ${(err as Error).message}`,
      { path },
      { cause: err },
    );
  }
  const stat = await handle.stat();
  if (!stat.isFile()) {
    await handle.close();
    throw new StorageError(StorageErrorCode.FILE_READ, `${path} is not a regular file`, { path });
  }
  return {
    size: stat.size,
    async read(target, position) {
      let done = 0;
      while (done < target.length) {
        const { bytesRead } = await handle.read(target, done, target.length - done, position + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done;
    },
    close: () => handle.close(),
  };
}
