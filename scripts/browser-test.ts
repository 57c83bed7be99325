/**
 * @module `npm run test:browser`: the example frontend in headless Chromium (Debian's
 * /usr/bin/chromium, driven by playwright-core), against `npm start`'s proxy and fake
 * upstream. Checks that the page renders real data cross-origin after a CORS
 * preflight, that no token or API key ever reaches the page, and that a page on an
 * unlisted origin is refused by the browser. Loopback only; every wait is bounded.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import type { Server } from "node:http";
import { type Browser, chromium, type Page } from "playwright-core";
import { FAKE_API_TOKEN } from "../dev/fake-upstream/data.ts";
import { LOCAL_API_KEY, LOCAL_NARROW_API_KEY } from "../dev/local-keys.ts";
import { PORTS, requireFree } from "../dev/ports.ts";
import { serveExample } from "../examples/frontend/serve.ts";

const PROXY_PORT = PORTS.proxy.port;
const LISTED_PORT = PORTS.example.port;
// Another origin, which ALLOWED_ORIGINS does not list.
const UNLISTED_PORT = PORTS.example.port + 1;
const LIVE_MEETING = "6bf2b8be-04dd-4191-b602-1128921a306b";
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
      const documented = Object.keys(JSON.parse(readFileSync("public/openapi.json", "utf8")).paths).length;
      const sections = await docs.locator("section").count();
      assert(sections === documented, `expected one section per documented path (${documented}), saw ${sections}`);
      const foreign = requested.filter((url) => !url.startsWith(`http://localhost:${PROXY_PORT}/`));
      assert(foreign.length === 0, `/docs fetched ${foreign.join(", ")}`);
      await docs.screenshot({ path: "test-results/docs.png" });
      await docs.close();
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
