/**
 * @module `npm run example`: bundles the example page with esbuild and serves it on its
 * own origin (http://localhost:5173 by default), apart from the proxy's.
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

/** The page, bundled, reading the proxy at `proxyUrl` (npm start's, which follows PORT). */
export async function bundleExample(
  proxyUrl = PROXY_URL,
  identityProviderUrl = IDENTITY_PROVIDER_URL,
): Promise<string> {
  const result = await build({
    entryPoints: [here("./main.ts")],
    bundle: true,
    format: "esm",
    target: "es2022",
    minify: true,
    write: false,
    define: {
      __PROXY_URL__: JSON.stringify(proxyUrl),
      __IDENTITY_PROVIDER_URL__: JSON.stringify(identityProviderUrl),
    },
  });
  return result.outputFiles[0]?.text ?? "";
}

/** Serves index.html and main.js on 127.0.0.1:port; resolves once listening. */
export async function serveExample(port: number): Promise<Server> {
  const files: Record<string, [string, string]> = {
    "/": ["text/html; charset=utf-8", readFileSync(here("./index.html"), "utf8")],
    "/main.js": ["text/javascript; charset=utf-8", await bundleExample()],
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
