import { type Logger as PinoLogger, pino } from "pino";

/** The logger every package receives. Pino underneath; packages only see this interface. */
export type Logger = Pick<PinoLogger, "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "child" | "level">;

export type LogFormat = "json" | "pretty" | "auto";

export interface LoggerOptions {
  level?: string;
  /** `auto` picks pretty output on a terminal and JSON lines otherwise. */
  format?: LogFormat;
  name?: string;
  /** Where JSON lines go (file descriptor); defaults to stdout. */
  destination?: number;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? process.env.ZGNODE_LOG_LEVEL ?? "info";
  const format = opts.format ?? "auto";
  const pretty = format === "pretty" || (format === "auto" && process.stdout.isTTY === true);
  if (pretty) {
    return pino({
      level,
      name: opts.name,
      transport: { target: "pino-pretty", options: { colorize: true, translateTime: "HH:MM:ss.l", ignore: "pid,hostname" } },
    });
  }
  return pino({ level, name: opts.name, base: undefined }, pino.destination({ fd: opts.destination ?? 1, sync: false }));
}

/** A logger that drops everything, for tests and libraries used standalone. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
