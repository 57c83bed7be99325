/**
 * @module `npm run build:browser`: the browser client and the React hooks as the package
 * ships them (`lib/browser.js`, `lib/react.js`: minified ES modules; their declarations
 * come from `npm run build:types`). The hooks import the client's own module, so a page
 * that uses both has one client; React stays the app's own.
 */
import { gzipSync } from "node:zlib";
import { build, type Plugin } from "esbuild";

/** The most `realtimekit-proxy/browser` may weigh, gzipped. */
export const BROWSER_BUDGET_BYTES = 4 * 1024;

/** The hooks' import of the client, pointed at the client's built module instead of bundling it twice. */
const clientExternal: Plugin = {
  name: "client-external",
  setup(builder) {
    builder.onResolve({ filter: /^\.\/index\.ts$/ }, () => ({ path: "./browser.js", external: true }));
  },
};

/** Builds both entries into `outdir`; the client's size, gzipped. */
export async function buildBrowser(outdir = "lib"): Promise<{ browserGzipBytes: number }> {
  const common = { bundle: true, format: "esm", target: "es2022", minify: true, outdir, write: true } as const;
  const client = await build({ ...common, entryPoints: { browser: "browser/index.ts" }, metafile: true, write: false });
  await build({ ...common, entryPoints: { browser: "browser/index.ts" } });
  await build({
    ...common,
    entryPoints: { react: "browser/react.ts" },
    external: ["react"],
    plugins: [clientExternal],
  });
  const [output] = client.outputFiles;
  return { browserGzipBytes: gzipSync(output?.contents ?? new Uint8Array()).length };
}

if (import.meta.main) {
  const { browserGzipBytes } = await buildBrowser();
  console.log(`lib/browser.js: ${(browserGzipBytes / 1024).toFixed(2)} KiB gzip (budget 4 KiB); lib/react.js`);
}
