/**
 * @module What `npm start` prints once ready: a `curl` line for every route of the table
 * (so a new route is in it at once), joins as a signed-in user and as a backend, and a
 * few lines that show validation, a 404 and the upstream-shaped path. Every line works as
 * printed; CI runs each one and checks the status its comment gives.
 */
import { DEFAULT_PUBLIC_ROUTES, ROUTES, type Route, type RouteName } from "../src/routes/table.ts";
import { FAKE_ACCOUNT_ID, FAKE_APP_ID } from "./fake-upstream/data.ts";
import { LOCAL_API_KEY } from "./local-keys.ts";
import { PORTS } from "./ports.ts";

const LIVE_MEETING = "6bf2b8be-04dd-4191-b602-1128921a306b";
/** A seeded meeting without a live session (the meetings lines deactivate it). */
const IDLE_MEETING = "3c2b1a09-8f7e-4d6c-9b5a-4e3d2c1b0a9f";
/**
 * The command that mints a local user's token, as the banner's join line runs it: it names
 * the identity provider's port, so the line works pasted into any shell, ports moved or not.
 */
export const TOKEN_COMMAND = `FAKE_UPSTREAM_PORT=${PORTS.upstream.port} npm run --silent token -- --sub alice --role host --name Alice`;

/** What npm start learned once ready: a participant it added, for the token refresh line; a sample key; where the fake is. */
export interface BannerContext {
  proxyUrl: string;
  participantId: string;
  /** A managed key made for the keys API's lines (they change it, roll it and revoke it). */
  sampleKeyId: string;
  fakeOrigin: string;
}

/** A value of the fake's seeded data for each path param a route of the table takes. */
function sampleParams(context: BannerContext): Record<string, string> {
  return {
    account: FAKE_ACCOUNT_ID,
    app: FAKE_APP_ID,
    meetingId: LIVE_MEETING,
    sessionId: "5e551011-0000-4000-8000-000000000001",
    participantId: context.participantId,
    keyId: context.sampleKeyId,
  };
}

function samplePath(pattern: string, context: BannerContext): string {
  const samples = sampleParams(context);
  return pattern.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    const value = samples[name];
    if (!value) throw new Error(`dev/banner.ts has no sample value for the path param :${name}`);
    return value;
  });
}

/**
 * The body a backend sends to a write route. Its custom id is new each run: the proxy's local
 * state outlives a restart (it would hand back the participant it knew, and its token), the
 * fake upstream's participants do not.
 */
const KEY_BODY = {
  custom_participant_id: `backend-user-${Date.now().toString(36)}`,
  preset_name: "group_call_participant",
  name: "Grace",
};

/** A sample body for each builtin or forwarded route that takes one. */
const SAMPLE_BODIES: Partial<Record<RouteName, unknown>> = {
  "create-key": { name: "Analytics dashboard", owner: "team-analytics", scopes: ["sessions:read"] },
  "update-key": { owner: "team-data", rate_limit: 60 },
  "roll-key": { grace_seconds: 60 },
  "create-meeting": { title: "Quarterly review" },
  "update-meeting": { title: "Weekly engineering sync (renamed)" },
  // The backend's sample participant (KEY_BODY) is in the live meeting once npm start is ready.
  kick: { custom_participant_ids: [KEY_BODY.custom_participant_id] },
};

interface Line {
  route: RouteName;
  method: string;
  path: string;
  note?: string;
  /** Who calls: the route's default (public, or the local key), a local user's token, or anyone without a signature. */
  as?: "user" | "unsigned";
  body?: unknown;
  headers?: Record<string, string>;
  /** Another key than the local one, and what it is. */
  key?: { secret: string; is: string };
}

function curlLine(proxyUrl: string, { route, method, path, note, as, body, headers = {}, key }: Line): string {
  const isPublic = DEFAULT_PUBLIC_ROUTES.includes(route) && !key;
  const auth =
    as === "user"
      ? `-H "Authorization: Bearer $(${TOKEN_COMMAND})" `
      : isPublic || as === "unsigned"
        ? ""
        : `-H 'Authorization: Bearer ${key?.secret ?? LOCAL_API_KEY}' `;
  const json = body === undefined ? "" : `-H 'Content-Type: application/json' -d '${JSON.stringify(body)}' `;
  const extra = Object.entries(headers)
    .map(([name, value]) => `-H '${name}: ${value}' `)
    .join("");
  const verb = method === "GET" ? "" : `-X ${method} `;
  const url = path.includes("?") ? `'${proxyUrl}${path}'` : `${proxyUrl}${path}`;
  const access =
    as === "user"
      ? "as a signed-in user"
      : as === "unsigned"
        ? "RealtimeKit's webhook, unsigned: 401"
        : isPublic
          ? "public"
          : `with ${key?.is ?? "the local key"} (without: 401)`;
  return `  curl -i ${verb}${auth}${extra}${json}${url}   # ${[access, note].filter(Boolean).join("; ")}`;
}

