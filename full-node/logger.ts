/**
 * A leveled logger writing one line per event to stderr (stdout stays free for data).
 *
 * @module
 */

/** Log levels, most severe first. */
export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = typeof LOG_LEVELS[number];

/** What components log through; injected so tests can silence or capture it. */
export interface Logger {
  /** Something failed. */
  error(message: string): void;
  /** Something is off but the node carries on. */
  warn(message: string): void;
  /** Progress a user wants to see. */
  info(message: string): void;
  /** Detail for debugging. */
  debug(message: string): void;
}

/**
 * A logger printing messages at `level` and more severe, each prefixed with the time.
 *
 * @example
 * ```ts
 * const log = createLogger("info");
 * log.info("listening on 127.0.0.1:7700");
 * ```
 */
export function createLogger(level: LogLevel, write: (line: string) => void = (l) => console.error(l)): Logger {
  const max = LOG_LEVELS.indexOf(level);
  const at = (l: LogLevel) => (message: string) => {
    if (LOG_LEVELS.indexOf(l) <= max) write(`${new Date().toISOString().slice(11, 19)} ${l.padEnd(5)} ${message}`);
  };
  return { error: at("error"), warn: at("warn"), info: at("info"), debug: at("debug") };
}

/** A logger that drops everything. */
export const silentLogger: Logger = { error() {}, warn() {}, info() {}, debug() {} };
