/**
 * @module Which upstream request a validated read makes: the path below
 * `/accounts/{account}/realtime/kit/{app}` with each param encoded in place, and the
 * query in one canonical form (the cache key uses it too). Plus the non-secret settings
 * that say where and how to ask.
 */
import type { Config } from "../config.ts";

/** A path below `/accounts/{account}/realtime/kit/{app}` and an encoded query ("" for none). */
export interface UpstreamRequest {
  path: string;
  query: string;
  /** For a list: fetch every page, this many a page, and answer them merged into one. */
  everyPage?: number;
}

/** A validated param or query value, as the validators leave it. */
export type ParamValue = string | number | Date | undefined;

/** The upstream request for validated input: the route's path with each param encoded, the query canonical. */
export function upstreamRequest(
  routePath: string,
  params: Record<string, string>,
  query: Record<string, ParamValue>,
): UpstreamRequest {
  const path = routePath.replace(/:([A-Za-z]+)/g, (_, name: string) => encodeURIComponent(params[name] ?? ""));
  return { path, query: encodeQuery(query) };
}

/** Only validated params, in one fixed (alphabetical) order, each URL-encoded. */
function encodeQuery(params: Record<string, ParamValue>): string {
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

/**
 * Everything but the token that says which upstream request to make and how: plain,
 * non-secret data that travels with each request to the Durable Objects.
 */
export type UpstreamSettings = Pick<
  Config,
  | "CLOUDFLARE_API_BASE_URL"
  | "CLOUDFLARE_ACCOUNT_ID"
  | "REALTIMEKIT_APP_ID"
  | "UPSTREAM_TIMEOUT_MS"
  | "UPSTREAM_MAX_RETRIES"
  | "UPSTREAM_PAUSE_SECONDS"
  | "UPSTREAM_BUDGET"
  | "CALLER_MISS_BUDGET"
  | "JOIN_BUDGET_SHARE"
>;

export function upstreamSettings(config: Config): UpstreamSettings {
  return {
    CLOUDFLARE_API_BASE_URL: config.CLOUDFLARE_API_BASE_URL,
    CLOUDFLARE_ACCOUNT_ID: config.CLOUDFLARE_ACCOUNT_ID,
    REALTIMEKIT_APP_ID: config.REALTIMEKIT_APP_ID,
    UPSTREAM_TIMEOUT_MS: config.UPSTREAM_TIMEOUT_MS,
    UPSTREAM_MAX_RETRIES: config.UPSTREAM_MAX_RETRIES,
    UPSTREAM_PAUSE_SECONDS: config.UPSTREAM_PAUSE_SECONDS,
    UPSTREAM_BUDGET: config.UPSTREAM_BUDGET,
    CALLER_MISS_BUDGET: config.CALLER_MISS_BUDGET,
    JOIN_BUDGET_SHARE: config.JOIN_BUDGET_SHARE,
  };
}
