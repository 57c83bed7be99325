/**
 * @module Every route in one table: its name, path, schemas, cache policy, access and
 * answer shape. The router, the scopes, `PUBLIC_ROUTES` checking, 404/405, log names,
 * the OpenAPI document and the typed client all derive from it; adding a read-only
 * route is one entry here (and its tests).
 */
import * as z from "zod/mini";
import type { Coverage, WriteEvent } from "../changes/feed.ts";
import type { AnswerName } from "./answers.ts";
import { dateTime, described, digits, freeText, meetingId, oneOf, singleValue, uuid } from "./params.ts";
import {
  createKeyBody,
  createMeetingBody,
  keyJoinBody,
  kickBody,
  rollKeyBody,
  updateKeyBody,
  updateMeetingBody,
  userJoinBody,
} from "./requests.ts";

/** What the schemas need that only the whole table or a deployment's config knows. */
export interface RouteSettings {
  maxPerPage: number;
  /** Every scope of the table (a key's scopes are among them). */
  scopes: readonly [string, ...string[]];
}

/**
 * The config var holding a route's cache TTL in seconds (0: not stored, still coalesced
 * and budgeted): a new route may bring its own. `ttlSecondsOf` (routes/proxy.ts) reads it,
 * and does not compile for a name the configuration does not define.
 */
export type CacheTtlVar = `${string}_CACHE_TTL_SECONDS`;

/** The methods routes answer (HEAD comes with GET). */
export type RouteMethod = "GET" | "POST" | "PATCH" | "DELETE";

interface RouteBase<Name extends string, Path extends string, Body extends AnswerName, Scope extends string> {
  name: Name;
  method: RouteMethod;
  /** Hono path pattern. */
  path: Path;
  /** One line for the OpenAPI document and the reference page. */
  summary: string;
  /** Public unless `PUBLIC_ROUTES` says otherwise; else a key with `scope` is needed. */
  publicByDefault: boolean;
  /** `PUBLIC_ROUTES` may never name it (personal data, the operator's view). */
  neverPublic: boolean;
  /** The scope a key needs when the route is not public; none: any valid key. */
  scope: Scope | undefined;
  /** The success body's shape, by name (answers.ts: it types the client and documents the answer; never parses). */
  answer: Body;
  /** A signed-in user may call it too (a user token grants no scope: only routes that say so). */
  users?: boolean;
}

/**
 * A route forwarded to the upstream. Its path is also its upstream path below
 * `/accounts/{account}/realtime/kit/{app}`, with each validated param encoded in place,
 * and it answers at that upstream-shaped path under `/client/v4` too.
 */
export interface ProxiedRoute<
  Name extends string = string,
  Path extends string = string,
  Body extends AnswerName = AnswerName,
  Scope extends string = string,
  Params extends z.ZodMiniType = z.ZodMiniType,
  Query extends z.ZodMiniType = z.ZodMiniType,
  TtlVar extends CacheTtlVar = CacheTtlVar,
> extends RouteBase<Name, Path, Body, Scope> {
  kind: "proxied";
  params: Params;
  query: (limits: RouteSettings) => Query;
  cacheTtl: TtlVar;
  /** With ACTIVE_SESSION_SOURCE=live-sessions, answered from the one index of live sessions instead. */
  fromLiveIndex?: boolean;
  /** What its answers show of meetings, if anything: webhooks' changes and the proxy's writes renew or drop them. */
  coverage?: (params: Record<string, string>, query: Record<string, unknown>) => Coverage;
  /** Fields of its answers' data never passed on (nor stored). */
  withheld?: readonly string[];
}

/**
 * A write forwarded to the upstream at the same path (below the app), with exactly the
 * caller's validated body, answering at the upstream-shaped path under `/client/v4` too.
 * Never cached; its permits are a person's; what it changes is dropped or renewed in the
 * shared tier.
 */
export interface ForwardedRoute<
  Name extends string = string,
  Path extends string = string,
  Body extends AnswerName = AnswerName,
  Scope extends string = string,
  Params extends z.ZodMiniType = z.ZodMiniType,
  RequestBody extends z.ZodMiniType = z.ZodMiniType,
