/** @module Turns a proxied route of the table into Hono handlers: validate, then answer from the cache tiers. */
import type { Context, MiddlewareHandler } from "hono";
import { etag, RETAINED_304_HEADERS } from "hono/etag";
import { callerShareOf, quotaKey } from "../access/quota.ts";
import type { Config } from "../config.ts";
import type { AppEnv } from "../context.ts";
import { ApiError } from "../errors.ts";
import { answerRead, type ReadServer } from "../reads/answer-read.ts";
import type { CacheOutcome } from "../reads/tiers.ts";
import { newTrace } from "../upstream/http.ts";
import type { ParamValue } from "../upstream/request.ts";
import type { AnyProxiedRoute, RouteSettings } from "./table.ts";
import { validate } from "./validator.ts";

const CACHE_NAME = "realtimekit-proxy";

// A 304 keeps what the 200 would have told the caller about the answer and the request.
const notModifiedHeaders = [
  ...RETAINED_304_HEADERS,
  "age",
  "cache-status",
  "x-request-id",
  "access-control-allow-origin",
  "access-control-expose-headers",
];

/** What the validators leave for the handler: the route's params and query, parsed. */
type Validated = {
  out: { param: Record<string, string>; query: Record<string, ParamValue> };
};

/** A route's cache TTL: the config var its entry names (a name the configuration lacks does not compile). */
export function ttlSecondsOf(config: Config, route: AnyProxiedRoute): number {
  return config[route.cacheTtl];
}

/** The handlers of one proxied route: ETag/304, validation, then the answer from the cache tiers. */
export function proxyHandlers(
  route: AnyProxiedRoute,
  config: Config,
  server: ReadServer,
  settings: RouteSettings,
): MiddlewareHandler<AppEnv>[] {
  async function forward(c: Context<AppEnv, string, Validated>): Promise<Response> {
    const trace = newTrace();
    c.set("upstreamTrace", trace);
    const request = {
      route,
      params: c.req.valid("param"),
      query: c.req.valid("query"),
      ttlSeconds: ttlSecondsOf(config, route),
      quotaKey: quotaKey(c.get("caller"), c.req.header("CF-Connecting-IP")),
      callerShare: callerShareOf(c.get("caller")),
    };
    const waitUntil = (promise: Promise<unknown>) => c.executionCtx.waitUntil(promise);
    return respondWith(c, await answerRead(server, request, trace, waitUntil));
  }
  return [
    etag({ retainedHeaders: notModifiedHeaders }),
    validate("param", route.params),
    validate("query", route.query(settings)),
    forward,
  ];
}

/**
 * The upstream-shaped path names the account and app: only this deployment's own are
 * served (anything else is not a route here, and reaches no upstream).
 */
export function requireThisApp(config: Config): MiddlewareHandler<AppEnv> {
  return async function requireThisApp(c, next) {
    if (c.req.param("account") !== config.CLOUDFLARE_ACCOUNT_ID || c.req.param("app") !== config.REALTIMEKIT_APP_ID) {
      throw new ApiError("not_found", "no such route: the account or app is not this proxy's");
    }
    await next();
  };
}

function cacheHeaders(outcome: CacheOutcome): Record<string, string> {
  return { Age: String(outcome.ageSeconds), "Cache-Status": `${CACHE_NAME}; ${outcome.cacheStatus}` };
}

/** The upstream's body as sent, or its stored 404 in the envelope, with the cache's headers. */
function respondWith(c: Context, outcome: CacheOutcome): Response {
  const { answer } = outcome;
  if (answer.status === 404) throw new ApiError("not_found", answer.body, { headers: cacheHeaders(outcome) });
  return c.body(answer.body, answer.status as 200, {
    "Content-Type": "application/json",
    ETag: answer.etag,
    ...cacheHeaders(outcome),
    "Cache-Control": `private, max-age=${outcome.freshSecondsLeft}`,
  });
}
