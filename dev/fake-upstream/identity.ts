/**
 * @module A local identity provider for `npm start` and the tests: an RSA key pair made at
 * start, its public key published as a JWKS, and signed user tokens (ID tokens) on request.
 * It stands in for Auth0, Clerk, Firebase or any issuer of JWTs; the proxy checks its
 * tokens exactly as it checks theirs. Never for production: anyone can ask it for a token.
 */
import { encodeBase64Url } from "hono/utils/encode";

/** What the proxy is configured with to trust this provider (AUTH_ISSUER, AUTH_AUDIENCE, JOIN_PRESETS). */
export const LOCAL_SIGN_IN = {
  issuer: "https://idp.realtimekit-proxy.local",
  audience: "realtimekit-proxy-local",
  jwksPath: "/idp/.well-known/jwks.json",
  tokenPath: "/idp/token",
  /** The role claim's values and the presets they join with (the fake upstream has these presets). */
  presets: { claim: "role", presets: { host: "group_call_host", "*": "group_call_participant" } },
};

export interface UserClaims {
  sub: string;
  role?: string | string[];
  name?: string;
  preferred_username?: string;
  picture?: string;
  [claim: string]: unknown;
}

export interface SignOptions {
  /** Seconds until the token expires (negative: already expired). */
  expiresIn?: number;
  /** Claims set or replaced after the standard ones (iss, aud, iat, exp). */
  override?: Record<string, unknown>;
  /** Sign with a key this provider never published (same key id): a forgery. */
  unpublishedKey?: boolean;
  /** The key id in the header (default: the published key's). */
  kid?: string;
}

/** How the provider misbehaves when told to: what max-age it serves its keys with, whether it is down, or slow. */
export interface JwksTrouble {
  maxAgeSeconds?: number;
  /** Answers 503. */
  down?: boolean;
  /** Answers only once this settles (a slow or hanging provider). */
  until?: Promise<unknown>;
}

/** The public half as published: an RSA JWK with its key id. */
interface PublicJwk {
  kty: string;
  n: string;
  e: string;
  kid: string;
  alg: "RS256";
  use: "sig";
}

interface KeyPair {
  privateKey: Parameters<typeof crypto.subtle.sign>[1];
  publicJwk: PublicJwk;
}

const RSA = {
  name: "RSASSA-PKCS1-v1_5",
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: "SHA-256",
};

async function generateKeyPair(kid: string): Promise<KeyPair> {
  const pair = await crypto.subtle.generateKey(RSA, true, ["sign", "verify"]);
  if (!("privateKey" in pair)) throw new Error("an RSA key generation gives a key pair");
  const exported: unknown = await crypto.subtle.exportKey("jwk", pair.publicKey);
  const member = (name: string) =>
    typeof exported === "object" && exported !== null ? Reflect.get(exported, name) : undefined;
  const [n, e] = [member("n"), member("e")];
  if (typeof n !== "string" || typeof e !== "string") throw new Error("an RSA public key exports n and e");
  return { privateKey: pair.privateKey, publicJwk: { kty: "RSA", n, e, kid, alg: "RS256", use: "sig" } };
}

/** A signed JWT: what any identity provider's library makes (RS256, the key id in the header). */
async function signJwt(
  payload: Record<string, unknown>,
  privateKey: KeyPair["privateKey"],
  kid: string,
): Promise<string> {
  const signed = `${jwtPart({ alg: "RS256", typ: "JWT", kid })}.${jwtPart(payload)}`;
  const signature = await crypto.subtle.sign(RSA.name, privateKey, new TextEncoder().encode(signed));
  return `${signed}.${encodeBase64Url(signature).replace(/=+$/, "")}`;
}

const json = (body: unknown, init: ResponseInit = {}) =>
  new Response(JSON.stringify(body), {
    ...init,
    headers: { "Content-Type": "application/json", ...(init.headers as Record<string, string> | undefined) },
  });

// The example page asks for a token from its own origin: any origin may (this provider is local only).
const CORS = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Methods": "POST, OPTIONS",
  "Access-Control-Allow-Headers": "Content-Type",
};

