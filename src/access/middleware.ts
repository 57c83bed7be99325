/**
 * @module What a caller may do, once known (identity.ts): a refused credential is refused
 * by name, every request is counted by the caller's rate limit (a managed key's own tier
 * when it has one), and each route lets through only its public callers, keys holding its
 * scope, signed-in users where it takes them, or a key asking about itself.
 */

import type { MiddlewareHandler } from "hono";
import type { RateLimitBinding } from "../config.ts";
import type { AppEnv } from "../context.ts";
import { ApiError } from "../errors.ts";
import { type KeyRateTier, keyRateBinding } from "../rate-tiers.ts";
import { quotaKey, RATE_LIMIT_PERIOD_SECONDS } from "./quota.ts";

/** How long a caller is asked to wait while the identity provider's keys cannot be fetched. */
const SIGN_IN_RETRY_SECONDS = 30;
/** How long a caller is asked to wait while a key it sent cannot be checked. */
const KEY_STORE_RETRY_SECONDS = 5;
const BEARER_CHALLENGE = 'Bearer realm="realtimekit-proxy"';

/** The rate limiters: the deployment's two, and one per tier of managed keys' own limits. */
export type RateLimiters = {
  PUBLIC_RATE_LIMITER: RateLimitBinding;
  KEYED_RATE_LIMITER: RateLimitBinding;
} & Record<ReturnType<typeof keyRateBinding>, RateLimitBinding>;

function unauthorized(message: string, error?: "invalid_token" | "invalid_request"): ApiError {
  const challenge = error ? `${BEARER_CHALLENGE}, error="${error}"` : BEARER_CHALLENGE;
  return new ApiError("unauthorized", message, { headers: { "WWW-Authenticate": challenge } });
}

function overLimit(): ApiError {
  return new ApiError("rate_limited", "rate limit exceeded; retry later", { retryAfter: RATE_LIMIT_PERIOD_SECONDS });
}

/**
 * A credential that is sent but malformed, unknown or invalid is a 401, even on a public
 * route: the caller meant to use it and should hear that it does not work, and why. While
 * the identity provider's keys cannot be fetched, a user token is a 503: never a pass.
 */
export function rejectRefusedCredentials(): MiddlewareHandler<AppEnv> {
  return async function rejectRefusedCredentials(c, next) {
    const caller = c.get("caller");
    if (caller.kind !== "refused") return next();
    switch (caller.reason) {
      case "malformed":
        throw unauthorized(
          caller.message ?? "send the credential as Authorization: Bearer <key or token>",
          "invalid_request",
        );
      case "unknown":
        throw unauthorized("unknown API key", "invalid_token");
      case "invalid_token":
        throw unauthorized(`invalid user token: ${caller.message ?? "refused"}`, "invalid_token");
      case "invalid_key":
        throw unauthorized(caller.message ?? "this API key does not work", "invalid_token");
      case "sign_in_unavailable":
        throw new ApiError("sign_in_unavailable", "the identity provider's keys could not be fetched; retry later", {
          retryAfter: SIGN_IN_RETRY_SECONDS,
        });
      case "key_store_unavailable":
        throw new ApiError("key_store_unavailable", "the API key could not be checked just now; retry shortly", {
          retryAfter: KEY_STORE_RETRY_SECONDS,
        });
      case "over_limit":
        throw overLimit();
    }
  };
}

/**
 * Per-caller limits on the Workers Rate Limiting binding: one bucket per valid API key
 * id in the keyed limiter, else per client IP (an IPv6 address by its /64) in the
 * public one. Every request is counted once, preflights and refused keys included,
 * before validation, the cache and the upstream. A request without `CF-Connecting-IP`
 * (only possible off Cloudflare's edge, e.g. locally) shares one "unknown" bucket:
 * limited, never exempt.
 *
 * `preflights` picks which requests this instance counts: the app puts one before the
 * CORS middleware (which answers preflights itself) and one after it (so that a 429 to
 * a browser carries CORS headers and can be read).
 */
export function rateLimit(limiters: RateLimiters, preflights: boolean): MiddlewareHandler<AppEnv> {
  return async function rateLimit(c, next) {
    if ((c.req.method === "OPTIONS") !== preflights) return next();
    const caller = c.get("caller");
    // A key the isolate did not know was counted against its address before it was looked
    // up; refused (or over that limit), it is not counted again.
    if (caller.kind === "refused" && c.get("countedByAddress")) return next();
    const { success } = await limiterOf(limiters, caller).limit({
      key: quotaKey(caller, c.req.header("CF-Connecting-IP")),
    });
    if (!success) throw overLimit();
    await next();
  };
}

/** A key's limiter: its own tier's, else the deployment's keyed one; anyone else's: the public one, by address or user. */
function limiterOf(limiters: RateLimiters, caller: AppEnv["Variables"]["caller"]): RateLimitBinding {
  if (caller.kind !== "key") return limiters.PUBLIC_RATE_LIMITER;
  const tier = caller.rateLimit as KeyRateTier | null | undefined;
  return tier ? limiters[keyRateBinding(tier)] : limiters.KEYED_RATE_LIMITER;
}

export interface RouteAccess {
  /** Whether the route is public in this deployment (its default, or `PUBLIC_ROUTES`). */
  isPublic: boolean;
  /** The scope a key needs; none: any valid key will do. */
  scope: string | undefined;
  /** Whether a signed-in user may call it (without any scope: a user token grants none). */
  users?: boolean;
  /** The path param naming a key: that key may call the route about itself without the scope. */
  selfParam?: string;
}

/** Lets a request through when its route is public, its key holds the scope (or is the key asked about), or it takes signed-in users. */
export function requireAccess({ isPublic, scope, users = false, selfParam }: RouteAccess): MiddlewareHandler<AppEnv> {
  const needs = users ? "a signed-in user's token or an API key" : "an API key";
  return async function requireAccess(c, next) {
    const caller = c.get("caller");
    if (isPublic || (users && caller.kind === "user")) return next();
    if (caller.kind === "key" && selfParam !== undefined && c.req.param(selfParam) === caller.id) return next();
    if (caller.kind === "user") {
      throw new ApiError(
        "forbidden",
        `a user token grants no key scope: this route needs an API key with the scope ${scope ?? "(any)"}`,
      );
    }
    if (caller.kind !== "key")
      throw unauthorized(`this route needs ${needs}: send Authorization: Bearer <${users ? "token or key" : "key"}>`);
    if (scope && !caller.scopes.includes(scope))
      throw new ApiError("forbidden", `this API key lacks the scope ${scope}`);
    return next();
  };
}
