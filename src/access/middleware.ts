/**
 * @module Who is calling and what they may do: API keys (by hash, in constant time),
 * signed-in users (their tokens checked by the verifier the app passes in), per-route
 * access, and per-caller rate limits on the Workers Rate Limiting binding.
 */

import type { MiddlewareHandler } from "hono";
import type { ApiKeyEntry, RateLimitBinding } from "../config.ts";
import type { AppEnv, Caller } from "../context.ts";
import { sha256Hex } from "../digest.ts";
import { ApiError } from "../errors.ts";
import { looksLikeJwt, type UserVerdict } from "../users/user-token.ts";
import { quotaKey, RATE_LIMIT_PERIOD_SECONDS } from "./quota.ts";

/** Keys are 43+ characters (see scripts/create-key.ts); anything far longer is not one. */
const MAX_KEY_LENGTH = 256;
/** Identity providers' tokens are a few kilobytes at most; a longer one is not checked at all. */
const MAX_USER_TOKEN_LENGTH = 16 * 1024;
/** How long a caller is asked to wait while the identity provider's keys cannot be fetched. */
const SIGN_IN_RETRY_SECONDS = 30;
/** Query params that carry tokens in other APIs (RFC 6750 section 2.3): never accepted here. */
const TOKEN_PARAMS = ["access_token", "id_token", "token", "jwt"];
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

function unauthorized(message: string, error?: "invalid_token" | "invalid_request"): ApiError {
  const challenge = error ? `${BEARER_CHALLENGE}, error="${error}"` : BEARER_CHALLENGE;
  return new ApiError("unauthorized", message, { headers: { "WWW-Authenticate": challenge } });
}

/** The key in `Authorization: Bearer <key>`; `undefined` without the header, `null` when malformed. */
function presentedKey(authorization: string | undefined): string | undefined | null {
  if (authorization === undefined) return undefined;
  return /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(authorization)?.[1] ?? null;
}

/** Checks a user token (refreshing the identity provider's keys in `background` when due); absent when user sign-in is not configured. */
export type VerifyUser = (token: string, background: (work: Promise<unknown>) => void) => Promise<UserVerdict>;

/** A token in the URL would be logged, cached and kept in browser history: it is refused, even a valid one. */
function tokenInUrl(url: string): boolean {
  for (const [name, value] of new URL(url).searchParams) {
    if (TOKEN_PARAMS.includes(name.toLowerCase()) || looksLikeJwt(value)) return true;
  }
  return false;
}

/** A user token's verdict, as the caller it makes. */
function userCaller(verdict: UserVerdict): Caller {
  if (verdict.ok) return { kind: "user", ...verdict.user };
  if (verdict.reason === "unavailable") return { kind: "refused", reason: "sign_in_unavailable" };
  return { kind: "refused", reason: "invalid_token", message: verdict.message };
}

/**
 * Identifies the caller from an API key or a user token, if one is sent. Every
 * configured key hash is compared (timingSafeEqual, no early exit), so timing tells
 * nothing about the keys. It answers nothing itself: a refused credential is
 * remembered, counted by the rate limit like any request (so guessing is limited), then
 * refused.
 */
export function callerIdentity(entries: readonly ApiKeyEntry[], verifyUser?: VerifyUser): MiddlewareHandler<AppEnv> {
  const keys: KnownKey[] = entries.map((entry) => ({
    id: entry.id,
    scopes: entry.scopes,
    hash: hexToBytes(entry.sha256),
  }));
  return async function callerIdentity(c, next) {
    if (tokenInUrl(c.req.url)) {
      c.set("caller", {
        kind: "refused",
        reason: "malformed",
        message: "a token is accepted only in Authorization: Bearer, never in the URL",
      });
      return next();
    }
    const key = presentedKey(c.req.header("Authorization"));
    if (key === undefined) {
      c.set("caller", { kind: "public" });
      return next();
    }
    if (key === null) {
      c.set("caller", { kind: "refused", reason: "malformed" });
      return next();
    }
    if (looksLikeJwt(key)) {
      const verdict =
        verifyUser && key.length <= MAX_USER_TOKEN_LENGTH
          ? await verifyUser(key, (work) => c.executionCtx.waitUntil(work))
          : {
              ok: false as const,
              reason: "invalid" as const,
              message: verifyUser ? "token too large" : "user sign-in is not configured",
            };
      c.set("caller", userCaller(verdict));
      return next();
    }
    const hash = hexToBytes(await sha256Hex(key.slice(0, MAX_KEY_LENGTH + 1)));
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
      case "sign_in_unavailable":
        throw new ApiError("sign_in_unavailable", "the identity provider's keys could not be fetched; retry later", {
          retryAfter: SIGN_IN_RETRY_SECONDS,
        });
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
  /** Whether a signed-in user may call it (without any scope: a user token grants none). */
  users?: boolean;
}

/** Lets a request through when its route is public, its key holds the scope, or it takes signed-in users. */
export function requireAccess({ isPublic, scope, users = false }: RouteAccess): MiddlewareHandler<AppEnv> {
  const needs = users ? "a signed-in user's token or an API key" : "an API key";
  return async function requireAccess(c, next) {
    const caller = c.get("caller");
    if (isPublic || (users && caller.kind === "user")) return next();
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
