/** @module Turns a route of the table into Hono handlers: validate, then forward. */
import type { Context } from "hono";
import type * as z from "zod";
import type { Config } from "./config.ts";
import type { ProxyRoute } from "./routes.ts";
import type { UpstreamClient, UpstreamSuccess } from "./upstream.ts";
import { validate } from "./validation.ts";

export function proxyRoute<Params extends z.ZodType, Query extends z.ZodType>(
  route: ProxyRoute<Params, Query>,
  config: Config,
  upstream: UpstreamClient,
) {
  return [
    validate("param", route.params),
    validate("query", route.query({ maxPerPage: config.MAX_PER_PAGE })),
    async function forward(c: Context) {
      const input = { params: c.req.valid("param" as never), query: c.req.valid("query" as never) };
      const request = route.upstream(input);
      return respondWith(c, await upstream.get(request));
    },
  ] as const;
}

function respondWith(c: Context, result: UpstreamSuccess): Response {
  return c.body(result.body, result.status as 200, { "Content-Type": "application/json" });
}