> extends RouteBase<Name, Path, Body, Scope> {
  kind: "forwarded";
  params: Params;
  /** Its JSON body (at most 4 KiB, `application/json`); none: it takes none. */
  json?: (settings: RouteSettings) => RequestBody;
  /**
   * It makes something new upstream (not idempotent there): sent once, never retried, and an
   * `Idempotency-Key` makes its repeats safe.
   */
  creates?: boolean;
  /** What it changes of meetings: the stored answers it concerns are dropped or renewed. */
  change: (params: Record<string, string>) => { event: WriteEvent; meetingId?: string };
  withheld?: readonly string[];
}

/** A route the proxy answers itself (health, status, the keys API), with whatever params, query and JSON body it takes. */
export interface BuiltinRoute<
  Name extends string = string,
  Path extends string = string,
  Body extends AnswerName = AnswerName,
  Scope extends string = string,
  Params extends z.ZodMiniType = z.ZodMiniType,
  Query extends z.ZodMiniType = z.ZodMiniType,
  RequestBody extends z.ZodMiniType = z.ZodMiniType,
> extends RouteBase<Name, Path, Body, Scope> {
  kind: "builtin";
  params?: Params;
  query?: (settings: RouteSettings) => Query;
  /** Its JSON body (at most 4 KiB, `application/json`). */
  json?: (settings: RouteSettings) => RequestBody;
  /** The path param naming a key: that key may call the route about itself without the scope. */
  selfParam?: string;
}

/** RealtimeKit's signed events: no key and no user, its signature instead; nothing is cached. */
export interface WebhookRoute<
  Name extends string = string,
  Path extends string = string,
  Body extends AnswerName = AnswerName,
> extends RouteBase<Name, Path, Body, never> {
  kind: "webhook";
}

/**
 * A route that changes something upstream for its caller (joining a meeting). Never
 * cached. Its JSON body is validated by the kind of caller: a signed-in user may send
 * less than a backend's key must.
 */
export interface WriteRoute<
  Name extends string = string,
  Path extends string = string,
  Body extends AnswerName = AnswerName,
  Scope extends string = string,
  Params extends z.ZodMiniType = z.ZodMiniType,
  RequestBodies extends WriteBodies = WriteBodies,
> extends RouteBase<Name, Path, Body, Scope> {
  kind: "write";
  params: Params;
  /** The body each kind of caller sends; `undefined`: that caller sends none (or may not call). */
  requestBody: RequestBodies;
}

/** The JSON body a signed-in user sends, and the one a backend's key sends. */
export interface WriteBodies {
  user: z.ZodMiniType | undefined;
  key: z.ZodMiniType | undefined;
}

/** Keeps every literal (name, path, scope) and schema type of an entry. */
function proxied<
  const Name extends string,
  const Path extends string,
  const Body extends AnswerName,
  const Scope extends string,
  Params extends z.ZodMiniType,
  Query extends z.ZodMiniType,
  const TtlVar extends CacheTtlVar,
>(route: Omit<ProxiedRoute<Name, Path, Body, Scope, Params, Query, TtlVar>, "kind" | "method">) {
  return { kind: "proxied" as const, method: "GET" as const, ...route };
}

function builtin<
  const Name extends string,
  const Method extends RouteMethod,
  const Path extends string,
  const Body extends AnswerName,
  const Scope extends string,
  Params extends z.ZodMiniType,
  Query extends z.ZodMiniType,
  RequestBody extends z.ZodMiniType,
>(
  route: Omit<BuiltinRoute<Name, Path, Body, Scope, Params, Query, RequestBody>, "kind" | "method"> & {
    method: Method;
  },
) {
  return { kind: "builtin" as const, ...route };
}

function write<
  const Name extends string,
  const Path extends string,
  const Body extends AnswerName,
  const Scope extends string,
  Params extends z.ZodMiniType,
  const RequestBodies extends WriteBodies,
