/**
 * @module How one data centre answers a validated request for a proxied route: which
 * cache entry answers it, its canonical key, the tiers, and (for active-session from the
 * live-sessions index) the meeting's answer read from the index. The Worker's handler and
 * `npm run sim` both answer through this.
 */
import type { UpstreamRequest } from "../routes/table.ts";
import { upstreamRequest } from "../routes/table.ts";
import type { UpstreamSettings, UpstreamTrace } from "../upstream/client.ts";
import { cacheKey } from "./answer.ts";
import { LIVE_INDEX_REQUEST, LIVE_INDEX_ROUTE, type LiveSessionsView } from "./live-index.ts";
import type { CacheOutcome, TieredCache } from "./tiers.ts";

/** What a data centre answers routes with. */
export interface RouteServer {
  tiers: TieredCache;
  liveSessions: LiveSessionsView;
  settings: UpstreamSettings;
  source: "meeting" | "live-sessions";
}

export interface RouteRequest {
  route: { name: string; path: string };
  params: Record<string, string>;
  query: Record<string, string | number | Date | undefined>;
  ttlSeconds: number;
  /** Whom the upstream calls it causes are counted against. */
  caller: string;
}

/**
 * Which cache entry answers a request: its own, or, for active-session read from the
 * index, the one index entry every meeting shares.
 */
export function answeringEntry(
  route: string,
  request: UpstreamRequest,
  source: "meeting" | "live-sessions",
): { name: string; upstream: UpstreamRequest; fromIndex: boolean } {
  if (route === "active-session" && source === "live-sessions") {
    return { name: LIVE_INDEX_ROUTE, upstream: LIVE_INDEX_REQUEST, fromIndex: true };
  }
  return { name: route, upstream: request, fromIndex: false };
}

/** The outcome for a validated request (throws the ApiError to send when nothing can be served). */
export async function serveRoute(
  server: RouteServer,
  { route, params, query, ttlSeconds, caller }: RouteRequest,
  trace: UpstreamTrace,
  waitUntil: (promise: Promise<unknown>) => void,
): Promise<CacheOutcome> {
  const { settings } = server;
  const { name, upstream, fromIndex } = answeringEntry(
    route.name,
    upstreamRequest(route, params, query),
    server.source,
  );
  const key = cacheKey({
    account: settings.CLOUDFLARE_ACCOUNT_ID,
    app: settings.REALTIMEKIT_APP_ID,
    route: name,
    path: upstream.path,
    query: upstream.query,
  });
  const outcome = await server.tiers.serve(
    { key, route: name, upstream, ttlSeconds, caller, settings },
    trace,
    waitUntil,
  );
  if (!fromIndex) return outcome;
  return { ...outcome, answer: await server.liveSessions.answerFor(outcome.answer, params.meetingId ?? "") };
}
