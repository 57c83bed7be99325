/**
 * @module A fake of the RealtimeKit API, used by `npm start`, the tests, the benchmark and
 * the simulation. It checks the bearer token like Cloudflare does, serves seeded sessions
 * with every documented filter, sort and paging, the participants of meetings, and can be
 * told to fail (`POST /fake/fail-next`; `GET /fake/requests` lists what it was asked). Its
 * meetings are records (listed, created, changed, with the recording settings a real app
 * has); they start and end (`POST /fake/meetings/:id/start|end`, or someone joining),
 * people are kicked out of them, and it delivers signed webhooks of each change. Beside
 * it, a local identity provider (`/idp/...`) issues user tokens.
 */
import { type Context, Hono } from "hono";
import {
  FAKE_ACCOUNT_ID,
  FAKE_API_TOKEN,
  FAKE_APP_ID,
  generatedMeetingId,
  MEETINGS,
  type Participant,
  type SeededSession,
  type Session,
  seedSessions,
} from "./data.ts";
import { createIdentityProvider } from "./identity.ts";
import { fakeMeetingRecords } from "./meeting-records.ts";
import { fakeMeetings, type MeetingChangeEvent } from "./meetings.ts";
import { fakeParticipants } from "./participants.ts";
import { type Deliver, fakeWebhooks, WEBHOOK_KEY_PATH } from "./webhooks.ts";

/** What the next request gets instead of a normal answer (tests queue these). */
export type Fault =
  | { status: number; body?: string; headers?: Record<string, string> }
  | { network: true }
  | { hang: true }
  /** Answer normally once `until` settles: lets a test hold requests in flight. */
  | { until: Promise<unknown> };

export interface FakeUpstreamOptions {
  token?: string;
  accountId?: string;
  appId?: string;
  /** Live meetings to add to the seeded ones (see generatedMeetingId). */
  extraLiveMeetings?: number;
  /** Enforce the token's allowance as Cloudflare does: past it, every call is a 429 for the lock-out. */
  allowance?: Allowance;
  /** The clock participants and user tokens are dated by (the tests' fake clock). */
  now?: () => number;
  /** How webhook deliveries reach their URL (default: fetch). */
  deliver?: Deliver;
}

export interface Allowance {
  requests: number;
  seconds: number;
  lockoutSeconds: number;
  now: () => number;
}

/** The fake's own view of its allowance, for the simulation's report. */
export interface AllowanceLog {
  /** When each request arrived, oldest first. */
  arrivals: number[];
  lockouts: number;
  lockedUntil: number;
}

const DEFAULT_PER_PAGE = 20;
const MAX_RECORDED_REQUESTS = 10_000;

function v4Error(c: Context, status: 401 | 403, code: number, message: string) {
  return c.json({ success: false, errors: [{ code, message }], messages: [], result: null }, status);
}

function realtimeKitError(c: Context, status: 400 | 404, message: string) {
  return c.json({ success: false, error: { code: status, message } }, status);
}