>(route: Omit<WriteRoute<Name, Path, Body, Scope, Params, RequestBodies>, "kind" | "method">) {
  return { kind: "write" as const, method: "POST" as const, ...route };
}

function forwarded<
  const Name extends string,
  const Method extends "POST" | "PATCH",
  const Path extends string,
  const Body extends AnswerName,
  const Scope extends string,
  Params extends z.ZodMiniType,
  RequestBody extends z.ZodMiniType,
>(route: Omit<ForwardedRoute<Name, Path, Body, Scope, Params, RequestBody>, "kind" | "method"> & { method: Method }) {
  return { kind: "forwarded" as const, ...route };
}

function webhook<const Name extends string, const Path extends string, const Body extends AnswerName>(
  route: Omit<WebhookRoute<Name, Path, Body>, "kind" | "method" | "publicByDefault" | "neverPublic" | "scope">,
) {
  // Not a public route (PUBLIC_ROUTES may not name it) and no key opens it: only a valid signature does.
  return {
    kind: "webhook" as const,
    method: "POST" as const,
    publicByDefault: false,
    neverPublic: true,
    scope: undefined,
    ...route,
  };
}

/** Where every proxied route also answers, as the upstream (and so the official SDK) spells it. */
const UPSTREAM_SHAPED_PREFIX = "/client/v4/accounts/:account/realtime/kit/:app";

const MAX_PAGE_NO = 2_147_483_647;
const MAX_TEXT_LENGTH = 200;

const pageNo = () => singleValue(described(digits(0, MAX_PAGE_NO), `Page to return: digits, 0..${MAX_PAGE_NO}`));
const perPage = (maxPerPage: number) =>
  singleValue(described(digits(1, maxPerPage), `Results per page: digits, 1..${maxPerPage} (MAX_PER_PAGE)`));
const sortOrder = () => singleValue(described(oneOf(["ASC", "DESC"]), "Sort direction"));
const trueOrFalse = (description: string) => singleValue(described(oneOf(["true", "false"]), description));
const search = (description: string) => singleValue(described(freeText(MAX_TEXT_LENGTH), description));

function sessionsQuery({ maxPerPage }: RouteSettings) {
  return z
    .strictObject({
      associated_id: z.optional(
        singleValue(described(meetingId, "Only sessions of this meeting: a UUID or a V1 room name")),
      ),
      start_time: z.optional(singleValue(described(dateTime, "Start of the time range: ISO 8601 with Z or an offset"))),
      end_time: z.optional(singleValue(described(dateTime, "End of the time range, not before start_time"))),
      page_no: z.optional(pageNo()),
      per_page: z.optional(perPage(maxPerPage)),
      sort_by: z.optional(singleValue(described(oneOf(["minutesConsumed", "createdAt"]), "Sort key"))),
      sort_order: z.optional(sortOrder()),
      status: z.optional(singleValue(described(oneOf(["LIVE", "ENDED"]), "Only sessions in this state"))),
      search: z.optional(search("Matches meeting title, meeting ID and session ID; no control characters")),
      participants: z.optional(search("Participant filter (undocumented upstream); no control characters")),
    })
    .check(startNotAfterEnd);
}

/** A time range's start is not after its end (each may still be its raw string here if its own check failed). */
function startNotAfterEnd(ctx: z.core.ParsePayload<{ start_time?: unknown; end_time?: unknown }>): void {
  const { start_time: start, end_time: end } = ctx.value;
  if (start instanceof Date && end instanceof Date && start > end) {
    ctx.issues.push({ code: "custom", path: ["start_time"], message: "must not be after end_time", input: start });
  }
}

function participantsQuery({ maxPerPage }: RouteSettings) {
  return z.strictObject({
    page_no: z.optional(pageNo()),
    per_page: z.optional(perPage(maxPerPage)),
    sort_order: z.optional(sortOrder()),
    sort_by: z.optional(singleValue(described(oneOf(["joinedAt", "duration"]), "Sort key"))),
    search: z.optional(search("Matches participant ID, custom participant ID or display name; no control characters")),
    view: z.optional(
      singleValue(described(oneOf(["raw", "consolidated"]), "Every join, or one entry per participant")),
    ),
    include_peer_events: z.optional(trueOrFalse("Include each participant's join and leave events")),
  });
}

