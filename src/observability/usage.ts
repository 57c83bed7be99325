/**
 * @module Usage after each request: a key's request is counted for that key (route,
 * status, cache hit, upstream calls; kept by the key's object, keys/reporting.ts), and,
 * with a `USAGE` Analytics Engine dataset bound, every request writes one data point:
 * blobs `[caller, route, status, cache status, method]`, doubles `[1, upstream calls,
 * duration ms]`, index the caller. Never a token, a key, a URL or a query value.
 */
import type { MiddlewareHandler } from "hono";
import type { AnalyticsBinding } from "../config.ts";
import type { AppEnv } from "../context.ts";
import type { UsageReporting } from "../keys/reporting.ts";
import { runtime } from "../runtime.ts";
import { cacheStatusOf, callerLabel, type RouteNames, routeName } from "./request-log.ts";

export interface UsageOptions {
  routeNames: RouteNames;
  reporting: UsageReporting;
  analytics: AnalyticsBinding | undefined;
}

export function usageRecorder({ routeNames, reporting, analytics }: UsageOptions): MiddlewareHandler<AppEnv> {
  return async function usageRecorder(c, next) {
    const startedAt = runtime.now();
    await next();
    const route = routeName(c, routeNames);
    const cacheStatus = cacheStatusOf(c.res) ?? "";
    const trace = c.get("upstreamTrace");
    const upstreamCalls = trace?.attempts ?? 0;
    const caller = c.get("caller");
    if (caller?.kind === "key") {
      const event = { route, status: c.res.status, cacheHit: cacheStatus.startsWith("hit"), upstreamCalls };
      reporting.count({ source: caller.source, id: caller.id }, event, (work) => c.executionCtx.waitUntil(work));
    }
    const label = callerLabel(c);
    analytics?.writeDataPoint({
      indexes: [label],
      blobs: [label, route, String(c.res.status), cacheStatus.split(";")[0] ?? "", c.req.method],
      doubles: [1, upstreamCalls, runtime.now() - startedAt],
    });
  };
}
