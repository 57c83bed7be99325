/** @module Bundles a Worker exactly as `wrangler deploy` would (`--dry-run --outdir`), and measures it. */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";

/** The bundle budget: gzip size of the deployed script, at most 64 KiB. */
export const BUNDLE_BUDGET_BYTES = 64 * 1024;

/** Returns the path of the bundled script. */
export function bundle(outdir: string, configPath: string, env?: string): string {
  // Absolute: wrangler resolves --outdir against the config file's folder.
  const target = resolve(outdir);
  rmSync(target, { recursive: true, force: true });
  const args = ["deploy", "--dry-run", "--outdir", target, "--config", configPath, ...(env ? ["--env", env] : [])];
  const result = spawnSync("wrangler", args, {
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  if (result.status !== 0) throw new Error(`wrangler ${args.join(" ")} failed:\n${result.stderr}${result.stdout}`);
  // The bundle is named after the entry file (index.js, worker.js).
  const script = readdirSync(target).find((file) => file.endsWith(".js"));
  if (!script) throw new Error(`no bundle in ${target}`);
  return join(target, script);
}

export function gzipBytes(file: string): number {
  return gzipSync(readFileSync(file)).length;
}