const noQuery = () => z.strictObject({});
/** A key, by its id: a managed key's (`key_` and 12 letters or digits) or a config key's. */
const keyIdParam = z.object({
  keyId: singleValue(
    described(z.string().check(z.regex(/^[A-Za-z0-9_.-]{1,64}$/, "must be a key's id")), "The key's id"),
  ),
});
const KEYS_SCOPE = "keys:admin";
/** A meeting's recording and AI settings hold storage credentials and stream keys: never passed on. */
const MEETING_WITHHELD = ["recording_config", "ai_config"] as const;
const meetingIdParam = singleValue(described(meetingId, "The meeting: a UUID (V2) or a room name (V1)"));
const meetingParams = z.object({ meetingId: meetingIdParam });

function meetingsQuery({ maxPerPage }: RouteSettings) {
  return z
    .strictObject({
      page_no: z.optional(pageNo()),
      per_page: z.optional(perPage(maxPerPage)),
      search: z.optional(search("Matches the meeting's title; no control characters")),
      status: z.optional(singleValue(described(oneOf(["ACTIVE", "INACTIVE"]), "Only meetings in this state"))),
      start_time: z.optional(singleValue(described(dateTime, "Created at or after: ISO 8601 with Z or an offset"))),
      end_time: z.optional(singleValue(described(dateTime, "Created at or before, not before start_time"))),
    })
    .check(startNotAfterEnd);
}
const keysAccess = { publicByDefault: false, neverPublic: true, scope: KEYS_SCOPE } as const;
const sessionIdParam = z.object({ sessionId: singleValue(described(uuid, "The session: a UUID")) });
/** The account and app of an upstream-shaped path: this proxy's own are checked before anything else. */
const accountAndApp = {
  account: described(z.string(), "This proxy's CLOUDFLARE_ACCOUNT_ID (any other: 404)"),
  app: described(z.string(), "This proxy's REALTIMEKIT_APP_ID (any other: 404)"),
};

