/**
 * @module `npm run smoke -- <url> [--key <key>] [--allow-skips]`: checks a deployed proxy
 * from outside, as its callers will reach it. /health says the config is valid, but never
 * reaches the upstream; these checks do, so a wrong or under-scoped CLOUDFLARE_API_TOKEN, a
 * missing Durable Object or a paused budget shows now rather than as 502s later. The key
 * (or SMOKE_API_KEY) should hold status:read and sessions:read:
 *   npm run key:create -- smoke status:read sessions:read
 * A check that cannot be made (no key, or a key without the scope) is named as skipped,
 * and fails the run unless `--allow-skips` says that is expected.
 */

type Verdict = "ok" | "skipped" | "fail";
const results: { verdict: Verdict; line: string }[] = [];
const mark = { ok: "✓", skipped: "-", fail: "✗" } as const;

function report(verdict: Verdict, line: string): void {
  results.push({ verdict, line });
  console.log(`${mark[verdict]} ${line}`);
}

function usage(message: string): never {
  console.error(
    `${message}\nusage: npm run smoke -- <proxy url> [--key <API key>] [--allow-skips]   (or SMOKE_API_KEY=<key>)`,
  );
  process.exit(2);
}

const args = process.argv.slice(2);
const allowSkips = args.includes("--allow-skips");
const keyAt = args.indexOf("--key");
const key = keyAt >= 0 ? args[keyAt + 1] : process.env.SMOKE_API_KEY;
const base = args.find((arg, i) => !arg.startsWith("--") && !(keyAt >= 0 && i === keyAt + 1));
if (!base || !URL.canParse(base)) usage("give the proxy's URL, e.g. https://proxy.example.com");
const proxy = base.replace(/\/+$/, "");

interface Answer {
  status: number;
  body: {
    success?: boolean;
    data?: Record<string, unknown>;
    error?: { message?: string };
    status?: string;
    version?: string;
  };
  headers: Headers;
}

async function get(path: string, withKey = false): Promise<Answer | undefined> {
  try {
    const headers: Record<string, string> = withKey && key ? { Authorization: `Bearer ${key}` } : {};
    const response = await fetch(`${proxy}${path}`, { headers, signal: AbortSignal.timeout(15_000) });
    const body = (await response.json().catch(() => ({}))) as Answer["body"];
    return { status: response.status, body, headers: response.headers };
  } catch (error) {
    report("fail", `${path}: no answer (${error instanceof Error ? error.message : String(error)})`);
    return undefined;
  }
}

const health = await get("/health");
if (health?.status === 200)
  report("ok", `/health: configuration valid, version ${health.body.status && health.body.version}`);
else if (health) report("fail", `/health answered ${health.status}: ${health.body.error?.message ?? "?"}`);

const meeting = await get(`/meetings/${crypto.randomUUID()}/active-session`, true);
if (meeting?.status === 404 && /No active session/i.test(meeting.body.error?.message ?? "")) {
  report("ok", "active-session: the upstream accepted the token and answered a made-up meeting with its 404");
} else if (meeting?.status === 502) {
  report(
    "fail",
    `active-session: ${meeting.body.error?.message} (check CLOUDFLARE_API_TOKEN and its Realtime permission)`,
  );
} else if (meeting) {
  report("fail", `active-session answered ${meeting.status}: ${meeting.body.error?.message ?? ""}`);
}

if (!key) {
  report("skipped", "/status and /sessions: no key given (--key, with status:read and sessions:read)");
} else {
  const status = await get("/status", true);
  if (status?.status === 200) {
    const budget = status.body.data?.budget as { available?: number; limit?: number } | undefined;
    const paused = status.body.data?.paused_until;
    report("ok", `/status: the budget gate answers, ${budget?.available} of ${budget?.limit} permits left`);
    if (paused) report("fail", `every upstream call is paused until ${String(paused)} (DELETE /status/pause lifts it)`);
  } else if (status?.status === 403) {
    report("skipped", `/status: the key lacks status:read (${status.body.error?.message})`);
  } else if (status) {
    report("fail", `/status answered ${status.status}: ${status.body.error?.message}`);
  }
  // A query no cache holds, so the answer comes from the upstream now.
  const sessions = await get(`/sessions?per_page=1&search=smoke-${crypto.randomUUID()}`, true);
  if (sessions?.status === 200) report("ok", "/sessions: the upstream accepted the token and listed sessions");
  else if (sessions?.status === 502) {
    report(
      "fail",
      `/sessions: ${sessions.body.error?.message} (check CLOUDFLARE_API_TOKEN and its Realtime permission)`,
    );
  } else if (sessions?.status === 403) {
    report("skipped", `/sessions: the key lacks sessions:read (${sessions.body.error?.message})`);
  } else if (sessions) {
    report("fail", `/sessions answered ${sessions.status}: ${sessions.body.error?.message}`);
  }
}

const failed = results.filter(({ verdict }) => verdict === "fail").length;
const skipped = results.filter(({ verdict }) => verdict === "skipped").length;
if (failed) console.log(`\n${failed} check(s) failed${skipped ? `, ${skipped} skipped` : ""}`);
else if (skipped && !allowSkips) {
  console.log(`\n${skipped} check(s) skipped, so the deployment is not fully checked (--allow-skips accepts that)`);
} else
  console.log(`\nthe deployment answers as it should${skipped ? ` (${skipped} check(s) skipped, as allowed)` : ""}`);
process.exitCode = failed || (skipped && !allowSkips) ? 1 : 0;

export {};
