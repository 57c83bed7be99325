/**
 * @module `npm run size`: the production Worker bundle's gzip size against its 64 KiB
 * budget, and the browser client's (`realtimekit-proxy/browser`) against its 4 KiB; fails
 * when either is over.
 */
import { rmSync } from "node:fs";
import { BROWSER_BUDGET_BYTES, buildBrowser } from "./build-browser.ts";
import { BUNDLE_BUDGET_BYTES, bundle, gzipBytes } from "./bundle.ts";

function report(what: string, bytes: number, budget: number): boolean {
  const within = bytes <= budget;
  console.log(
    `${what}: ${(bytes / 1024).toFixed(1)} KiB gzip (${bytes} bytes), budget ${budget / 1024} KiB: ${within ? "within" : "OVER"}`,
  );
  return within;
}

const worker = gzipBytes(bundle("dist", "wrangler.toml", "production"));
const outdir = "dist/browser-size";
const { browserGzipBytes } = await buildBrowser(outdir);
rmSync(outdir, { recursive: true, force: true });
const ok = [
  report("bundle", worker, BUNDLE_BUDGET_BYTES),
  report("browser client", browserGzipBytes, BROWSER_BUDGET_BYTES),
].every(Boolean);
if (!ok) process.exitCode = 1;
