/**
 * @module `npm run test:browser`: the example frontends (plain, and React) in headless
 * Chromium (Debian's /usr/bin/chromium, driven by playwright-core), against `npm start`'s
 * proxy and fake upstream. Checks that the pages render real data cross-origin after a
 * CORS preflight, that no token or API key ever reaches them, that a page on an unlisted
 * origin is refused by the browser, and that the browser client is polite: a hidden page
 * makes no request, two tabs poll as one, 304s are used, a `Retry-After` is waited out.
 * Loopback only; every wait is bounded.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import type { Server } from "node:http";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { FAKE_API_TOKEN } from "../dev/fake-upstream/data.ts";
import { LOCAL_API_KEY, LOCAL_NARROW_API_KEY } from "../dev/local-keys.ts";
import { PORTS, requireFree } from "../dev/ports.ts";
import { serveExample } from "../examples/frontend/serve.ts";

const PROXY_PORT = PORTS.proxy.port;
const LISTED_PORT = PORTS.example.port;
// Another origin, which ALLOWED_ORIGINS does not list.
const UNLISTED_PORT = PORTS.example.port + 1;
const LIVE_MEETING = "6bf2b8be-04dd-4191-b602-1128921a306b";
/** Meetings of their own for the polling checks, so that no other page's requests count. */
const POLITE = {
  hidden: "0d4e6a8c-2b1f-4e3d-9c5b-7a6f8e9d0c1b",
  alone: "qwerty-asdfgh",
  twoTabs: "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
  retryAfter: "3c2b1a09-8f7e-4d6c-9b5a-4e3d2c1b0a9f",
};
/** How long the polling checks watch. */
const WATCH_MS = 30_000;
const SECRETS = [FAKE_API_TOKEN, LOCAL_API_KEY, LOCAL_NARROW_API_KEY, "rkp_"];
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOT = "test-results/example-frontend.png";

const results: { name: string; error?: string }[] = [];

async function check(name: string, body: () => Promise<void>) {
  try {
    await body();
    results.push({ name });
    console.log(`  ✓ ${name}`);
  } catch (error) {
    results.push({ name, error: String(error) });
    console.log(`  ✗ ${name}\n    ${String(error)}`);
  }
}

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** `npm start`, with /sessions public so a page without a key can list sessions. */
async function startProxy(): Promise<{ child: ChildProcess; output: () => string }> {
  let output = "";
  const child = spawn("npm", ["start", "--", "--var", "PUBLIC_ROUTES:active-session,sessions,health"], {
    detached: true,
    env: { ...process.env, PORT: String(PROXY_PORT), EXAMPLE_PORT: String(LISTED_PORT) },
  });
  child.stdout?.on("data", (chunk) => (output += chunk));
  child.stderr?.on("data", (chunk) => (output += chunk));
  const deadline = Date.now() + 120_000;
  while (!output.includes("is ready on")) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`npm start did not get ready:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { child, output: () => output };
}

/**
 * Headless Chromium keeps every page visible, so a page's visibility is set here as the
 * browser would report it (`document.visibilityState`, `visibilitychange`): `?hidden`
 * opens it hidden, `window.setHidden(false)` shows it. (A string: it runs in the page.)
 */
const CONTROL_VISIBILITY = `(() => {
  let hidden = new URLSearchParams(location.search).has("hidden");
  Object.defineProperty(Document.prototype, "visibilityState", { configurable: true, get: () => (hidden ? "hidden" : "visible") });
  Object.defineProperty(Document.prototype, "hidden", { configurable: true, get: () => hidden });
  window.setHidden = (value) => {
    hidden = value;
    document.dispatchEvent(new Event("visibilitychange"));
  };
})();`;

/** A tab of the example page watching `meeting`, with the times and statuses of its active-session requests. */
async function openWatching(context: BrowserContext, meeting: string, query = "") {
  const page = await context.newPage();
  await page.addInitScript({ content: CONTROL_VISIBILITY });
  const requests: number[] = [];
  const statuses: number[] = [];
  const path = `/meetings/${meeting}/active-session`;
  page.on("request", (request) => {
    if (request.method() === "GET" && request.url().includes(path)) requests.push(Date.now());
  });
  page.on("response", (response) => {
    if (response.request().method() === "GET" && response.url().includes(path)) statuses.push(response.status());
  });
  await page.goto(`http://localhost:${LISTED_PORT}/?meeting=${meeting}${query}`);
  return { page, requests, statuses };
}

async function pageText(page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).textContent({ timeout: 5_000 })) ?? "";
}

