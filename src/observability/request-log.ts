/**
 * @module One structured log line per request, a Server-Timing header, and an error
 * line whenever an operator has something to act on. Logs name routes, statuses, the
 * caller's key id and error kinds: never a token, a key, a URL or a caller's query values.
 */
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { setMetric } from "hono/timing";
import type { AppEnv } from "../context.ts";
import { errorSpec } from "../errors.ts";
import { type LogEntry, logger } from "../log.ts";
import { runtime } from "../runtime.ts";

type LoggedContext = Context<AppEnv>;

/** The log's `caller`: the API key id, `user:<id>` (never personal data), `public`, or `unidentified` for a refused credential. */
export function callerLabel(c: LoggedContext): string {
  const caller = c.get("caller");
  if (!caller || caller.kind === "refused") return "unidentified";
  if (caller.kind === "user") return `user:${caller.id}`;
  if (caller.kind === "realtimekit") return "realtimekit";
  return caller.kind === "key" ? caller.id : "public";
}

/** `hit; ttl=7` from `realtimekit-proxy; hit; ttl=7`. */
export function cacheStatusOf(response: Response): string | undefined {
  return response.headers.get("Cache-Status")?.replace(/^[^;]*;\s*/, "");
}

/** Route names by path pattern and method (logs never carry a raw URL); `*` names a path whatever its method. */
export type RouteNames = ReadonlyMap<string, string>;

/** Route names from the paths the app answers: `GET /keys`, `POST /keys`, and `* /keys` for its other methods. */
export function routeNamesOf(paths: readonly { path: string; names: Partial<Record<string, string>> }[]): RouteNames {
  const names = new Map<string, string>();
  for (const { path, names: byMethod } of paths) {
    const entries = Object.entries(byMethod);
    for (const [method, name] of entries) if (name) names.set(`${method} ${path}`, name);
    names.set(`* ${path}`, entries.map(([, name]) => name).join("|"));
  }
  return names;
}

/** The route the request matched, even when a middleware answered before its handler ran. */
export function routeName(c: Context, routeNames: RouteNames): string {
  const method = c.req.method === "HEAD" ? "GET" : c.req.method;
  const paths = matchedRoutes(c).map(({ path }) => path);
  for (const path of paths) {
    const name = routeNames.get(`${method} ${path}`);
    if (name) return name;
  }
  for (const path of paths) {
    const name = routeNames.get(`* ${path}`);
    if (name) return name;
  }
  return "unmatched";
}

/** @param routeNames route names by path and method, so logs never carry a raw URL. */
export function requestLog(routeNames: RouteNames): MiddlewareHandler<AppEnv> {
  return async function requestLog(c: LoggedContext, next) {
    const startedAt = runtime.now();
    await next();
    const trace = c.get("upstreamTrace");
    const calledUpstream = trace !== undefined && trace.attempts > 0;
    const cacheStatus = cacheStatusOf(c.res);
    const errorKind = c.get("errorKind");
    const entry: LogEntry = {
      event: "request",
      requestId: c.get("requestId"),
      method: c.req.method,
      route: routeName(c, routeNames),
      status: c.res.status,
      durationMs: runtime.now() - startedAt,
      cacheStatus,
      upstreamStatus: calledUpstream ? trace.status : undefined,
      upstreamDurationMs: calledUpstream ? trace.durationMs : undefined,
      upstreamAttempts: calledUpstream ? trace.attempts : undefined,
      // What the budget gate had left when this request's last permit was taken.
      permitsLeft: trace?.permitsLeft,
      caller: callerLabel(c),
      errorKind,
      webhookEvent: c.get("webhook")?.event,
      webhookOutcome: c.get("webhook")?.outcome,
    };
    logger.write("info", entry);
    if (trace?.sharedMs !== undefined) setMetric(c, "shared", trace.sharedMs, "shared cache tier");
    if (trace?.participantsMs !== undefined)
      setMetric(c, "participants", trace.participantsMs, "meeting's participants");
    if (calledUpstream) {
      setMetric(c, "upstream", trace.durationMs, `upstream ${trace.status ?? trace.failure}`);
      setMetric(c, "permit", trace.permitMs ?? 0, "budget gate");
    }
    if (cacheStatus) setMetric(c, "cache", cacheStatus.split(";")[0] ?? cacheStatus);
    // Only what an operator can act on: an upstream 404 or a caller's 400 is not a failure of the proxy.
    const failure = [trace?.failure, errorKind].find((kind) => kind !== undefined && errorSpec(kind).hint);
    if (failure) {
      logger.write("error", {
        event: failure === "misconfigured" ? "misconfigured" : "upstream_failure",
        requestId: entry.requestId,
        route: entry.route,
        kind: failure,
        hint: errorSpec(failure).hint,
        upstreamStatus: entry.upstreamStatus,
        upstreamAttempts: entry.upstreamAttempts,
        servedStale: failure !== errorKind && c.res.ok,
        problem: c.get("problem"),
      });
    }
  };
}