export const ROUTES = [
  proxied({
    name: "active-session",
    path: "/meetings/:meetingId/active-session",
    summary: "The live session of a meeting, or 404 when it has none",
    publicByDefault: true,
    neverPublic: false,
    scope: "active-session:read",
    params: z.object({ meetingId: meetingIdParam }),
    query: noQuery,
    cacheTtl: "ACTIVE_SESSION_CACHE_TTL_SECONDS",
    fromLiveIndex: true,
    coverage: ({ meetingId = "" }) => ({ kind: "meeting", meetingId }),
    answer: "ActiveSessionEnvelope",
  }),
  proxied({
    name: "sessions",
    path: "/sessions",
    summary: "A page of the app's sessions, filtered and sorted",
    publicByDefault: false,
    neverPublic: false,
    scope: "sessions:read",
    params: z.object({}),
    query: sessionsQuery,
    cacheTtl: "SESSIONS_CACHE_TTL_SECONDS",
    coverage: (_, query) => ({
      kind: "sessions",
      meetingId: typeof query.associated_id === "string" ? query.associated_id : undefined,
      status: typeof query.status === "string" ? query.status : undefined,
    }),
    answer: "SessionsEnvelope",
  }),
  proxied({
    name: "session",
    path: "/sessions/:sessionId",
    summary: "One session, optionally with its breakout rooms",
    publicByDefault: false,
    neverPublic: false,
    scope: "sessions:read",
    params: sessionIdParam,
    query: () => z.strictObject({ include_breakout_rooms: z.optional(trueOrFalse("Include the breakout rooms")) }),
    cacheTtl: "SESSIONS_CACHE_TTL_SECONDS",
    coverage: ({ sessionId = "" }) => ({ kind: "session", sessionId }),
    answer: "SessionEnvelope",
  }),
  proxied({
    name: "session-participants",
    path: "/sessions/:sessionId/participants",
    summary: "The participants of a session (personal data: never public)",
    publicByDefault: false,
    neverPublic: true,
    scope: "participants:read",
    params: sessionIdParam,
    query: participantsQuery,
    cacheTtl: "SESSIONS_CACHE_TTL_SECONDS",
    coverage: ({ sessionId = "" }) => ({ kind: "session", sessionId }),
    answer: "ParticipantsEnvelope",
  }),
  proxied({
    name: "meetings",
    path: "/meetings",
    summary: "A page of the app's meetings, filtered (their recording and AI settings withheld)",
    publicByDefault: false,
    neverPublic: true,
    scope: "meetings:read",
    params: z.object({}),
    query: meetingsQuery,
    cacheTtl: "MEETINGS_CACHE_TTL_SECONDS",
    coverage: () => ({ kind: "meetings" }),
    withheld: MEETING_WITHHELD,
    answer: "MeetingsEnvelope",
  }),
  proxied({
    name: "meeting",
    path: "/meetings/:meetingId",
    summary: "One meeting (its recording and AI settings withheld)",
    publicByDefault: false,
    neverPublic: true,
    scope: "meetings:read",
    params: meetingParams,
    query: () => z.strictObject({ name: z.optional(search("As the official SDK may send it")) }),
    cacheTtl: "MEETINGS_CACHE_TTL_SECONDS",
    coverage: ({ meetingId = "" }) => ({ kind: "meeting-record", meetingId }),
    withheld: MEETING_WITHHELD,
    answer: "MeetingEnvelope",
  }),
  forwarded({
    name: "create-meeting",
    method: "POST",
    path: "/meetings",
    summary: "Creates a meeting: never retried; an Idempotency-Key makes repeats safe (the same answer, once)",
    publicByDefault: false,
    neverPublic: true,
    scope: "meetings:write",
    params: z.object({}),
    json: () => createMeetingBody,
    creates: true,
    change: () => ({ event: "meeting.created" }),
    withheld: MEETING_WITHHELD,
    answer: "MeetingEnvelope",
  }),
  forwarded({
    name: "update-meeting",
    method: "PATCH",
    path: "/meetings/:meetingId",
    summary: "Changes a meeting: its title, session settings or status (INACTIVE: nobody joins it any more)",
    publicByDefault: false,
    neverPublic: true,
    scope: "meetings:write",
    params: meetingParams,
    json: () => updateMeetingBody,
    change: ({ meetingId }) => ({ event: "meeting.updated", meetingId }),
    withheld: MEETING_WITHHELD,
    answer: "MeetingEnvelope",
  }),
  forwarded({
    name: "kick",
    method: "POST",
    path: "/meetings/:meetingId/active-session/kick",
    summary: "Removes participants from the meeting's live session (their tokens still let them join again)",
    publicByDefault: false,
    neverPublic: true,
    scope: "sessions:moderate",
    params: meetingParams,
    json: () => kickBody,
    change: ({ meetingId }) => ({ event: "meeting.kicked", meetingId }),
    answer: "KickEnvelope",
  }),
  forwarded({
    name: "kick-all",
    method: "POST",
    path: "/meetings/:meetingId/active-session/kick-all",
    summary: "Removes everyone from the meeting's live session",
    publicByDefault: false,
    neverPublic: true,
    scope: "sessions:moderate",
    params: meetingParams,
    change: ({ meetingId }) => ({ event: "meeting.kicked", meetingId }),
    answer: "KickAllEnvelope",
  }),
  write({
    name: "join",
    path: "/meetings/:meetingId/join",
    summary: "A participant token to join the meeting: the signed-in user's own, or (with a key) anyone's",
    publicByDefault: false,
    neverPublic: true,
    users: true,
    scope: "participants:write",
    params: z.object({ meetingId: meetingIdParam }),
    requestBody: { user: userJoinBody, key: keyJoinBody },
    answer: "JoinEnvelope",
  }),
  write({
    name: "add-participant",
    path: `${UPSTREAM_SHAPED_PREFIX}/meetings/:meetingId/participants`,
    summary:
      "The upstream's add participant, for the official SDK: one participant per custom id, a fresh token each call",
    publicByDefault: false,
    neverPublic: true,
    scope: "participants:write",
    params: z.object({ ...accountAndApp, meetingId: meetingIdParam }),
    requestBody: { user: undefined, key: keyJoinBody },
    answer: "ParticipantEnvelope",
  }),
  write({
    name: "refresh-participant-token",
    path: `${UPSTREAM_SHAPED_PREFIX}/meetings/:meetingId/participants/:participantId/token`,
    summary:
      "The upstream's refresh participant token, for the official SDK, for participants of JOIN_PRESETS' presets",
    publicByDefault: false,
    neverPublic: true,
    scope: "participants:write",
    params: z.object({
      ...accountAndApp,
      meetingId: meetingIdParam,
      participantId: singleValue(described(uuid, "The participant: a UUID")),
    }),
    requestBody: { user: undefined, key: undefined },
    answer: "TokenEnvelope",
  }),
  webhook({
    name: "webhook",
    path: "/webhooks/realtimekit",
    summary:
      "RealtimeKit's signed events (meetings starting and ending, people joining and leaving): they renew the answers they change",
    answer: "WebhookEnvelope",
  }),
  builtin({
    name: "create-key",
    method: "POST",
    path: "/keys",
    summary: "Creates a managed key; the answer holds its secret, shown once (Cache-Control: no-store)",
    ...keysAccess,
    json: ({ scopes }) => createKeyBody(scopes),
    answer: "CreatedKeyEnvelope",
  }),
  builtin({
    name: "keys",
    method: "GET",
    path: "/keys",
    summary: "Every key, never a secret: managed keys newest first, then config keys (read-only)",
    ...keysAccess,
    query: ({ maxPerPage }) =>
      z.strictObject({ page_no: z.optional(pageNo()), per_page: z.optional(perPage(maxPerPage)) }),
    answer: "KeysEnvelope",
  }),
  builtin({
    name: "key",
    method: "GET",
    path: "/keys/:keyId",
    summary: "One key, never its secret",
    ...keysAccess,
    params: keyIdParam,
    answer: "KeyEnvelope",
  }),
  builtin({
    name: "update-key",
    method: "PATCH",
    path: "/keys/:keyId",
    summary: "Changes a managed key: name, owner, scopes, limits, expiry, meta, enabled (within 5 s everywhere)",
    ...keysAccess,
    params: keyIdParam,
    json: ({ scopes }) => updateKeyBody(scopes),
    answer: "KeyEnvelope",
  }),
  builtin({
    name: "roll-key",
    method: "POST",
    path: "/keys/:keyId/roll",
    summary: "A new secret for a managed key, shown once; the old one works for grace_seconds more",
    ...keysAccess,
    params: keyIdParam,
    json: () => rollKeyBody,
    answer: "CreatedKeyEnvelope",
  }),
  builtin({
    name: "key-usage",
    method: "GET",
    path: "/keys/:keyId/usage",
    summary: "A key's requests by route and status, cache hits, upstream calls and last use, over 1h, 24h or 7d",
    ...keysAccess,
    selfParam: "keyId",
    params: keyIdParam,
    query: () =>
      z.strictObject({
        window: z.optional(singleValue(described(oneOf(["1h", "24h", "7d"]), "The window (default 24h)"))),
      }),
    answer: "UsageEnvelope",
  }),
  builtin({
    name: "revoke-key",
    method: "DELETE",
    path: "/keys/:keyId",
    summary: "Revokes a managed key: gone for good, refused everywhere within 5 s",
    ...keysAccess,
    params: keyIdParam,
    answer: "RevokedKeyEnvelope",
  }),
  builtin({
    name: "health",
    method: "GET",
    path: "/health",
    summary: "200 when the configuration is valid, else the misconfiguration 500",
    publicByDefault: true,
    neverPublic: false,
    scope: undefined,
    answer: "Health",
  }),
  builtin({
    name: "status",
    method: "GET",
    path: "/status",
    summary: "The upstream budget: permits left, any pause, spend per route and per key, callers over their share",
    publicByDefault: false,
    neverPublic: true,
    scope: "status:read",
    answer: "StatusEnvelope",
  }),
  builtin({
    name: "lift-pause",
    method: "DELETE",
    path: "/status/pause",
    summary: "Lifts a pause an upstream 429 put on every upstream call, at once; answers the budget's status",
    publicByDefault: false,
    neverPublic: true,
    scope: "status:write",
    answer: "StatusEnvelope",
  }),
] as const;

