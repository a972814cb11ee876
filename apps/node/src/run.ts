import { createLogger, type Logger } from "@zgnode/utils";
import type { CliIo } from "./cli.ts";
import type { DevNodeOptions } from "./options.ts";

export interface RunningNode {
  close(): Promise<void>;
}

/**
 * Starts a node, then waits for SIGINT/SIGTERM and closes it cleanly. A second signal forces exit.
 * Returns the exit code (0 after a clean shutdown).
 */
export async function runUntilSignal<N extends RunningNode>(
  opts: DevNodeOptions,
  io: CliIo,
  start: (opts: DevNodeOptions, logger: Logger, io: CliIo) => Promise<N>,
): Promise<number> {
  const logger = createLogger({ level: opts.logLevel, format: opts.logFormat, name: "zgnode" });
  let node: N;
  try {
    node = await start(opts, logger, io);
  } catch (err) {
    logger.fatal({ err }, "start failed");
    await new Promise((r) => setTimeout(r, 100)); // let the async log destination flush
    throw err;
  }
  // A bug that escapes every handler still closes the database cleanly before the process exits non-zero.
  const onFatal = (err: unknown) => {
    logger.fatal({ err }, "uncaught error, shutting down");
    node.close().finally(() => setTimeout(() => process.exit(1), 100));
  };
  process.once("uncaughtException", onFatal);
  process.once("unhandledRejection", onFatal);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (s: NodeJS.Signals) => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      process.once("SIGINT", () => process.exit(130));
      process.once("SIGTERM", () => process.exit(143));
      resolve(s);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
  logger.info({ signal }, "shutting down");
  await node.close();
  logger.info("stopped");
  // Anything still holding the event loop (a stray timer, a socket) must not keep a stopped node alive.
  setTimeout(() => process.exit(0), 2000).unref();
  return 0;
}
