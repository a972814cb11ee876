import type { CliCommand, CliIo } from "../cli.ts";

type StorageRootCommand = (
  argv: string[],
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; isTTY: boolean },
) => Promise<number>;

/** `zgnode storage root <file>`: the file's Merkle root and flow submission, from `@zgnode/storage`. */
export const command: CliCommand = {
  path: ["storage", "root"],
  summary: "print a file's 0G storage Merkle root and submission (JSON)",
  async run(argv: string[], io: CliIo): Promise<number> {
    let impl: StorageRootCommand | undefined;
    try {
      const mod = (await import("@zgnode/storage")) as { storageRootCommand?: StorageRootCommand };
      impl = mod.storageRootCommand;
    } catch {
      impl = undefined;
    }
    if (!impl) {
      io.stderr.write("error [NODE_UNAVAILABLE]: the storage package in this build has no storageRootCommand\n");
      return 1;
    }
    return impl(argv, { stdout: io.stdout, stderr: io.stderr, isTTY: io.isTTY });
  },
};