/** Ids as the API compares them: a UUID in any case is one id. */
function sameId(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function matchesText(haystack: readonly string[], needle: string): boolean {
  const lowered = needle.toLowerCase();
  return haystack.some((value) => value.toLowerCase().includes(lowered));
}

function filterSessions(seeded: readonly SeededSession[], query: URLSearchParams): Session[] {
  const associatedId = query.get("associated_id");
  const status = query.get("status");
  const search = query.get("search");
  const participants = query.get("participants");
  const start = query.get("start_time");
  const end = query.get("end_time");
  return seeded
    .filter(({ session, participants: names }) => {
      if (associatedId !== null && !sameId(session.associated_id, associatedId)) return false;
      if (status !== null && session.status !== status) return false;
      if (start !== null && Date.parse(session.created_at) < Date.parse(start)) return false;
      if (end !== null && Date.parse(session.created_at) > Date.parse(end)) return false;
      if (search !== null && !matchesText([session.meeting_display_name, session.associated_id, session.id], search)) {
        return false;
      }
      return participants === null || matchesText(names, participants);
    })
    .map(({ session }) => session);
}

function sortSessions(sessions: Session[], query: URLSearchParams): Session[] {
  const key = query.get("sort_by") === "minutesConsumed" ? "minutes_consumed" : "created_at";
  const direction = query.get("sort_order") === "ASC" ? 1 : -1;
  return sessions.sort((a, b) => (a[key] < b[key] ? -direction : a[key] > b[key] ? direction : 0));
}

/** Filters, consolidates (one entry per person, durations summed), sorts and strips as the query asks. */
function selectParticipants(joins: readonly Participant[], query: URLSearchParams): Participant[] {
  const search = query.get("search");
  let listed = joins.filter(
    (p) => search === null || matchesText([p.id, p.custom_participant_id, p.display_name], search),
  );
  if (query.get("view") === "consolidated") {
    const byPerson = new Map<string, Participant>();
    for (const join of listed) {
      const seen = byPerson.get(join.user_id);
      byPerson.set(
        join.user_id,
        seen ? { ...seen, duration: seen.duration + join.duration, left_at: join.left_at } : join,
      );
    }
    listed = [...byPerson.values()];
  }
  const key = query.get("sort_by") === "duration" ? "duration" : "joined_at";
  const direction = query.get("sort_order") === "DESC" ? -1 : 1;
  listed = [...listed].sort((a, b) => (a[key] < b[key] ? -direction : a[key] > b[key] ? direction : 0));
  if (query.get("include_peer_events") === "true") return listed;
  return listed.map(({ peer_events: _events, ...participant }) => participant);
}

function breakoutRoomsOf(session: Session): Record<string, unknown>[] {
  if (session.max_concurrent_participants < 10) return [];
  return [1, 2].map((room) => ({
    id: `${session.id.slice(0, -1)}${room}`,
    name: `Room ${room}`,
    live_participants: session.status === "LIVE" ? room + 1 : 0,
  }));
}

function wholeNumber(value: string | null, fallback: number): number | undefined {
  if (value === null) return fallback;
  return /^[0-9]+$/.test(value) ? Number(value) : undefined;
}

export function createFakeUpstream(options: FakeUpstreamOptions = {}) {
  const token = options.token ?? FAKE_API_TOKEN;
  const accountId = options.accountId ?? FAKE_ACCOUNT_ID;
  const appId = options.appId ?? FAKE_APP_ID;
  const seeded = seedSessions(options.extraLiveMeetings);
  const faults: Fault[] = [];
  const allowanceLog: AllowanceLog = { arrivals: [], lockouts: 0, lockedUntil: 0 };
  const requests: Request[] = [];
  // Bodies are read as they arrive: a request made in a Durable Object cannot be read from elsewhere later.
  const bodies = new WeakMap<Request, string>();
  const now = options.now ?? Date.now;
  const identity = createIdentityProvider(now);
  const records = fakeMeetingRecords({ seeded: MEETINGS, now });
  for (let n = 0; n < (options.extraLiveMeetings ?? 0); n++) {
    records.add(generatedMeetingId(n), `Generated meeting ${n}`);
  }
  const meetingExists = records.exists;
  const meetings = fakeMeetings({ seeded, appId, now });
  const webhooks = fakeWebhooks({ appId, now, deliver: options.deliver });
  const participants = fakeParticipants({
    appId,
    now,
    meetingExists,
    onJoin: (meetingId, participant) =>
      webhooks.push(
        meetings.join(meetingId, {
          id: participant.id,
          customParticipantId: participant.custom_participant_id,
          name: participant.name,
        }),
      ),
  });
  /** Starts or ends a meeting, and delivers what RealtimeKit would; the changes made (none when already so). */
  const control = {
    start: (meetingId: string) => pushed(meetings.start(meetingId)),
    end: (meetingId: string) => pushed(meetings.end(meetingId)),
  };
  function pushed(changes: MeetingChangeEvent[]): MeetingChangeEvent[] {
    webhooks.push(changes);
    return changes;
  }
  const controlApp = new Hono();
  controlApp.post("/fake/meetings/:meetingId/:action{start|end}", (c) => {
    const meetingId = c.req.param("meetingId");
    if (!meetingExists(meetingId)) return realtimeKitError(c, 404, `No meeting ${meetingId} in the fake`);
    const changes = c.req.param("action") === "start" ? control.start(meetingId) : control.end(meetingId);
    return c.json({
      success: true,
      data: { events: changes.map(({ event, session }) => ({ event, session: session.id })) },
    });
  });

  // Tried from outside (npm start): the next answers fail as told, and what the API was asked.
  controlApp.post("/fake/fail-next", async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as { status?: unknown; times?: unknown };
    const status = typeof body.status === "number" && body.status >= 400 && body.status <= 599 ? body.status : 503;
    const times = typeof body.times === "number" && body.times >= 1 && body.times <= 10 ? body.times : 1;
    faults.push(...Array.from({ length: times }, () => ({ status })));
    return c.json({ success: true, data: { status, times } });
  });
  controlApp.get("/fake/requests", (c) =>
    c.json({
      success: true,
      data: requests.slice(-100).map((request) => ({
        method: request.method,
        path: new URL(request.url).pathname.replace(/^.*\/realtime\/kit\/[^/]+/, ""),
      })),
    }),
  );

  const app = new Hono().basePath("/client/v4/accounts/:account/realtime/kit/:app");

  app.use(async (c, next) => {
    if (c.req.header("Authorization") !== `Bearer ${token}`) {
      return v4Error(c, 401, 10000, "Authentication error");
    }
    if (c.req.param("account") !== accountId) return v4Error(c, 403, 10000, "Authentication error");
    if (c.req.param("app") !== appId) return realtimeKitError(c, 404, "App not found");
    await next();
  });

  app.get("/meetings/:meetingId/active-session", (c) => {
    const meetingId = c.req.param("meetingId");
    const live = meetings.liveSession(meetingId);
    if (!live) return realtimeKitError(c, 404, `No active session found for meeting_id ${meetingId}`);
    return c.json({ success: true, data: live });
  });

  app.get("/sessions", (c) => {
    const query = new URL(c.req.url).searchParams;
    const pageNo = wholeNumber(query.get("page_no"), 1);
    const perPage = wholeNumber(query.get("per_page"), DEFAULT_PER_PAGE);
    if (pageNo === undefined || perPage === undefined) {
      return realtimeKitError(c, 400, "page_no and per_page must be whole numbers");
    }
    const sessions = sortSessions(filterSessions(seeded, query), query);
    // Pages count from 1; page 0 is read as the first page.
    const startOffset = (Math.max(pageNo, 1) - 1) * perPage;
    const page = sessions.slice(startOffset, startOffset + perPage);
    return c.json({
      success: true,
      data: { sessions: page },
      paging: { start_offset: startOffset, end_offset: startOffset + page.length, total_count: sessions.length },
    });
  });

  app.get("/sessions/:sessionId", (c) => {
    const found = seeded.find(({ session }) => sameId(session.id, c.req.param("sessionId")));
    if (!found) return realtimeKitError(c, 404, `No session found for session_id ${c.req.param("sessionId")}`);
    if (c.req.query("include_breakout_rooms") !== "true") return c.json({ success: true, data: found.session });
    return c.json({ success: true, data: { ...found.session, breakout_rooms: breakoutRoomsOf(found.session) } });
  });

  app.get("/sessions/:sessionId/participants", (c) => {
    const found = seeded.find(({ session }) => sameId(session.id, c.req.param("sessionId")));
    if (!found) return realtimeKitError(c, 404, `No session found for session_id ${c.req.param("sessionId")}`);
    const query = new URL(c.req.url).searchParams;
    const pageNo = wholeNumber(query.get("page_no"), 1);
    const perPage = wholeNumber(query.get("per_page"), DEFAULT_PER_PAGE);
    if (pageNo === undefined || perPage === undefined) {
      return realtimeKitError(c, 400, "page_no and per_page must be whole numbers");
    }
    const listed = selectParticipants(found.joins, query);
    const startOffset = (Math.max(pageNo, 1) - 1) * perPage;
    return c.json({ success: true, data: { participants: listed.slice(startOffset, startOffset + perPage) } });
  });

  app.post("/meetings/:meetingId/active-session/kick", async (c) => {
    const meetingId = c.req.param("meetingId");
    const live = meetings.liveSession(meetingId);
    if (!live) return realtimeKitError(c, 404, `No active session found for meeting_id ${meetingId}`);
    const body = (await c.req.json().catch(() => ({}))) as Record<string, unknown>;
    const ids = (value: unknown) => (Array.isArray(value) ? value.filter((id) => typeof id === "string") : []);
    const participantIds = ids(body.participant_ids);
    const customIds = ids(body.custom_participant_ids);
    if (participantIds.length === 0 && customIds.length === 0) {
      return realtimeKitError(c, 400, "participant_ids or custom_participant_ids is required");
    }
    const { kicked, changes } = meetings.kick(live, { participantIds, customIds });
    pushed(changes);
    return c.json({ success: true, data: { action: "kick", participants: kicked } });
  });

  app.post("/meetings/:meetingId/active-session/kick-all", (c) => {
    const meetingId = c.req.param("meetingId");
    const live = meetings.liveSession(meetingId);
    if (!live) return realtimeKitError(c, 404, `No active session found for meeting_id ${meetingId}`);
    const { count, changes } = meetings.kickAll(live);
    pushed(changes);
    return c.json({ success: true, data: { action: "kick_all", kicked_participants_count: count } });
  });

  app.route("/", records.app);
  app.route("/", participants.app);
  app.route("/", webhooks.app);
  app.notFound((c) => realtimeKitError(c, 404, "Route not found"));

  /** A 429 while locked out, or when this request takes the token past its allowance. */
  function overAllowance(allowance: Allowance): Response | undefined {
    const now = allowance.now();
    allowanceLog.arrivals.push(now);
    if (now < allowanceLog.lockedUntil) return tooManyRequests(allowanceLog.lockedUntil - now);
    const windowStart = now - allowance.seconds * 1000;
    let inWindow = 0;
    for (let i = allowanceLog.arrivals.length - 1; i >= 0 && (allowanceLog.arrivals[i] ?? 0) > windowStart; i--) {
      inWindow++;
    }
    if (inWindow <= allowance.requests) return undefined;
    allowanceLog.lockouts++;
    allowanceLog.lockedUntil = now + allowance.lockoutSeconds * 1000;
    return tooManyRequests(allowance.lockoutSeconds * 1000);
  }

  async function answer(request: Request): Promise<Response> {
    // The identity provider, the webhook key and the control endpoints are not the API:
    // their requests are neither recorded nor given the API's faults.
    const { pathname } = new URL(request.url);
    if (pathname.startsWith("/idp/")) return identity.fetch(request);
    if (pathname === WEBHOOK_KEY_PATH) return webhooks.fetchPublicKey();
    if (pathname.startsWith("/fake/")) return controlApp.fetch(request);
    const recorded = request.clone();
    requests.push(recorded);
    if (request.body) bodies.set(recorded, await request.clone().text());
    // Bounded, so a long `npm start` does not grow without end.
    if (requests.length > MAX_RECORDED_REQUESTS) requests.shift();
    const refused = options.allowance ? overAllowance(options.allowance) : undefined;
    if (refused) return refused;
    const fault = faults.shift();
    if (fault === undefined) return app.fetch(request);
    if ("network" in fault) throw new TypeError("Network connection lost.");
    if ("hang" in fault) return hangUntilAborted(request.signal);
    if ("until" in fault) {
      await fault.until;
      return app.fetch(request);
    }
    return new Response(fault.body ?? "", { status: fault.status, headers: fault.headers });
  }

  return {
    /** The fake as a fetch handler: the same one `npm start` serves on its own port. */
    fetch: answer,
    /** The requests received (the last 10,000), oldest first. */
    requests,
    /** A received request's body, as it arrived ("" for none). */
    bodyOf: (request: Request) => bodies.get(request) ?? "",
    /** Queue faults: each is used by one request, in order. */
    failNext(...next: Fault[]) {
      faults.push(...next);
    },
    /** Seeded sessions, for tests that compute expected answers. */
    sessions: seeded.map(({ session }) => session),
    /** Arrivals and lock-outs, when an allowance is enforced. */
    allowanceLog,
    /** The local identity provider: user tokens, good and forged, for the tests. */
    identity,
    /** Participants of meetings, as the fake holds them. */
    participants: { of: participants.of, remove: participants.remove },
    /** Starting and ending meetings (each delivers its webhooks), and the meetings' other changes (the simulation). */
    meetings: { ...control, join: meetings.join, leave: meetings.leave, liveSession: meetings.liveSession },
    /** Meetings as records (list, get, create, update), as the fake holds them. */
    records: { find: records.find, exists: records.exists },
    /** Webhooks: registered through the API, signed with the fake's own key pair. */
    webhooks,
  };
}

function tooManyRequests(lockedForMs: number): Response {
  const body = {
    success: false,
    errors: [{ code: 971, message: "Please wait and consider throttling your request speed" }],
  };
  return new Response(JSON.stringify(body), {
    status: 429,
    headers: { "Content-Type": "application/json", "Retry-After": String(Math.ceil(lockedForMs / 1000)) },
  });
}

function hangUntilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

export type FakeUpstream = ReturnType<typeof createFakeUpstream>;