/** The lines for one route of the table: a write route is called with its body, `join` as a user and as a backend. */
function linesOf(route: Route, context: BannerContext): Line[] {
  const line = { route: route.name, method: route.method, path: samplePath(route.path, context), note: route.name };
  if (route.kind === "webhook") return [{ ...line, as: "unsigned", body: { event: "meeting.started" } }];
  if (route.kind === "builtin" || route.kind === "forwarded") {
    const body = SAMPLE_BODIES[route.name];
    const created = route.kind === "forwarded" && route.creates ? { note: `${route.name}: 201` } : {};
    return [{ ...line, ...created, ...(body === undefined ? {} : { body }) }];
  }
  if (route.kind !== "write") return [line];
  if (route.name === "join")
    return [
      { ...line, as: "user" },
      { ...line, body: KEY_BODY },
    ];
  return [{ ...line, ...(route.requestBody.key ? { body: KEY_BODY } : {}) }];
}

/** The banner's lines: every route of the table, then the demonstrations. */
export function bannerLines(context: BannerContext): string[] {
  const clientV4 = `/client/v4/accounts/${FAKE_ACCOUNT_ID}/realtime/kit/${FAKE_APP_ID}`;
  const lines: Line[] = [
    ...ROUTES.flatMap((route) => linesOf(route, context)),
    { route: "active-session", method: "GET", path: "/meetings/qwerty-asdfgh/active-session", note: "a V1 room name" },
    {
      route: "active-session",
      method: "GET",
      path: "/meetings/0d4e6a8c-2b1f-4e3d-9c5b-7a6f8e9d0c1b/active-session",
      note: "no live session: 404",
    },
    { route: "sessions", method: "GET", path: "/sessions?per_page=0&status=live", note: "invalid: 400 naming both" },
    {
      route: "sessions",
      method: "GET",
      path: `${clientV4}/sessions?status=LIVE`,
      note: "the upstream-shaped path, as the cloudflare SDK calls it",
    },
  ];
  return [...lines.map((line) => curlLine(context.proxyUrl, line)), ...meetingControlLines(context)];
}

/**
 * A team's backend running meetings with its own managed key (meetings:read,
 * meetings:write, sessions:moderate): create (twice with one Idempotency-Key: one meeting),
 * list, rename, remove someone from the live call, deactivate.
 */
export function meetingsLines(proxyUrl: string, secret: string, idempotencyKey: string): string[] {
  const key = { secret, is: "the team's key" };
  const lines: Line[] = [
    {
      route: "create-meeting",
      method: "POST",
      path: "/meetings",
      body: { title: "Design review", persist_chat: true },
      headers: { "Idempotency-Key": idempotencyKey },
      note: "creates a meeting: 201; run it again: the same meeting, Idempotent-Replayed: true",
      key,
    },
    { route: "meetings", method: "GET", path: "/meetings?search=design&per_page=5", note: "find it", key },
    {
      route: "update-meeting",
      method: "PATCH",
      path: `/meetings/${LIVE_MEETING}`,
      body: { title: "Weekly engineering sync" },
      note: "rename a meeting",
      key,
    },
    {
      route: "kick",
      method: "POST",
      path: `/meetings/${LIVE_MEETING}/active-session/kick`,
      body: { custom_participant_ids: [KEY_BODY.custom_participant_id] },
      note: "remove someone from the live call",
      key,
    },
    {
      route: "update-meeting",
      method: "PATCH",
      path: `/meetings/${IDLE_MEETING}`,
      body: { status: "INACTIVE" },
      note: "deactivate a meeting",
      key,
    },
    {
      route: "create-meeting",
      method: "POST",
      path: "/meetings",
      body: { title: "Offsite", recording_config: { storage_config: { type: "aws" } } },
      note: "recording settings stay with the Cloudflare token: 400",
      key,
    },
  ];
  return lines.map((line) => curlLine(proxyUrl, line));
}

/** Ending and starting the live meeting at the fake, which delivers the webhooks: the answers above change within 5 s. */
function meetingControlLines({ fakeOrigin }: BannerContext): string[] {
  const control = (action: string, note: string) =>
    `  curl -i -X POST ${fakeOrigin}/fake/meetings/${LIVE_MEETING}/${action}   # ${note}`;
  return [
    "",
    "Webhooks: the fake signs and delivers them to the proxy. End the live meeting, and its",
    "active session above changes within 5 s (the local TTL), with no upstream call for polling:",
    "",
    control("end", "the fake delivers meeting.ended: the active session is gone within 5 s"),
    control("start", "the fake delivers meeting.started: a new session within 5 s"),
  ];
}

/** Adds the backend's sample participant through the proxy, for the token refresh line; its id. */
export async function sampleParticipant(proxyUrl: string): Promise<string> {
  const response = await fetch(`${proxyUrl}/meetings/${LIVE_MEETING}/join`, {
    method: "POST",
    headers: { Authorization: `Bearer ${LOCAL_API_KEY}`, "Content-Type": "application/json" },
    body: JSON.stringify(KEY_BODY),
  });
  const answer = (await response.json()) as { data?: { participant_id?: string } };
  const id = answer.data?.participant_id;
  if (!id) throw new Error(`the sample join answered ${response.status}`);
  return id;
}
