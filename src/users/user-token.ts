/**
 * @module A user's sign-in: a JWT of the app's own identity provider, checked with Hono's
 * `verifyWithJwks` against the provider's keys (signature, algorithm, issuer, audience),
 * and its times against the proxy's own clock with 60 s of leeway. Every failure is named
 * in words of our own: the library's messages quote the token, ours never do.
 */

import { decodeHeader, verifyWithJwks } from "hono/utils/jwt/jwt";
import {
  JwtAlgorithmMismatch,
  JwtAlgorithmNotAllowed,
  JwtHeaderInvalid,
  JwtHeaderRequiresKid,
  JwtPayloadRequiresAud,
  JwtSymmetricAlgorithmNotAllowed,
  JwtTokenAudience,
  JwtTokenIssuer,
  JwtTokenSignatureMismatched,
} from "hono/utils/jwt/types";
import type { AsymmetricAlgorithm } from "../config.ts";
import type { User } from "../context.ts";
import { sha256Hex } from "../digest.ts";
import { type Background, type JwksCache, JwksUnavailable } from "./jwks.ts";

/** Clocks drift: a token issued a moment "in the future", or expired a moment ago, is still accepted. */
const LEEWAY_SECONDS = 60;

export interface SignInSettings {
  issuer: string;
  audience: string;
  algorithms: readonly AsymmetricAlgorithm[];
}

export type UserVerdict =
  | { ok: true; user: User }
  | { ok: false; reason: "invalid"; message: string }
  | { ok: false; reason: "unavailable" };

/** A bearer credential shaped like a JWT (three base64url parts): an API key never is. */
export function looksLikeJwt(credential: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(credential);
}

/**
 * The user's stable, non-personal id: the first 128 bits of SHA-256 over `iss`, a newline
 * and `sub`, in hex. The quota key is `user:<id>`, and the user's participant's
 * `custom_participant_id` is `rkp-user-<id>`; an app computes it the same way to find its
 * users among participants.
 */
export async function userIdOf(issuer: string, subject: string): Promise<string> {
  return (await sha256Hex(`${issuer}\n${subject}`)).slice(0, 32);
}

const invalid = (message: string): UserVerdict => ({ ok: false, reason: "invalid", message });

/** What failed, from the library's error class (its message would quote the token). */
function failureOf(error: unknown): string {
  if (error instanceof JwtTokenSignatureMismatched) return "the signature does not match the key";
  if (error instanceof JwtTokenIssuer) return "wrong issuer";
  if (error instanceof JwtTokenAudience || error instanceof JwtPayloadRequiresAud) return "wrong audience";
  if (error instanceof JwtAlgorithmMismatch) return "the algorithm does not match the key's";
  if (error instanceof JwtSymmetricAlgorithmNotAllowed || error instanceof JwtAlgorithmNotAllowed) {
    return "algorithm not allowed";
  }
  if (error instanceof JwtHeaderInvalid) return "malformed header";
  if (error instanceof JwtHeaderRequiresKid) return "no key id (kid)";
  return "malformed token";
}

function header(token: string): { alg?: unknown; kid?: unknown } | undefined {
  try {
    return decodeHeader(token) as { alg?: unknown; kid?: unknown };
  } catch {
    return undefined;
  }
}

/** Checks the times with the proxy's clock: `exp` required and not passed, `nbf` and `iat` not in the future. */
function timeFailure(payload: Record<string, unknown>, nowSeconds: number): string | undefined {
  const { exp, nbf, iat } = payload;
  if (typeof exp !== "number" || !Number.isFinite(exp)) return "no expiry (exp)";
  if (exp + LEEWAY_SECONDS <= nowSeconds) return "expired";
  if (nbf !== undefined && (typeof nbf !== "number" || nbf - LEEWAY_SECONDS > nowSeconds)) return "not valid yet (nbf)";
  if (iat !== undefined && (typeof iat !== "number" || iat - LEEWAY_SECONDS > nowSeconds))
    return "issued in the future (iat)";
  return undefined;
}

/** Verifies a user token; says what failed, or that the provider's keys cannot be had right now. */
export async function verifyUserToken(
  token: string,
  settings: SignInSettings,
  jwks: JwksCache,
  now: number,
  background: Background,
): Promise<UserVerdict> {
  const { alg, kid } = header(token) ?? {};
  if (alg === undefined) return invalid("malformed token");
  if (typeof alg !== "string" || !(settings.algorithms as readonly string[]).includes(alg)) {
    return invalid(`algorithm not allowed (allowed: ${settings.algorithms.join(", ")})`);
  }
  if (typeof kid !== "string" || kid === "") return invalid("no key id (kid)");
  let keys: Awaited<ReturnType<JwksCache["signingKeysFor"]>>;
  try {
    keys = await jwks.signingKeysFor(kid, background);
  } catch (error) {
    if (error instanceof JwksUnavailable) return { ok: false, reason: "unavailable" };
    throw error;
  }
  if (keys.length === 0) return invalid("unknown key id (kid)");
  let payload: Record<string, unknown>;
  try {
    payload = await verifyWithJwks(token, {
      keys,
      allowedAlgorithms: settings.algorithms,
      // Times are checked below with the proxy's clock and leeway; the library would use neither.
      verification: { iss: settings.issuer, aud: settings.audience, exp: false, nbf: false, iat: false },
    });
  } catch (error) {
    return invalid(failureOf(error));
  }
  const late = timeFailure(payload, Math.floor(now / 1000));
  if (late) return invalid(late);
  if (typeof payload.sub !== "string" || payload.sub === "") return invalid("no subject (sub)");
  const id = await userIdOf(settings.issuer, payload.sub);
  return { ok: true, user: { id, claims: payload } };
}
