/**
 * @module How one data centre answers a validated read: which cache entry answers it
 * (its own, or the live-sessions index when its route and the config say so), its
 * canonical key, and the tiers. The Worker's handlers and `npm run sim` both answer
 * through this.
 */
import type { Allowance } from "../budget/gate.ts";
import { cacheKey, cacheKeyPrefix } from "../cache/answer.ts";
import { LIVE_INDEX_NAME, LIVE_INDEX_REQUEST, type LiveSessionsView } from "../cache-objects/live-index.ts";
import { type Coverage, concerns, type MeetingChange } from "../changes/feed.ts";
import type { Config } from "../config.ts";
import type { UpstreamTrace } from "../upstream/http.ts";
import { type ParamValue, type UpstreamRequest, type UpstreamSettings, upstreamRequest } from "../upstream/request.ts";
import type { PushedFreshness } from "./pushed.ts";
import type { CacheOutcome, TieredCache } from "./tiers.ts";

/** What a data centre answers reads with. */
export interface ReadServer {
  tiers: TieredCache;
  liveSessions: LiveSessionsView;
  settings: UpstreamSettings;
  source: Config["ACTIVE_SESSION_SOURCE"];
  /** Present when webhooks are configured: whether they are arriving, and so whether active sessions are pushed. */
  pushed?: PushedFreshness;
}

/** The part of a route table entry a read needs. */
export interface ReadRoute {
  name: string;
  path: string;
  /** Whether ACTIVE_SESSION_SOURCE=live-sessions answers this route from the live-sessions index. */
  fromLiveIndex?: boolean;
  /** Fields of its answers' data never passed on. */
  withheld?: readonly string[];
  /** What an answer of this route shows of meetings, so that their changes reach its stored answers. */
  coverage?: (params: Record<string, string>, query: Record<string, ParamValue>) => Coverage;
}

export interface ReadRequest {
  route: ReadRoute;
  params: Record<string, string>;
  query: Record<string, ParamValue>;
  ttlSeconds: number;
  /** The quota key the upstream calls it causes are counted against. */
  quotaKey: string;
  /** The caller's own upstream share (a managed key's), in place of CALLER_MISS_BUDGET. */
  callerShare?: Allowance | null;
}

/** Active sessions are pushed (kept longer while webhooks arrive); lists and sessions are only dropped on a change. */
const PUSHED_COVERAGES: readonly Coverage["kind"][] = ["meeting", "index"];

function coverageOf(
  route: ReadRoute,
  fromIndex: boolean,
  params: Record<string, string>,
  query: Record<string, ParamValue>,
): Coverage | undefined {
  if (fromIndex) return { kind: "index", meetingPath: route.path };
  return route.coverage?.(params, query);
}

/** Which cache entry answers a read: its own, or the one index entry every meeting shares. */
function answeringEntry(
  route: ReadRoute,
  request: UpstreamRequest,
  source: ReadServer["source"],
): { name: string; upstream: UpstreamRequest; fromIndex: boolean } {
  if (route.fromLiveIndex && source === "live-sessions") {
    return { name: LIVE_INDEX_NAME, upstream: LIVE_INDEX_REQUEST, fromIndex: true };
  }
  return { name: route.name, upstream: request, fromIndex: false };
}

/**
 * What a change makes outdated among the entries of `routes`, as cache key prefixes (any
 * query): each route's own entry for the changed meeting, or the live-sessions index where
 * it answers the route. A write through the proxy stops this isolate using its copies of them.
 */
export function entriesChangedBy(
  change: MeetingChange,
  routes: readonly ReadRoute[],
  { settings, source }: Pick<ReadServer, "settings" | "source">,
): string[] {
  const params = { meetingId: change.meetingId };
  return routes.flatMap((route) => {
    const { name, upstream, fromIndex } = answeringEntry(route, upstreamRequest(route.path, params, {}), source);
    const coverage = coverageOf(route, fromIndex, params, {});
    if (!coverage || !concerns(coverage, change)) return [];
    return [
      cacheKeyPrefix({
        account: settings.CLOUDFLARE_ACCOUNT_ID,
        app: settings.REALTIMEKIT_APP_ID,
        name,
        path: upstream.path,
      }),
    ];
  });
}

/** The outcome for a validated read (throws the ApiError to send when nothing can be served). */
export async function answerRead(
  server: ReadServer,
  { route, params, query, ttlSeconds, quotaKey, callerShare }: ReadRequest,
  trace: UpstreamTrace,
  waitUntil: (promise: Promise<unknown>) => void,
): Promise<CacheOutcome> {
  const { settings } = server;
  const { name, upstream, fromIndex } = answeringEntry(
    route,
    upstreamRequest(route.path, params, query),
    server.source,
  );
  const entryKey = cacheKey({
    account: settings.CLOUDFLARE_ACCOUNT_ID,
    app: settings.REALTIMEKIT_APP_ID,
    name,
    path: upstream.path,
    query: upstream.query,
  });
  // Every entry that shows meetings says so (the proxy's own writes drop or renew it); only
  // while webhooks arrive are active sessions kept the longer, pushed TTL.
  const coverage = coverageOf(route, fromIndex, params, query);
  const pushedTtlSeconds =
    server.pushed && coverage && PUSHED_COVERAGES.includes(coverage.kind)
      ? server.pushed.ttlSeconds(waitUntil)
      : undefined;
  const outcome = await server.tiers.answer(
    {
      cacheKey: entryKey,
      label: name,
      upstream,
      ttlSeconds,
      quotaKey,
      callerShare,
      settings,
      withheld: route.withheld,
      coverage,
      pushedTtlSeconds,
    },
    trace,
    waitUntil,
  );
  if (!fromIndex) return outcome;
  return { ...outcome, answer: await server.liveSessions.answerFor(outcome.answer, params.meetingId ?? "") };
}
