/** @module Structured JSON log lines, one object per line (Workers Logs indexes their fields), never a secret. */
import type { Secrets } from "./secrets.ts";
export type LogLevel = "info" | "warn" | "error";

export type LogEntry = { event: string } & Record<string, string | number | boolean | undefined>;

const protectedSecrets: Secrets[] = [];

/** The one way the proxy logs: a single object here, so tests can watch every line. */
export const logger = {
  /** Every later line is redacted of these secrets too (each app registers its own). */
  protect(secrets: Secrets): void {
    if (!protectedSecrets.includes(secrets)) protectedSecrets.push(secrets);
  },
  write(level: LogLevel, entry: LogEntry): void {
    const line = protectedSecrets.reduce((text, secrets) => secrets.redact(text), JSON.stringify({ level, ...entry }));
    if (level === "error") console.error(line);
    else if (level === "warn") console.warn(line);
    else console.log(line);
  },
};
