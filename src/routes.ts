/**
 * @module Every proxied route in one table: its path, param schemas, upstream request,
 * cache policy and scope. Adding a read-only route is one more entry here and one
 * line in app.ts.
 */
import * as z from "zod";
import type { ActiveSessionEnvelope, SessionsEnvelope } from "./responses.ts";
import type { Scope } from "./scopes.ts";
import { dateTime, digits, freeText, meetingId, oneOf, singleValue } from "./validation.ts";

/** A path below `/accounts/{account}/realtime/kit/{app}` and an encoded query ("" for none). */
export interface UpstreamRequest {
  path: string;
  query: string;
}

/** Every route's name, as `PUBLIC_ROUTES` lists them. */
export const ROUTE_NAMES = ["active-session", "sessions", "health", "status"] as const;
export type RouteName = (typeof ROUTE_NAMES)[number];

/** Routes callers need no key for, unless `PUBLIC_ROUTES` says otherwise. */
export const DEFAULT_PUBLIC_ROUTES: readonly RouteName[] = ["active-session", "health"];

/** Routes `PUBLIC_ROUTES` may never name: the operator's view of the budget. */
export const NEVER_PUBLIC_ROUTES: readonly RouteName[] = ["status"];

/** The config var holding a route's cache TTL in seconds (0: not stored, still coalesced and budgeted). */
export type CacheTtlVar = "ACTIVE_SESSION_CACHE_TTL_SECONDS" | "SESSIONS_CACHE_TTL_SECONDS";

export interface RouteLimits {
  maxPerPage: number;
}

export interface ProxyRoute<
  Params extends z.ZodType,
  Query extends z.ZodType,
  Body = unknown,
  Path extends string = string,
> {
  name: RouteName;
  /** Hono path pattern. */
  path: Path;
  /** One line for the OpenAPI document and the reference page. */
  summary: string;
  /** Type only: the success body's shape (passed through from the upstream, never parsed). */
  body?: Body;
  /** The scope an API key needs when the route is not public (see DEFAULT_PUBLIC_ROUTES). */
  scope: Scope;
  cacheTtl: CacheTtlVar;
  params: Params;
  query: (limits: RouteLimits) => Query;
  upstream: (input: { params: z.output<Params>; query: z.output<Query> }) => UpstreamRequest;
}

/** Curried so that the body type is given while the schemas' types are inferred. */
function defineRoute<Body>() {
  return <Params extends z.ZodType, Query extends z.ZodType, Path extends string>(
    route: ProxyRoute<Params, Query, Body, Path>,
  ) => route;
}

/** Only validated params, in one fixed (alphabetical) order, each URL-encoded. */
function encodeQuery(params: Record<string, string | number | Date | undefined>): string {
  return Object.keys(params)
    .sort()
    .flatMap((name) => {
      const value = params[name];
      if (value === undefined) return [];
      const text = value instanceof Date ? value.toISOString() : String(value);
      return [`${encodeURIComponent(name)}=${encodeURIComponent(text)}`];
    })
    .join("&");
}

const noQuery = () => z.strictObject({});

export const activeSessionRoute = defineRoute<ActiveSessionEnvelope>()({
  name: "active-session",
  path: "/meetings/:meetingId/active-session",
  summary: "The live session of a meeting, or 404 when it has none; cached briefly (404s too)",
  scope: "active-session:read",
  cacheTtl: "ACTIVE_SESSION_CACHE_TTL_SECONDS",
  params: z.object({ meetingId: singleValue(meetingId.describe("The meeting: a UUID (V2) or a room name (V1)")) }),
  query: noQuery,
  upstream: ({ params }) => ({
    path: `/meetings/${encodeURIComponent(params.meetingId)}/active-session`,
    query: "",
  }),
});

const MAX_PAGE_NO = 2_147_483_647;
const MAX_TEXT_LENGTH = 200;

function sessionsQuery({ maxPerPage }: RouteLimits) {
  return z
    .strictObject({
      associated_id: singleValue(
        meetingId.describe("Only sessions of this meeting: a UUID or a V1 room name"),
      ).optional(),
      start_time: singleValue(dateTime.describe("Start of the time range: ISO 8601 with Z or an offset")).optional(),
      end_time: singleValue(dateTime.describe("End of the time range, not before start_time")).optional(),
      page_no: singleValue(digits(0, MAX_PAGE_NO).describe(`Page to return: digits, 0..${MAX_PAGE_NO}`)).optional(),
      per_page: singleValue(
        digits(1, maxPerPage).describe(`Results per page: digits, 1..${maxPerPage} (MAX_PER_PAGE)`),
      ).optional(),
      sort_by: singleValue(oneOf(["minutesConsumed", "createdAt"]).describe("Sort key")).optional(),
      sort_order: singleValue(oneOf(["ASC", "DESC"]).describe("Sort direction")).optional(),
      status: singleValue(oneOf(["LIVE", "ENDED"]).describe("Only sessions in this state")).optional(),
      search: singleValue(
        freeText(MAX_TEXT_LENGTH).describe("Matches meeting title, meeting ID and session ID; no control characters"),
      ).optional(),
      participants: singleValue(
        freeText(MAX_TEXT_LENGTH).describe("Participant filter (undocumented upstream); no control characters"),
      ).optional(),
    })
    .check((ctx) => {
      const { start_time: start, end_time: end } = ctx.value;
      // Each may still be its raw string here if its own check failed.
      if (start instanceof Date && end instanceof Date && start > end) {
        ctx.issues.push({ code: "custom", path: ["start_time"], message: "must not be after end_time", input: start });
      }
    });
}

export const sessionsRoute = defineRoute<SessionsEnvelope>()({
  name: "sessions",
  path: "/sessions",
  summary: "A page of the app's sessions, filtered and sorted; cached briefly",
  scope: "sessions:read",
  cacheTtl: "SESSIONS_CACHE_TTL_SECONDS",
  params: z.object({}),
  query: sessionsQuery,
  upstream: ({ query }) => ({ path: "/sessions", query: encodeQuery(query) }),
});

/** Every proxied route, for what lists them all (the OpenAPI document). */
export const PROXY_ROUTES = [activeSessionRoute, sessionsRoute] as const;