export type Route = (typeof ROUTES)[number];
export type RouteName = Route["name"];
export type AnyProxiedRoute = Extract<Route, { kind: "proxied" }>;
export type AnyWriteRoute = Extract<Route, { kind: "write" }>;
export type AnyForwardedRoute = Extract<Route, { kind: "forwarded" }>;
export type Scope = Exclude<Route["scope"], undefined>;

export const ROUTE_NAMES = ROUTES.map((route) => route.name) as [RouteName, ...RouteName[]];
export const PROXIED_ROUTES = ROUTES.filter((route): route is AnyProxiedRoute => route.kind === "proxied");
export const SCOPES = [...new Set(ROUTES.flatMap((route) => (route.scope === undefined ? [] : [route.scope])))] as [
  Scope,
  ...Scope[],
];
export const DEFAULT_PUBLIC_ROUTES: readonly RouteName[] = ROUTES.filter((r) => r.publicByDefault).map((r) => r.name);
export const NEVER_PUBLIC_ROUTES: readonly RouteName[] = ROUTES.filter((r) => r.neverPublic).map((r) => r.name);

/** What the configuration checks `PUBLIC_ROUTES` and `API_KEYS` against. */
export const ROUTE_CATALOG = {
  names: ROUTE_NAMES,
  scopes: SCOPES,
  publicByDefault: DEFAULT_PUBLIC_ROUTES,
  neverPublic: NEVER_PUBLIC_ROUTES,
} as const;

