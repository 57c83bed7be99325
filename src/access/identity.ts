/**
 * @module Who is calling: a config key (API_KEYS, by hash, in constant time), a managed
 * key (checked by its own object through the data centre's caches), a signed-in user
 * (their token checked by the verifier the app passes in), or nobody. It answers nothing
 * itself: a refused credential is remembered, counted by the rate limit like any request
 * (so guessing is limited), then refused.
 */
import type { MiddlewareHandler } from "hono";
import type { ApiKeyEntry, RateLimitBinding } from "../config.ts";
import type { AppEnv, Caller } from "../context.ts";
import { sha256Hex } from "../digest.ts";
import type { KeyGrant } from "../keys/record.ts";
import { keyIdOf } from "../keys/secret.ts";
import type { KeyVerifier } from "../keys/verifier.ts";
import { runtime } from "../runtime.ts";
import { looksLikeJwt, type UserVerdict } from "../users/user-token.ts";
import { quotaKey } from "./quota.ts";

/** Keys are 43+ characters (see scripts/create-key.ts); anything far longer is not one. */
const MAX_KEY_LENGTH = 256;
/** Identity providers' tokens are a few kilobytes at most; a longer one is not checked at all. */
const MAX_USER_TOKEN_LENGTH = 16 * 1024;
/** Query params that carry tokens in other APIs (RFC 6750 section 2.3): never accepted here. */
const TOKEN_PARAMS = ["access_token", "id_token", "token", "jwt"];

/** Checks a user token (refreshing the identity provider's keys in `background` when due); absent when user sign-in is not configured. */
export type VerifyUser = (token: string, background: (work: Promise<unknown>) => void) => Promise<UserVerdict>;

export interface IdentityOptions {
  configKeys: readonly ApiKeyEntry[];
  managedKeys: KeyVerifier;
  /** Where a managed key this isolate does not know is counted against its address before it is looked up. */
  addressLimiter: RateLimitBinding;
  verifyUser?: VerifyUser;
}

interface ConfigKey {
  id: string;
  scopes: readonly string[];
  hash: Uint8Array;
}

function hexToBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
}

/** The key in `Authorization: Bearer <key>`; `undefined` without the header, `null` when malformed. */
function presentedKey(authorization: string | undefined): string | undefined | null {
  if (authorization === undefined) return undefined;
  return /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(authorization)?.[1] ?? null;
}

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

/** A managed key's grant, as the caller it makes now: disabled and expired keys are refused by name. */
function managedCaller(grant: KeyGrant): Caller {
  if (!grant.enabled) return { kind: "refused", reason: "invalid_key", message: "this API key is disabled" };
  if (grant.expiresAt !== null && grant.expiresAt <= runtime.now()) {
    return { kind: "refused", reason: "invalid_key", message: "this API key has expired" };
  }
  return {
    kind: "key",
    source: "managed",
    id: grant.id,
    scopes: grant.scopes,
    rateLimit: grant.rateLimit,
    upstreamShare: grant.upstreamShare,
  };
}

/** The config key whose hash the key's is: every hash compared (timingSafeEqual, no early exit), so timing tells nothing. */
async function configKeyOf(key: string, keys: readonly ConfigKey[]): Promise<ConfigKey | undefined> {
  const hash = hexToBytes(await sha256Hex(key.slice(0, MAX_KEY_LENGTH + 1)));
  let found: ConfigKey | undefined;
  for (const known of keys) {
    if (crypto.subtle.timingSafeEqual(hash, known.hash) && !found) found = known;
  }
  return found && key.length <= MAX_KEY_LENGTH ? found : undefined;
}

export function callerIdentity({
  configKeys,
  managedKeys,
  addressLimiter,
  verifyUser,
}: IdentityOptions): MiddlewareHandler<AppEnv> {
  const keys: ConfigKey[] = configKeys.map((entry) => ({
    id: entry.id,
    scopes: entry.scopes,
    hash: hexToBytes(entry.sha256),
  }));
  return async function callerIdentity(c, next) {
    const background = (work: Promise<unknown>) => c.executionCtx.waitUntil(work);
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
          ? await verifyUser(key, background)
          : {
              ok: false as const,
              reason: "invalid" as const,
              message: verifyUser ? "token too large" : "user sign-in is not configured",
            };
      c.set("caller", userCaller(verdict));
      return next();
    }
    const configKey = await configKeyOf(key, keys);
    if (configKey) {
      c.set("caller", { kind: "key", source: "config", id: configKey.id, scopes: configKey.scopes });
      return next();
    }
    if (keyIdOf(key) === undefined) {
      c.set("caller", { kind: "refused", reason: "unknown" });
      return next();
    }
    const addressAllowed = async () => {
      c.set("countedByAddress", true);
      const { success } = await addressLimiter.limit({ key: quotaKey(undefined, c.req.header("CF-Connecting-IP")) });
      return success;
    };
    const verification = await managedKeys.verify(key, { addressAllowed, background });
    switch (verification.kind) {
      case "known":
        c.set("caller", managedCaller(verification.grant));
        break;
      case "unknown":
        c.set("caller", { kind: "refused", reason: "unknown" });
        break;
      case "limited":
        c.set("caller", { kind: "refused", reason: "over_limit" });
        break;
      case "unavailable":
        c.set("caller", { kind: "refused", reason: "key_store_unavailable" });
        break;
    }
    return next();
  };
}
