import { parseArgs } from "node:util";
import { bytesToHex, hexToBytes, isCodedError, isHex } from "@zgnode/utils";
import { StorageError, StorageErrorCode } from "./errors.ts";
import { fileTreeOfPath } from "./file-tree.ts";
import { encodeSubmitCalldata, submissionToJson, validateSubmission, ZERO_ADDRESS } from "./submission.ts";

export interface CommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Whether stderr is an interactive terminal (progress bar shown). */
  isTTY: boolean;
}

const USAGE = `usage: zgnode storage root <file> [options]

Prints the 0G file root and the Flow submission for <file> as JSON.

options:
  --tags <hex>          submission tags (default 0x)
  --submitter <addr>    submitter address for the current Flow ABI (default the zero address)
  --calldata <abi>      also print Flow.submit calldata: "legacy" (0xef3e12dc) or "current" (0xbc8c11f8)
  --workers <n>         hashing threads (default: all cores for files >= 16 MiB)
  --no-progress         no progress bar even on a terminal
  -h, --help            this text
`;

/** `zgnode storage root <file>`: returns the exit code (0 ok, 1 failure, 2 usage). */
export async function storageRootCommand(argv: string[], io: CommandIo): Promise<number> {
  let parsed: ReturnType<typeof parseRootArgs>;
  try {
    parsed = parseRootArgs(argv);
  } catch (err) {
    io.stderr.write(`error: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const progress = io.isTTY && parsed.progress ? new ProgressBar(io.stderr) : undefined;
  try {
    const tree = await fileTreeOfPath(parsed.file, {
      workers: parsed.workers,
      onProgress: progress ? (done, total) => progress.update(done, total) : undefined,
    });
    progress?.finish();
    const submission = tree.submission(parsed.tags, parsed.submitter);
    if (parsed.submitter !== ZERO_ADDRESS) validateSubmission(submission);
    const out: Record<string, unknown> = {
      file: parsed.file,
      size: tree.fileSize,
      root: tree.rootHex,
      chunks: tree.chunks,
      paddedChunks: tree.paddedChunks,
      segments: tree.dataSegments,
      submission: submissionToJson(submission),
    };
    if (parsed.calldata) out.calldata = bytesToHex(encodeSubmitCalldata(submission, parsed.calldata));
    io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  } catch (err) {
    progress?.finish();
    const code = isCodedError(err) ? ` [${err.code}]` : "";
    io.stderr.write(`error${code}: ${(err as Error).message}\n`);
    return 1;
  }
}

function parseRootArgs(argv: string[]): {
  file: string;
  tags: Uint8Array;
  submitter: string;
  calldata: "legacy" | "current" | undefined;
  workers: number | undefined;
  progress: boolean;
  help: boolean;
} {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      tags: { type: "string" },
      submitter: { type: "string" },
      calldata: { type: "string" },
      workers: { type: "string" },
      "no-progress": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help)
    return {
      file: "",
      tags: new Uint8Array(),
      submitter: ZERO_ADDRESS,
      calldata: undefined,
      workers: undefined,
      progress: false,
      help: true,
    };
  if (positionals.length !== 1) throw new StorageError(StorageErrorCode.INVALID_ARGUMENT, "expected exactly one <file>");
  const tagsHex = values.tags ?? "0x";
  if (!isHex(tagsHex) || tagsHex.length % 2 !== 0)
    throw new StorageError(StorageErrorCode.INVALID_ARGUMENT, `--tags must be 0x-prefixed hex`);
  const submitter = values.submitter ?? ZERO_ADDRESS;
  if (!/^0x[0-9a-fA-F]{40}$/.test(submitter))
    throw new StorageError(StorageErrorCode.INVALID_ARGUMENT, `--submitter must be a 20-byte address`);
  const calldata = values.calldata;
  if (calldata !== undefined && calldata !== "legacy" && calldata !== "current") {
    throw new StorageError(StorageErrorCode.INVALID_ARGUMENT, `--calldata must be "legacy" or "current"`);
  }
  let workers: number | undefined;
  if (values.workers !== undefined) {
    workers = Number(values.workers);
    if (!Number.isInteger(workers) || workers < 0 || workers > 256)
      throw new StorageError(StorageErrorCode.INVALID_ARGUMENT, `--workers must be 0..256`);
  }
  return {
    file: positionals[0],
    tags: hexToBytes(tagsHex),
    submitter,
    calldata,
    workers,
    progress: !values["no-progress"],
    help: false,
  };
}

/** A one-line progress bar redrawn in place on a terminal, at most ten times a second. */
class ProgressBar {
  readonly out: NodeJS.WritableStream;
  readonly started = performance.now();
  private lastDraw = 0;
  private drawn = false;

  constructor(out: NodeJS.WritableStream) {
    this.out = out;
  }

  update(done: number, total: number): void {
    const now = performance.now();
    if (done < total && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const width = 30;
    const filled = Math.round((done / total) * width);
    const mbps = done / 1e6 / Math.max((now - this.started) / 1000, 1e-3);
    const pct = ((done / total) * 100).toFixed(0).padStart(3);
    this.out.write(`\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${pct}% ${mbps.toFixed(1)} MB/s`);
    this.drawn = true;
  }

  finish(): void {
    if (this.drawn) this.out.write("\r\x1b[2K");
    this.drawn = false;
  }
}
