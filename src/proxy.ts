/** @module Turns a route of the table into Hono handlers: validate, then answer from the cache tiers. */
import type { Context, TypedResponse } from "hono";
import { etag, RETAINED_304_HEADERS } from "hono/etag";
import type * as z from "zod";
import { type AccessVariables, callerBucket } from "./access.ts";
import { cacheKey } from "./cache/answer.ts";
import type { CacheOutcome, TieredCache } from "./cache/tiers.ts";
import type { Config } from "./config.ts";
import { ApiError } from "./errors.ts";
import type { ObservedVariables } from "./request-log.ts";
import type { ProxyRoute } from "./routes.ts";
import { newTrace, type UpstreamSettings } from "./upstream.ts";
import { validate } from "./validation.ts";

const CACHE_NAME = "realtimekit-proxy";

export interface ProxyDeps {
  config: Config;
  settings: UpstreamSettings;
  tiers: TieredCache;
}

// A 304 keeps what the 200 would have told the caller about the answer and the request.
const notModifiedHeaders = [
  ...RETAINED_304_HEADERS,
  "age",
  "cache-status",
  "x-request-id",
  "access-control-allow-origin",
  "access-control-expose-headers",
];

export function proxyRoute<Params extends z.ZodType, Query extends z.ZodType, Body, Path extends string>(
  route: ProxyRoute<Params, Query, Body, Path>,
  { config, settings, tiers }: ProxyDeps,
) {
  return [
    etag({ retainedHeaders: notModifiedHeaders }),
    validate("param", route.params),
    validate("query", route.query({ maxPerPage: config.MAX_PER_PAGE })),
    async function forward(
      c: Context<{ Variables: AccessVariables & ObservedVariables }>,
    ): Promise<TypedResponse<Body, 200, "json">> {
      const request = route.upstream({ params: c.req.valid("param" as never), query: c.req.valid("query" as never) });
      const trace = newTrace();
      c.set("upstreamTrace", trace);
      const key = cacheKey({
        account: config.CLOUDFLARE_ACCOUNT_ID,
        app: config.REALTIMEKIT_APP_ID,
        route: route.name,
        path: request.path,
        query: request.query,
      });
      const caller = callerBucket(c.get("caller"), c.req.header("CF-Connecting-IP"));
      const ttlSeconds = config[route.cacheTtl];
      const waitUntil = (promise: Promise<unknown>) => c.executionCtx.waitUntil(promise);
      const outcome = await tiers.serve(
        { key, route: route.name, upstream: request, ttlSeconds, caller, settings },
        trace,
        waitUntil,
      );
      return respondWith<Body>(c, outcome);
    },
  ] as const;
}

function cacheHeaders(outcome: CacheOutcome): Record<string, string> {
  return { Age: String(outcome.ageSeconds), "Cache-Status": `${CACHE_NAME}; ${outcome.cacheStatus}` };
}

/** The upstream's body as sent, typed for `hono/client` as the route's success envelope. */
function respondWith<Body>(c: Context, outcome: CacheOutcome): Response & TypedResponse<Body, 200, "json"> {
  const { answer } = outcome;
  // A stored 404 is answered as the upstream's 404, in the envelope, with its cache headers.
  if (answer.status === 404) throw new ApiError("not_found", answer.body, { headers: cacheHeaders(outcome) });
  const response: Response = c.body(answer.body, answer.status as 200, {
    "Content-Type": "application/json",
    ETag: answer.etag,
    ...cacheHeaders(outcome),
    "Cache-Control": `private, max-age=${outcome.freshSecondsLeft}`,
  });
  return response as Response & TypedResponse<Body, 200, "json">;
}