async function main() {
  await requireFree(PORTS.proxy, PORTS.upstream, PORTS.example, { variable: "EXAMPLE_PORT", port: UNLISTED_PORT });
  mkdirSync("test-results", { recursive: true });
  const proxy = await startProxy();
  const servers: Server[] = [];
  let launched: Browser | undefined;
  // Whatever fails (Chromium not launching included), everything started here is stopped.
  try {
    servers.push(await serveExample(LISTED_PORT), await serveExample(UNLISTED_PORT));
    launched = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    const browser = launched;
    const page = await browser.newPage();
    const preflights: string[] = [];
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Network.enable");
    cdp.on("Network.requestWillBeSent", (event) => {
      if (event.request.method === "OPTIONS" || event.type === "Preflight") preflights.push(event.request.url);
    });
    const bodies: string[] = [];
    page.on("response", async (response) => bodies.push(await response.text().catch(() => "")));

    await page.goto(`http://localhost:${LISTED_PORT}/?meeting=${LIVE_MEETING}`);

    await check("the page on a listed origin renders the meeting's live session from the fake upstream", async () => {
      await page.waitForSelector('#active-session[data-state="live"]', { timeout: 15_000 });
      const text = await pageText(page, "#active-session");
      assert(text.includes("Weekly engineering sync"), `active session shows: ${text}`);
    });

    await check("it renders a page of that meeting's sessions", async () => {
      await page.waitForSelector('#sessions[data-state="loaded"]', { timeout: 15_000 });
      const rows = await page.locator("#sessions tr").count();
      assert(rows > 1, `expected session rows, got ${rows - 1}`);
    });

    await check("a CORS preflight happened and succeeded", async () => {
      assert(preflights.length > 0, "the browser reported no preflight");
      assert(/OPTIONS \/\S+ 204/.test(proxy.output()), "the proxy logged no answered OPTIONS request");
    });

    await check("no Cloudflare token or API key is present in the page", async () => {
      const everything = [
        await page.content(),
        ...bodies,
        JSON.stringify(await page.evaluate(() => ({ ...localStorage }))),
        JSON.stringify(await page.evaluate(() => ({ ...sessionStorage }))),
        JSON.stringify(await page.context().cookies()),
      ].join("\n");
      for (const secret of SECRETS) assert(!everything.includes(secret), `found ${secret.slice(0, 6)}… in the page`);
    });

    await check(
      "a signed-in user joins, and the page hands the proxy's participant token to RealtimeKitClient.init",
      async () => {
        // RealtimeKit's servers are out of reach offline: their requests are answered here, and recorded.
        const sdkRequests: { url: string; authorization: string }[] = [];
        await page.route(/realtime\.cloudflare\.com/, async (route) => {
          const request = route.request();
          sdkRequests.push({ url: request.url(), authorization: request.headers().authorization ?? "" });
          await route.fulfill({ status: 503, body: "offline" });
        });
        const joined = page.waitForResponse((response) => response.url().endsWith(`/meetings/${LIVE_MEETING}/join`));
        await page.selectOption("#user-role", "host");
        await page.click("#join-form button");
        const answer = (await (await joined).json()) as { data: { token: string; preset_name: string } };
        assert(answer.data.preset_name === "group_call_host", `joined with preset ${answer.data.preset_name}`);
        await page.waitForSelector('#join[data-state="offline"], #join[data-state="ready"]', { timeout: 30_000 });
        assert(
          sdkRequests.some(({ authorization }) => authorization === `Bearer ${answer.data.token}`),
          `RealtimeKit's SDK did not use the participant token: ${JSON.stringify(sdkRequests.map(({ url }) => url))}`,
        );
      },
    );

    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    if (process.argv.includes("--update-docs-screenshot")) {
      await page.screenshot({ path: "docs/example-frontend.png", fullPage: true });
    }

    await check("the reference page at /docs renders, with nothing fetched from elsewhere", async () => {
      const docs = await browser.newPage();
      const requested: string[] = [];
      docs.on("request", (request) => requested.push(request.url()));
      const response = await docs.goto(`http://localhost:${PROXY_PORT}/docs`);
      assert(response?.status() === 200, `/docs answered ${response?.status()}`);
      const title = await pageText(docs, "h1");
      assert(title.includes("realtimekit-proxy"), `/docs title: ${title}`);
      const paths = JSON.parse(readFileSync("public/openapi.json", "utf8")).paths as Record<string, object>;
      const documented = Object.values(paths).reduce((sum, methods) => sum + Object.keys(methods).length, 0);
      const sections = await docs.locator("section").count();
      assert(sections === documented, `expected one section per operation (${documented}), saw ${sections}`);
      const foreign = requested.filter((url) => !url.startsWith(`http://localhost:${PROXY_PORT}/`));
      assert(foreign.length === 0, `/docs fetched ${foreign.join(", ")}`);
      await docs.screenshot({ path: "test-results/docs.png" });
      await docs.close();
    });

    await check(
      "React: the hooks render the meeting's live session, and useJoin's token reaches RealtimeKit's SDK",
      async () => {
        const react = await browser.newPage();
        const sdkRequests: string[] = [];
        await react.route(/realtime\.cloudflare\.com/, async (route) => {
          sdkRequests.push(route.request().headers().authorization ?? "");
          await route.fulfill({ status: 503, body: "offline" });
        });
        await react.goto(`http://localhost:${LISTED_PORT}/react/?meeting=${LIVE_MEETING}`);
        const live = await pageText(react, '[data-testid="live"]');
        assert(live.includes("Weekly engineering sync"), `the React page shows: ${live}`);
        const joined = react.waitForResponse((response) => response.url().endsWith(`/meetings/${LIVE_MEETING}/join`));
        await react.click('[data-testid="join"] button');
        const answer = (await (await joined).json()) as { data: { token: string } };
        await react.waitForSelector('[data-testid="join"][data-state="token"]', { timeout: 15_000 });
        const deadline = Date.now() + 30_000;
        while (!sdkRequests.includes(`Bearer ${answer.data.token}`) && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
        assert(sdkRequests.includes(`Bearer ${answer.data.token}`), "RealtimeKit's SDK did not use the join's token");
        await react.close();
      },
    );

    await check(
      `polite polling, ${WATCH_MS / 1000} s: a hidden page makes no request; two tabs make as many as one; 304s are used`,
      async () => {
        const context = await browser.newContext();
        const hidden = await openWatching(context, POLITE.hidden, "&hidden");
        const alone = await openWatching(context, POLITE.alone);
        const tabs = [await openWatching(context, POLITE.twoTabs), await openWatching(context, POLITE.twoTabs)];
        await new Promise((resolve) => setTimeout(resolve, WATCH_MS));
        const both = tabs.reduce((sum, tab) => sum + tab.requests.length, 0);
        const counts = `hidden ${hidden.requests.length}, one tab ${alone.requests.length}, two tabs ${both}`;
        console.log(`    requests in ${WATCH_MS / 1000} s: ${counts}`);
        assert(hidden.requests.length === 0, `the hidden page made requests (${counts})`);
        assert(alone.requests.length >= 3, `one tab polled too little (${counts})`);
        assert(Math.abs(both - alone.requests.length) <= 1, `two tabs did not poll as one (${counts})`);
        for (const tab of tabs)
          await tab.page.waitForSelector('#active-session[data-state="live"]', { timeout: 5_000 });
        assert(alone.statuses.includes(304), `no 304 among ${alone.statuses.join(", ")}`);
        await hidden.page.evaluate("window.setHidden(false)");
        await hidden.page.waitForSelector('#active-session[data-state="idle"]', { timeout: 5_000 });
        const shown: number = hidden.requests.length;
        assert(shown === 1, `shown again, it made ${shown} requests, not 1`);
        await context.close();
      },
    );

    await check("a 503's Retry-After is waited out before the next request", async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      const times: number[] = [];
      let refused = false;
      await page.route(`**/meetings/${POLITE.retryAfter}/active-session`, async (route) => {
        times.push(Date.now());
        if (refused) return route.continue();
        refused = true;
        await route.fulfill({
          status: 503,
          contentType: "application/json",
          headers: {
            "Retry-After": "4",
            "Access-Control-Allow-Origin": `http://localhost:${LISTED_PORT}`,
            "Access-Control-Expose-Headers": "Retry-After",
          },
          body: JSON.stringify({ success: false, error: { code: 503, type: "upstream_budget", message: "budget" } }),
        });
      });
      await page.goto(`http://localhost:${LISTED_PORT}/?meeting=${POLITE.retryAfter}`);
      await page.waitForSelector('#active-session[data-state="idle"]', { timeout: 15_000 });
      assert(times.length >= 2, `${times.length} requests`);
      const waited = (times[1] ?? 0) - (times[0] ?? 0);
      assert(waited >= 4_000 && waited < 6_000, `the next request came ${waited} ms after the 503's Retry-After: 4`);
      await context.close();
    });

    await check("a page on an unlisted origin is refused by the browser", async () => {
      const other = await browser.newPage();
      const consoleErrors: string[] = [];
      other.on("console", (message) => message.type() === "error" && consoleErrors.push(message.text()));
      await other.goto(`http://localhost:${UNLISTED_PORT}/?meeting=${LIVE_MEETING}`);
      await other.waitForSelector('#active-session[data-state="error"]', { timeout: 15_000 });
      const text = await pageText(other, "#active-session");
      assert(text.includes("could not be read"), `unlisted origin shows: ${text}`);
      assert(
        consoleErrors.some((line) => line.includes("CORS") || line.includes("Access-Control-Allow-Origin")),
        `the browser reported no CORS refusal: ${consoleErrors.join(" | ")}`,
      );
      await other.close();
    });
  } finally {
    await launched?.close();
    for (const server of servers) server.close();
    if (proxy.child.pid) process.kill(-proxy.child.pid, "SIGTERM");
  }
  const failed = results.filter((result) => result.error).length;
  console.log(`\nscreenshot: ${SCREENSHOT}\n${results.length - failed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

await main();
