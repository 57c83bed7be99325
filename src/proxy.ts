/** @module Turns a route of the table into Hono handlers: validate, answer from the cache or the upstream. */
import type { Context, TypedResponse } from "hono";
import { etag, RETAINED_304_HEADERS } from "hono/etag";
import type * as z from "zod";
import {
  type CacheOutcome,
  type Coalescer,
  cacheKey,
  type ResponseCache,
  type StoredAnswer,
  toStoredAnswer,
} from "./cache.ts";
import type { Config } from "./config.ts";
import type { ProxyRoute } from "./routes.ts";
import { newTrace, type UpstreamClient } from "./upstream.ts";
import { validate } from "./validation.ts";

const CACHE_NAME = "realtimekit-proxy";

export interface ProxyDeps {
  config: Config;
  upstream: UpstreamClient;
  cache: ResponseCache;
  /** Shares identical in-flight requests of routes that are never stored. */
  live: Coalescer<StoredAnswer>;
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
  { config, upstream, cache, live }: ProxyDeps,
) {
  return [
    etag({ retainedHeaders: notModifiedHeaders }),
    validate("param", route.params),
    validate("query", route.query({ maxPerPage: config.MAX_PER_PAGE })),
    async function forward(c: Context): Promise<TypedResponse<Body, 200, "json">> {
      const request = route.upstream({ params: c.req.valid("param" as never), query: c.req.valid("query" as never) });
      const trace = newTrace();
      c.set("upstreamTrace", trace);
      const load = () => upstream.get(request, trace);
      const key = cacheKey({
        account: config.CLOUDFLARE_ACCOUNT_ID,
        app: config.REALTIMEKIT_APP_ID,
        route: route.name,
        path: request.path,
        query: request.query,
      });
      if (route.cache === "list") {
        const waitUntil = (promise: Promise<unknown>) => c.executionCtx.waitUntil(promise);
        return respondWith<Body>(c, await cache.serve(key, load, waitUntil));
      }
      const answer = await live.run(key, async () => toStoredAnswer(await load()));
      return respondWith<Body>(
        c,
        { answer, cacheStatus: "fwd=bypass", ageSeconds: 0, freshSecondsLeft: 0 },
        "no-cache",
      );
    },
  ] as const;
}

/** The upstream's body as sent, typed for `hono/client` as the route's success envelope. */
function respondWith<Body>(
  c: Context,
  outcome: CacheOutcome,
  revalidate?: "no-cache",
): Response & TypedResponse<Body, 200, "json"> {
  const { answer } = outcome;
  const response: Response = c.body(answer.body, answer.status as 200, {
    "Content-Type": "application/json",
    ETag: answer.etag,
    Age: String(outcome.ageSeconds),
    "Cache-Status": `${CACHE_NAME}; ${outcome.cacheStatus}`,
    "Cache-Control": revalidate ? `private, ${revalidate}` : `private, max-age=${outcome.freshSecondsLeft}`,
  });
  return response as Response & TypedResponse<Body, 200, "json">;
}
