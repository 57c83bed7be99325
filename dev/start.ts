/**
 * @module `npm start`: the fake RealtimeKit upstream on its own port, and the proxy
 * under `wrangler dev` on http://localhost:8787 pointed at it. Offline, no account.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { DEFAULT_PUBLIC_ROUTES, type RouteName } from "../src/routes/table.ts";
import { FAKE_ACCOUNT_ID, FAKE_API_TOKEN, FAKE_APP_ID } from "./fake-upstream/data.ts";
import { startFakeUpstream } from "./fake-upstream/server.ts";
import { LOCAL_API_KEY, LOCAL_API_KEYS, LOCAL_KEYS_FILE } from "./local-keys.ts";
import { EXAMPLE_ORIGIN, PORTS, PROXY_URL, requireFree } from "./ports.ts";

await requireFree(PORTS.proxy, PORTS.upstream);
const { baseUrl, server } = await startFakeUpstream(PORTS.upstream.port);
console.log(`fake RealtimeKit upstream on ${baseUrl}`);

// Local-only values: the fake accepts exactly these. Production sets its own with
// `wrangler secret put` and vars (see the README).
const localBindings = {
  CLOUDFLARE_API_BASE_URL: baseUrl,
  CLOUDFLARE_ACCOUNT_ID: FAKE_ACCOUNT_ID,
  REALTIMEKIT_APP_ID: FAKE_APP_ID,
  CLOUDFLARE_API_TOKEN: FAKE_API_TOKEN,
  // The built-in local keys, plus any made with `npm run key:create -- ... --local`.
  API_KEYS: JSON.stringify([
    ...LOCAL_API_KEYS,
    ...(existsSync(LOCAL_KEYS_FILE) ? JSON.parse(readFileSync(LOCAL_KEYS_FILE, "utf8")) : []),
  ]),
  // The example frontend's origin (npm run example, on EXAMPLE_PORT).
  ALLOWED_ORIGINS: EXAMPLE_ORIGIN,
};
const varFlags = Object.entries(localBindings).flatMap(([name, value]) => ["--var", `${name}:${value}`]);

const wrangler = spawn(
  "wrangler",
  [
    "dev",
    "--port",
    String(PORTS.proxy.port),
    "--show-interactive-dev-session=false",
    ...varFlags,
    ...process.argv.slice(2),
  ],
  {
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" },
  },
);

function stop(code: number) {
  wrangler.kill("SIGTERM");
  server.close();
  process.exitCode = code;
}
process.once("SIGINT", () => stop(0));
process.once("SIGTERM", () => stop(0));
wrangler.once("exit", (code) => {
  server.close();
  process.exit(code ?? 0);
});

await waitForHealth();

/** `curl` lines that work as printed; the comment says what a route gives without a key. */
function tryLine(route: RouteName, path: string, note = ""): string {
  const isPublic = DEFAULT_PUBLIC_ROUTES.includes(route);
  const auth = isPublic ? "" : `-H 'Authorization: Bearer ${LOCAL_API_KEY}' `;
  const url = path.includes("?") ? `'${PROXY_URL}${path}'` : `${PROXY_URL}${path}`;
  const access = isPublic ? "public" : "with the local key (without: 401)";
  return `  curl -i ${auth}${url}   # ${[access, note].filter(Boolean).join("; ")}`;
}

const clientV4 = `/client/v4/accounts/${FAKE_ACCOUNT_ID}/realtime/kit/${FAKE_APP_ID}`;
console.log(`
realtimekit-proxy is ready on ${PROXY_URL} (Ctrl+C stops it). Try:

${[
  tryLine("health", "/health"),
  tryLine("active-session", "/meetings/6bf2b8be-04dd-4191-b602-1128921a306b/active-session"),
  tryLine("active-session", "/meetings/qwerty-asdfgh/active-session", "a V1 room name"),
  tryLine("active-session", "/meetings/0d4e6a8c-2b1f-4e3d-9c5b-7a6f8e9d0c1b/active-session", "no live session: 404"),
  tryLine("sessions", "/sessions?status=LIVE"),
  tryLine("sessions", "/sessions?per_page=5&sort_by=minutesConsumed&sort_order=DESC"),
  tryLine("sessions", "/sessions?per_page=0&status=live", "invalid: 400 naming both"),
  tryLine("session", "/sessions/5e551011-0000-4000-8000-000000000001?include_breakout_rooms=true"),
  tryLine("session-participants", "/sessions/5e551011-0000-4000-8000-000000000001/participants?view=consolidated"),
  tryLine("sessions", `${clientV4}/sessions?status=LIVE`, "the upstream-shaped path, as the cloudflare SDK calls it"),
  tryLine("status", "/status", "the upstream budget"),
].join("\n")}

The key above is local-only (dev/local-keys.ts); make real ones with npm run key:create
(add --local to use one with npm start too). Reference: ${PROXY_URL}/docs and
${PROXY_URL}/openapi.json. Example frontend: npm run example.
`);

async function waitForHealth(): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${PROXY_URL}/health`)).ok) return;
    } catch {
      // wrangler is still starting
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  console.error(`the proxy did not answer on ${PROXY_URL}/health within 2 minutes`);
  stop(1);
}
