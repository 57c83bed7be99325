/** @module `npm run size`: the production bundle's gzip size against the 64 KiB budget; fails when over. */
import { BUNDLE_BUDGET_BYTES, bundle, gzipBytes } from "./bundle.ts";

const script = bundle("dist", "wrangler.toml", "production");
const bytes = gzipBytes(script);
const verdict = bytes <= BUNDLE_BUDGET_BYTES ? "within" : "OVER";
console.log(
  `bundle: ${(bytes / 1024).toFixed(1)} KiB gzip (${bytes} bytes), budget ${BUNDLE_BUDGET_BYTES / 1024} KiB: ${verdict}`,
);
if (bytes > BUNDLE_BUDGET_BYTES) process.exitCode = 1;
