/** @module Structured JSON log lines, one object per line (Workers Logs indexes their fields). */
export type LogLevel = "info" | "warn" | "error";

export type LogEntry = { event: string } & Record<string, string | number | boolean | undefined>;

/** The one way the proxy logs: a single object here, so tests can watch every line. */
export const logger = {
  write(level: LogLevel, entry: LogEntry): void {
    const line = JSON.stringify({ level, ...entry });
    if (level === "error") console.error(line);
    else if (level === "warn") console.warn(line);
    else console.log(line);
  },
};