/** @param now the clock tokens are issued by (the tests' fake clock, so times agree with the proxy's). */
export function createIdentityProvider(now: () => number = Date.now) {
  const kid = `local-${crypto.randomUUID().slice(0, 8)}`;
  let published: Promise<KeyPair> | undefined;
  let unpublished: Promise<KeyPair> | undefined;
  const keys = () => (published ??= generateKeyPair(kid));
  const forgeryKeys = () => (unpublished ??= generateKeyPair(kid));
  let jwksRequests = 0;
  let trouble: JwksTrouble = {};

  /** A token for `claims`, signed like a real provider's (RS256, with the key id). */
  async function signIn(claims: UserClaims, options: SignOptions = {}): Promise<string> {
    const { privateKey, publicJwk } = await (options.unpublishedKey ? forgeryKeys() : keys());
    const issuedAt = Math.floor(now() / 1000);
    const payload = {
      iss: LOCAL_SIGN_IN.issuer,
      aud: LOCAL_SIGN_IN.audience,
      iat: issuedAt,
      exp: issuedAt + (options.expiresIn ?? 3600),
      ...claims,
      ...options.override,
    };
    return signJwt(payload, privateKey, options.kid ?? publicJwk.kid);
  }

  /** The published key, as a JWKS. */
  async function jwks(): Promise<{ keys: PublicJwk[] }> {
    return { keys: [(await keys()).publicJwk] };
  }

  /** The public key's JWK (tests forge tokens with it, e.g. HS256 keyed by the public key). */
  async function publicJwk(): Promise<PublicJwk> {
    return (await keys()).publicJwk;
  }

  async function fetch(request: Request): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname === LOCAL_SIGN_IN.jwksPath) {
      jwksRequests++;
      const { maxAgeSeconds = 600, down, until } = trouble;
      if (until) await until;
      if (down) return json({ error: "service unavailable" }, { status: 503 });
      return json(await jwks(), { headers: { "Cache-Control": `public, max-age=${maxAgeSeconds}` } });
    }
    if (pathname === LOCAL_SIGN_IN.tokenPath && request.method === "OPTIONS") {
      return new Response(null, { status: 204, headers: CORS });
    }
    if (pathname === LOCAL_SIGN_IN.tokenPath && request.method === "POST") {
      const asked = (await request.json().catch(() => ({}))) as Partial<UserClaims> & { expiresIn?: number };
      if (typeof asked.sub !== "string" || asked.sub === "") {
        return json({ error: "give a sub: the user's id at this provider" }, { status: 400, headers: CORS });
      }
      const { expiresIn, ...claims } = asked;
      const token = await signIn(claims as UserClaims, { expiresIn });
      return json({ token, expires_in: expiresIn ?? 3600 }, { headers: CORS });
    }
    return json({ error: "not found" }, { status: 404 });
  }

  return {
    fetch,
    signIn,
    jwks,
    publicJwk,
    /** How many times the JWKS was fetched (the proxy must not hammer the provider). */
    get jwksRequests() {
      return jwksRequests;
    },
    /** Makes the provider troublesome (a short max-age, down, slow); `{}` makes it well again. */
    trouble(next: JwksTrouble): void {
      trouble = next;
    },
  };
}

export type IdentityProvider = ReturnType<typeof createIdentityProvider>;

/** Part of a JWT, base64url-encoded, for tokens tests craft by hand (alg none, a symmetric forgery). */
export function jwtPart(value: unknown): string {
  return encodeBase64Url(new TextEncoder().encode(JSON.stringify(value)).buffer).replace(/=+$/, "");
}

/** The proxy's sign-in and join vars for the local identity provider on `origin` (npm start, the tests). */
export function localSignInVars(origin: string): Record<string, string> {
  return {
    AUTH_JWKS_URL: `${origin}${LOCAL_SIGN_IN.jwksPath}`,
    AUTH_ISSUER: LOCAL_SIGN_IN.issuer,
    AUTH_AUDIENCE: LOCAL_SIGN_IN.audience,
    JOIN_PRESETS: JSON.stringify(LOCAL_SIGN_IN.presets),
  };
}
