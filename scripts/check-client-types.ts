/**
 * @module `npm run check:client`: proves the package's clients install and work in another
 * project. Packs the package as `npm pack` does for anyone (its `prepare` script builds
 * the declarations and the browser modules), unpacks the tarball into a temporary
 * consumer's node_modules, and type-checks a consumer that imports
 * `realtimekit-proxy/client`, `/browser` and `/react` as a dependency would: strict, no
 * `skipLibCheck`, no Workers types, no `Env`. Each route is called with typed params and
 * query; calls that must not compile are marked `@ts-expect-error` (so a loosened type
 * fails the check too). Then the consumer imports `/browser` and `/react` at run time.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");

const CONSUMER = `
import { hc } from "hono/client";
import type { AppType, SessionsEnvelope } from "realtimekit-proxy/client";
import {
  type ActiveSession,
  type ActiveSessionState,
  createProxyClient,
  type JoinData,
  type ProxyError,
} from "realtimekit-proxy/browser";
import { ProxyClientProvider, useActiveSession, useJoin } from "realtimekit-proxy/react";

const proxy = hc<AppType>("https://proxy.example.com", { headers: { Authorization: "Bearer rkp_x" } });

export async function everyRoute(meetingId: string, sessionId: string): Promise<number> {
  const active = await proxy.meetings[":meetingId"]["active-session"].$get({ param: { meetingId } });
  if (active.ok) {
    const body = await active.json();
    const associated: string = body.data.associated_id;
    void associated;
  }
  const list = await proxy.sessions.$get({ query: { status: "LIVE", per_page: "20", sort_by: "createdAt" } });
  const page: SessionsEnvelope = await list.json();
  await proxy.sessions[":sessionId"].$get({ param: { sessionId }, query: { include_breakout_rooms: "true" } });
  const people = await proxy.sessions[":sessionId"].participants.$get({
    param: { sessionId },
    query: { view: "consolidated", sort_by: "duration", include_peer_events: "false" },
  });
  const { data } = await people.json();
  const names: (string | undefined)[] = data.participants.map((participant) => participant.display_name);
  const meetings = await (await proxy.meetings.$get({ query: { status: "ACTIVE", per_page: "10" } })).json();
  const created = await proxy.meetings.$post({ json: { title: "Design review", persist_chat: true } });
  if (created.ok) {
    const id: string = (await created.json()).data.id;
    await proxy.meetings[":meetingId"].$patch({ param: { meetingId: id }, json: { status: "INACTIVE" } });
    await proxy.meetings[":meetingId"]["active-session"].kick.$post({
      param: { meetingId: id },
      json: { custom_participant_ids: ["crm-42"] },
    });
  }
  const health = await (await proxy.health.$get()).json();
  const status = await (await proxy.status.$get()).json();
  return (
    page.data.sessions.length + names.length + health.version.length + status.data.budget.available + meetings.data.length
  );
}

const browser = createProxyClient({ baseUrl: "https://proxy.example.com", getToken: async () => "id-token" });

export function watchAndJoin(meetingId: string): Promise<string> {
  const stop = browser.watchActiveSession(meetingId, (state: ActiveSessionState<ActiveSession>) => {
    const people: number | undefined = state.data?.live_participants;
    const failed: ProxyError | null = state.error;
    void people;
    void failed;
  });
  stop();
  return browser.join(meetingId, { name: "Ada" }).then((data: JoinData) => data.token);
}

export function useMeeting(meetingId: string) {
  const { data, live, error } = useActiveSession(meetingId);
  const { join, token, joining } = useJoin(meetingId);
  const title: string | undefined = data?.meeting_display_name;
  return { title, live, error, join, token, joining, provider: ProxyClientProvider };
}

export async function mistakes(sessionId: string) {
  // A managed key, through the admin API: its body typed too.
  await proxy.keys.$post({ json: { name: "Reports", owner: "team-reports", scopes: ["meetings:read"] } });
  // @ts-expect-error: a key's rate limit is a number of requests a minute
  await proxy.keys.$post({ json: { name: "Reports", owner: "team-reports", scopes: ["meetings:read"], rate_limit: "60" } });
  // @ts-expect-error: recording settings stay with the Cloudflare token
  await proxy.meetings.$post({ json: { title: "x", recording_config: {} } });
  // @ts-expect-error: a join names no preset (the proxy chooses it)
  await browser.join("m", { preset_name: "host" });
  // @ts-expect-error: the watch is told a state, not a Response
  browser.watchActiveSession("m", (state: Response) => state);
  // @ts-expect-error: an unknown query param
  await proxy.sessions.$get({ query: { colour: "red" } });
  // @ts-expect-error: active-session needs its meetingId
  await proxy.meetings[":meetingId"]["active-session"].$get({});
  // @ts-expect-error: query values are strings on the wire
  await proxy.sessions.$get({ query: { per_page: 20 } });
  // @ts-expect-error: participants are listed, not a session
  ((await (await proxy.sessions[":sessionId"].participants.$get({ param: { sessionId } })).json()).data.id);
}
`;

function run(args: string[], cwd: string): void {
  execFileSync(process.execPath, [tsc, ...args], { cwd, stdio: "inherit" });
}

const consumer = mkdtempSync(join(tmpdir(), "realtimekit-proxy-consumer-"));
try {
  // The package exactly as `npm pack` makes it (and as a git install gets it, through the same prepare script).
  const output = execFileSync("npm", ["pack", "--json", "--pack-destination", consumer], {
    cwd: root,
    encoding: "utf8",
  });
  // The prepare scripts' own lines come first; npm's JSON is the last thing it prints.
  const [packed] = JSON.parse(output.slice(output.lastIndexOf("\n[") + 1)) as {
    filename: string;
    files: { path: string }[];
  }[];
  for (const shipped of ["types/src/client.d.ts", "types/browser/index.d.ts", "lib/browser.js", "lib/react.js"]) {
    if (!packed?.files.some((file) => file.path === shipped)) throw new Error(`npm pack left out ${shipped}`);
  }
  const installed = join(consumer, "node_modules", "realtimekit-proxy");
  mkdirSync(installed, { recursive: true });
  execFileSync("tar", ["-xzf", join(consumer, packed.filename), "-C", installed, "--strip-components=1"]);
  // The libraries its types name, as npm would install them beside it (they are its dependencies).
  // React is the consumer's own (an optional peer dependency), with its types.
  mkdirSync(join(consumer, "node_modules", "@types"));
  for (const library of ["hono", "zod", "react", "@types/react", "csstype"]) {
    symlinkSync(join(root, "node_modules", library), join(consumer, "node_modules", library), "dir");
  }
  writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  writeFileSync(
    join(consumer, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        lib: ["ES2022", "DOM"],
        types: [],
        strict: true,
        noEmit: true,
        skipLibCheck: false,
      },
      include: ["consumer.ts"],
    }),
  );
  writeFileSync(join(consumer, "consumer.ts"), CONSUMER);
  run(["-p", "tsconfig.json"], consumer);
  // At run time too: the exports resolve to modules that load (React's is the consumer's).
  const loaded = execFileSync(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `const browser = await import("realtimekit-proxy/browser"); const react = await import("realtimekit-proxy/react");
       console.log(typeof browser.createProxyClient, typeof react.useActiveSession, typeof react.useJoin);`,
    ],
    { cwd: consumer, encoding: "utf8" },
  ).trim();
  if (loaded !== "function function function") throw new Error(`the browser modules loaded as: ${loaded}`);
  console.log(
    `${packed.filename} (${packed.files.length} files) installs, and a consumer project type-checks against realtimekit-proxy/client, /browser and /react (strict, no skipLibCheck, no Env), and loads /browser and /react`,
  );
} finally {
  rmSync(consumer, { recursive: true, force: true });
}
