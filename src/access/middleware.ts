/**
 * @module Who is calling and what they may do: API keys (by hash, in constant time),
 * per-route scopes, and per-caller rate limits on the Workers Rate Limiting binding.
 */
import type { MiddlewareHandler } from "hono";
import type { ApiKeyEntry, RateLimitBinding } from "../config.ts";
import type { AppEnv } from "../context.ts";
import { ApiError } from "../errors.ts";
import { quotaKey, RATE_LIMIT_PERIOD_SECONDS } from "./keys.ts";

/** Keys are 43+ characters (see scripts/create-key.ts); anything far longer is not one. */
const MAX_KEY_LENGTH = 256;
const BEARER_CHALLENGE = 'Bearer realm="realtimekit-proxy"';

interface KnownKey {
  id: string;
  scopes: readonly string[];
  hash: Uint8Array;
}

interface RateLimiters {
  PUBLIC_RATE_LIMITER: RateLimitBinding;
  KEYED_RATE_LIMITER: RateLimitBinding;
}

function hexToBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
}

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

function unauthorized(message: string, error?: "invalid_token" | "invalid_request"): ApiError {
  const challenge = error ? `${BEARER_CHALLENGE}, error="${error}"` : BEARER_CHALLENGE;
  return new ApiError("unauthorized", message, { headers: { "WWW-Authenticate": challenge } });
}

/** The key in `Authorization: Bearer <key>`; `undefined` without the header, `null` when malformed. */
function presentedKey(authorization: string | undefined): string | undefined | null {
  if (authorization === undefined) return undefined;
  return /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(authorization)?.[1] ?? null;
}

/**
 * Identifies the caller from an API key, if one is sent. Every configured hash is
 * compared (timingSafeEqual, no early exit), so timing tells nothing about the keys.
 * It answers nothing itself: an unknown or malformed key is remembered, counted by the
 * rate limit like any request (so guessing keys is limited), then refused.
 */
export function callerIdentity(entries: readonly ApiKeyEntry[]): MiddlewareHandler<AppEnv> {
  const keys: KnownKey[] = entries.map((entry) => ({
    id: entry.id,
    scopes: entry.scopes,
    hash: hexToBytes(entry.sha256),
  }));
  return async function callerIdentity(c, next) {
    const key = presentedKey(c.req.header("Authorization"));
    if (key === undefined) {
      c.set("caller", { kind: "public" });
      return next();
    }
    if (key === null) {
      c.set("caller", { kind: "refused", reason: "malformed" });
      return next();
    }
    const hash = await sha256(key.slice(0, MAX_KEY_LENGTH + 1));
    let found: KnownKey | undefined;
    for (const known of keys) {
      if (crypto.subtle.timingSafeEqual(hash, known.hash) && !found) found = known;
    }
    c.set(
      "caller",
      found && key.length <= MAX_KEY_LENGTH
        ? { kind: "key", id: found.id, scopes: found.scopes }
        : { kind: "refused", reason: "unknown" },
    );
    return next();
  };
}

/**
 * A key that is sent but malformed or unknown is a 401, even on a public route: the
 * caller meant to use it and should hear that it does not work.
 */
export function rejectRefusedKeys(): MiddlewareHandler<AppEnv> {
  return async function rejectRefusedKeys(c, next) {
    const caller = c.get("caller");
    if (caller.kind === "refused" && caller.reason === "malformed") {
      throw unauthorized("send the API key as Authorization: Bearer <key>", "invalid_request");
    }
    if (caller.kind === "refused") throw unauthorized("unknown API key", "invalid_token");
    await next();
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
    const limiter = caller.kind === "key" ? limiters.KEYED_RATE_LIMITER : limiters.PUBLIC_RATE_LIMITER;
    const { success } = await limiter.limit({ key: quotaKey(caller, c.req.header("CF-Connecting-IP")) });
    if (!success) {
      throw new ApiError("rate_limited", "rate limit exceeded; retry later", { retryAfter: RATE_LIMIT_PERIOD_SECONDS });
    }
    await next();
  };
}

export interface RouteAccess {
  /** Whether the route is public in this deployment (its default, or `PUBLIC_ROUTES`). */
  isPublic: boolean;
  /** The scope a key needs; none: any valid key will do. */
  scope: string | undefined;
}

/** Lets a request through when its route is public or its key holds the scope. */
export function requireAccess({ isPublic, scope }: RouteAccess): MiddlewareHandler<AppEnv> {
  return async function requireAccess(c, next) {
    const caller = c.get("caller");
    if (isPublic) return next();
    if (caller.kind !== "key") throw unauthorized("this route needs an API key: send Authorization: Bearer <key>");
    if (scope && !caller.scopes.includes(scope))
      throw new ApiError("forbidden", `this API key lacks the scope ${scope}`);
    return next();
  };
}
