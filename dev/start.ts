/**
 * @module `npm start`: the fake RealtimeKit upstream on its own port, and the proxy
 * under `wrangler dev` on http://localhost:8787 pointed at it. Offline, no account.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { MEETING_EVENTS } from "../src/changes/feed.ts";
import { ROUTES } from "../src/routes/table.ts";
import { bannerLines, meetingsLines, sampleParticipant, TOKEN_COMMAND } from "./banner.ts";
import { FAKE_ACCOUNT_ID, FAKE_API_TOKEN, FAKE_APP_ID } from "./fake-upstream/data.ts";
import { localSignInVars } from "./fake-upstream/identity.ts";
import { startFakeUpstream } from "./fake-upstream/server.ts";
import { WEBHOOK_KEY_PATH } from "./fake-upstream/webhooks.ts";
import { LOCAL_API_KEY, LOCAL_API_KEYS, LOCAL_KEYS_FILE } from "./local-keys.ts";

/** Where npm start keeps its managed keys between restarts (git-ignored, like the proxy's local state). */
const ADMIN_KEY_FILE = ".local-admin-key.json";
const MEETINGS_KEY_FILE = ".local-meetings-key.json";

import { EXAMPLE_ORIGIN, PORTS, PROXY_URL, requireFree } from "./ports.ts";

await requireFree(PORTS.proxy, PORTS.upstream);
const { baseUrl, server } = await startFakeUpstream(PORTS.upstream.port);
const fakeOrigin = new URL(baseUrl).origin;
console.log(`fake RealtimeKit upstream on ${baseUrl}`);
// As an operator does: the key RealtimeKit signs webhooks with, from where it publishes it.
const webhookKey = (await (await fetch(`${fakeOrigin}${WEBHOOK_KEY_PATH}`)).json()) as { data: { publicKey: string } };

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
  // User sign-in against the local identity provider beside the fake (npm run token).
  ...localSignInVars(fakeOrigin),
  // The fake's webhooks, verified with its public key (on one line: a --var is one argument).
  REALTIMEKIT_WEBHOOK_PUBLIC_KEY: webhookKey.data.publicKey.replace(/\n/g, ""),
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
await registerWebhook();
const admin = await keptLocalKey(ADMIN_KEY_FILE, { name: "local admin", owner: "npm start", scopes: ["keys:admin"] });
const meetingsKey = await keptLocalKey(MEETINGS_KEY_FILE, {
  name: "local meetings backend",
  owner: "npm start",
  scopes: ["meetings:read", "meetings:write", "sessions:moderate"],
});
const sampleKeyId = await sampleKey();

console.log(`
realtimekit-proxy is ready on ${PROXY_URL} (Ctrl+C stops it). Try:

${bannerLines({ proxyUrl: PROXY_URL, participantId: await sampleParticipant(PROXY_URL), sampleKeyId, fakeOrigin }).join("\n")}

A managed admin key of this local proxy (keys:admin; kept in ${ADMIN_KEY_FILE} and reused):

  ${admin.secret}

Run meetings from your backend, with a team's managed key (meetings:read, meetings:write,
sessions:moderate; kept in ${MEETINGS_KEY_FILE} and reused):

${meetingsLines(PROXY_URL, meetingsKey.secret, `banner-${Date.now()}`).join("\n")}

Give a team its own key with the admin key (the answer shows the team's secret once):

  curl -i -X POST -H 'Authorization: Bearer ${admin.secret}' -H 'Content-Type: application/json' -d '{"name":"Analytics dashboard","owner":"team-analytics","scopes":["sessions:read"],"rate_limit":60}' ${PROXY_URL}/keys   # the admin key; a team key

A local user's token, from the identity provider beside the fake upstream:

  ${TOKEN_COMMAND}

The key above is local-only (dev/local-keys.ts); make real ones with npm run key:create
(add --local to use one with npm start too). Reference: ${PROXY_URL}/docs and
${PROXY_URL}/openapi.json. Example frontend: npm run example.
`);

/**
 * A local managed key (the admin's, the meetings team's), made once through the admin API
 * (with the local key) and kept in a git-ignored file, so every restart prints the same one
 * (made again when the proxy's local state no longer knows it).
 */
async function keptLocalKey(file: string, spec: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  if (existsSync(file)) {
    const kept = JSON.parse(readFileSync(file, "utf8")) as { id: string; secret: string };
    const still = await fetch(`${PROXY_URL}/keys/${kept.id}/usage`, {
      headers: { Authorization: `Bearer ${kept.secret}` },
    });
    await still.body?.cancel();
    if (still.ok) return kept;
  }
  const created = await createKeyWithLocalKey(spec);
  writeFileSync(file, `${JSON.stringify(created)}\n`);
  return created;
}

/** A key for the banner's keys API lines to read, change, roll and revoke. */
async function sampleKey(): Promise<string> {
  return (await createKeyWithLocalKey({ name: "banner sample", owner: "npm start", scopes: ["sessions:read"] })).id;
}

async function createKeyWithLocalKey(body: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  const response = await fetch(`${PROXY_URL}/keys`, {
    method: "POST",
    headers: { Authorization: `Bearer ${LOCAL_API_KEY}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as { data?: { id: string; secret: string } };
  if (!answer.data) throw new Error(`creating a local key answered ${response.status}`);
  return { id: answer.data.id, secret: answer.data.secret };
}

/** Registers the proxy's webhook URL with the fake, through the upstream's API, as an operator registers it with RealtimeKit. */
async function registerWebhook(): Promise<void> {
  const webhookPath = ROUTES.find((route) => route.kind === "webhook")?.path;
  const response = await fetch(`${baseUrl}/accounts/${FAKE_ACCOUNT_ID}/realtime/kit/${FAKE_APP_ID}/webhooks`, {
    method: "POST",
    headers: { Authorization: `Bearer ${FAKE_API_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ name: "realtimekit-proxy", url: `${PROXY_URL}${webhookPath}`, events: MEETING_EVENTS }),
  });
  if (!response.ok) throw new Error(`registering the webhook with the fake answered ${response.status}`);
}

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
