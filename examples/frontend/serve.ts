/**
 * @module `npm run example`: bundles the example pages (plain, and React at /react/) with
 * esbuild and serves them on their own origin (http://localhost:5173 by default), apart
 * from the proxy's.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { LOCAL_SIGN_IN } from "../../dev/fake-upstream/identity.ts";
import { EXAMPLE_ORIGIN, PORTS, PROXY_URL, requireFree } from "../../dev/ports.ts";

/** The local identity provider's token endpoint, beside npm start's fake upstream. */
const IDENTITY_PROVIDER_URL = `http://localhost:${PORTS.upstream.port}${LOCAL_SIGN_IN.tokenPath}`;

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** A page's script, bundled, reading the proxy at `proxyUrl` (npm start's, which follows PORT). */
export async function bundleExample(
  entry = here("./main.ts"),
  proxyUrl = PROXY_URL,
  identityProviderUrl = IDENTITY_PROVIDER_URL,
): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    jsx: "automatic",
    bundle: true,
    format: "esm",
    target: "es2022",
    minify: true,
    write: false,
    define: {
      // React reads it; a browser has no `process`.
      "process.env.NODE_ENV": JSON.stringify("production"),
      __PROXY_URL__: JSON.stringify(proxyUrl),
      __IDENTITY_PROVIDER_URL__: JSON.stringify(identityProviderUrl),
    },
  });
  return result.outputFiles[0]?.text ?? "";
}

/** Serves both pages (index.html and main.js; /react/ the same) on 127.0.0.1:port; resolves once listening. */
export async function serveExample(port: number): Promise<Server> {
  const html = "text/html; charset=utf-8";
  const script = "text/javascript; charset=utf-8";
  const files: Record<string, [string, string]> = {
    "/": [html, readFileSync(here("./index.html"), "utf8")],
    "/main.js": [script, await bundleExample()],
    "/react/": [html, readFileSync(here("../react/index.html"), "utf8")],
    "/react/main.js": [script, await bundleExample(here("../react/main.tsx"))],
  };
  const server = createServer((request, response) => {
    const file = files[new URL(request.url ?? "/", "http://x").pathname];
    if (!file) {
      response.writeHead(404).end("not found");
      return;
    }
    response.writeHead(200, { "Content-Type": file[0], "Cache-Control": "no-store" }).end(file[1]);
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return server;
}

/**
 * Whether the proxy lets this page's origin read its answers (npm start allows the
 * EXAMPLE_PORT it was started with): a CORS preflight, as the browser will send it.
 */
async function corsProblem(): Promise<string | undefined> {
  try {
    const preflight = await fetch(`${PROXY_URL}/health`, {
      method: "OPTIONS",
      headers: { Origin: EXAMPLE_ORIGIN, "Access-Control-Request-Method": "GET" },
    });
    if (preflight.headers.get("Access-Control-Allow-Origin") === EXAMPLE_ORIGIN) return undefined;
    return `The proxy at ${PROXY_URL} does not allow this page's origin (${EXAMPLE_ORIGIN}), so the page
would fail with CORS errors. npm start allows http://localhost:<EXAMPLE_PORT> as it was when
it started: give both the same port, e.g.

  EXAMPLE_PORT=${PORTS.example.port} npm start        and        EXAMPLE_PORT=${PORTS.example.port} npm run example`;
  } catch {
    return `No proxy answers at ${PROXY_URL} yet: start it (npm start, with the same PORT and EXAMPLE_PORT as here).`;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await requireFree(PORTS.example);
  await serveExample(PORTS.example.port);
  console.log(`example frontend on ${EXAMPLE_ORIGIN}

It reads the proxy at ${PROXY_URL} (PORT). Start that with /sessions public, so a page
without any key can list sessions:

  npm start -- --var PUBLIC_ROUTES:active-session,sessions,health
`);
  const problem = await corsProblem();
  if (problem) console.warn(`! ${problem}\n`);
}
