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
function callerLabel(c: LoggedContext): string {
  const caller = c.get("caller");
  if (!caller || caller.kind === "refused") return "unidentified";
  if (caller.kind === "user") return `user:${caller.id}`;
  if (caller.kind === "realtimekit") return "realtimekit";
  return caller.kind === "key" ? caller.id : "public";
}

/** `hit; ttl=7` from `realtimekit-proxy; hit; ttl=7`. */
function cacheStatusOf(response: Response): string | undefined {
  return response.headers.get("Cache-Status")?.replace(/^[^;]*;\s*/, "");
}

/** The route the path matched, even when a middleware answered before its handler ran. */
function routeName(c: Context, routeNames: Readonly<Record<string, string>>): string {
  const route = matchedRoutes(c).find(({ path }) => Object.hasOwn(routeNames, path));
  return route ? (routeNames[route.path] ?? "unmatched") : "unmatched";
}

/** @param routeNames route pattern → route name, so logs never carry a raw URL. */
export function requestLog(routeNames: Readonly<Record<string, string>>): MiddlewareHandler<AppEnv> {
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