/** Whether a path is the upstream's own shape (it names the account and app). */
export function isUpstreamShaped(path: string): boolean {
  return path.startsWith(UPSTREAM_SHAPED_PREFIX);
}

export function upstreamShapedPath(route: { path: string }): string {
  return `${UPSTREAM_SHAPED_PREFIX}${route.path}`;
}

/** A path pattern the app answers, and the routes (one per method) that answer it. */
export interface AnsweredPath {
  path: string;
  /** The route name log lines give each method of the path. */
  names: Partial<Record<RouteMethod, string>>;
  methods: RouteMethod[];
}

/** Every path the app answers (routes sharing a path are one entry): each route at its path (and upstream-shaped path), and the API's description. */
export const ANSWERED_PATHS: readonly AnsweredPath[] = (() => {
  const byPath = new Map<string, AnsweredPath>();
  const answer = (path: string, method: RouteMethod, name: string) => {
    const answered = byPath.get(path) ?? { path, names: {}, methods: [] };
    answered.names[method] = name;
    answered.methods.push(method);
    byPath.set(path, answered);
  };
  for (const route of ROUTES) {
    answer(route.path, route.method, route.name);
    if (route.kind === "proxied" || route.kind === "forwarded") {
      answer(upstreamShapedPath(route), route.method, route.name);
    }
  }
  answer("/openapi.json", "GET", "openapi");
  answer("/docs", "GET", "docs");
  return [...byPath.values()];
})();

/** What `Allow` lists for a path: its methods, HEAD wherever GET is, and OPTIONS (CORS preflights). */
export function allowedMethods(methods: readonly RouteMethod[]): string[] {
  return [...methods.flatMap((method) => (method === "GET" ? ["GET", "HEAD"] : [method])), "OPTIONS"];
}
