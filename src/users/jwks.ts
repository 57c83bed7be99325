/**
 * @module The identity provider's public keys (its JWKS), cached per isolate: for its
 * `Cache-Control` max-age (10 minutes without one, 24 hours at most); refetched for an
 * unknown key id at most once per 30 s, so forged key ids cannot make the proxy hammer
 * the provider; kept (stale) while the provider is unreachable, for up to a day.
 */
import type { HonoJsonWebKey } from "hono/utils/jwt/jws";
import { readBoundedText } from "../bounded.ts";

const DEFAULT_MAX_AGE_MS = 600_000;
const LONGEST_MAX_AGE_MS = 86_400_000;
/** An unknown key id is looked for again at most this often (a rotation shows up at once, a forgery flood does not). */
export const UNKNOWN_KID_REFETCH_MS = 30_000;
/** Keys already fetched stay usable this long past their max-age while the provider cannot be reached. */
const STALE_KEYS_MS = 86_400_000;
const FETCH_TIMEOUT_MS = 5_000;
/** A JWKS is a few kilobytes; this is far past any real one. */
const MAX_JWKS_BYTES = 256 * 1024;

/** The keys could not be had: none fetched yet (or too long ago), and the provider does not answer. */
export class JwksUnavailable extends Error {
  constructor() {
    super("the identity provider's keys could not be fetched");
    this.name = "JwksUnavailable";
  }
}

interface Fetched {
  keys: HonoJsonWebKey[];
  expiresAt: number;
}

function maxAgeMs(headers: Headers): number {
  const maxAge = /(?:^|,)\s*max-age\s*=\s*"?([0-9]+)"?/i.exec(headers.get("Cache-Control") ?? "")?.[1];
  return maxAge === undefined ? DEFAULT_MAX_AGE_MS : Math.min(Number(maxAge) * 1000, LONGEST_MAX_AGE_MS);
}

function isKey(value: unknown): value is HonoJsonWebKey {
  return typeof value === "object" && value !== null && typeof Reflect.get(value, "kty") === "string";
}

export class JwksCache {
  readonly #url: string;
  readonly #now: () => number;
  #fetched: Fetched | undefined;
  #lastUnknownKidFetch = Number.NEGATIVE_INFINITY;
  #inFlight: Promise<Fetched | undefined> | undefined;

  constructor(url: string, now: () => number) {
    this.#url = url;
    this.#now = now;
  }

  /** The keys to check a token signed with `kid` against (those of the JWKS that carry it; none when it is unknown). */
  async keysFor(kid: string): Promise<HonoJsonWebKey[]> {
    let fetched = this.#fetched;
    if (!fetched || fetched.expiresAt <= this.#now()) fetched = (await this.#refetch()) ?? this.#stale();
    let matching = fetched.keys.filter((key) => key.kid === kid);
    if (matching.length === 0 && this.#now() - this.#lastUnknownKidFetch >= UNKNOWN_KID_REFETCH_MS) {
      this.#lastUnknownKidFetch = this.#now();
      fetched = (await this.#refetch()) ?? fetched;
      matching = fetched.keys.filter((key) => key.kid === kid);
    }
    return matching;
  }

  /** The last keys fetched while still usable stale; else the provider is unavailable. */
  #stale(): Fetched {
    const fetched = this.#fetched;
    if (fetched && this.#now() - fetched.expiresAt < STALE_KEYS_MS) return fetched;
    throw new JwksUnavailable();
  }

  /** One fetch at a time per isolate; `undefined` when it failed. */
  #refetch(): Promise<Fetched | undefined> {
    this.#inFlight ??= this.#fetch().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #fetch(): Promise<Fetched | undefined> {
    try {
      const response = await fetch(this.#url, {
        headers: { Accept: "application/json" },
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      });
      const text = response.ok ? await readBoundedText(response, MAX_JWKS_BYTES) : undefined;
      if (!response.ok) await response.body?.cancel();
      const parsed: unknown = text === undefined ? undefined : JSON.parse(text);
      const keys = typeof parsed === "object" && parsed !== null ? Reflect.get(parsed, "keys") : undefined;
      if (!Array.isArray(keys)) return undefined;
      const now = this.#now();
      this.#fetched = { keys: keys.filter(isKey), expiresAt: now + maxAgeMs(response.headers) };
      return this.#fetched;
    } catch {
      return undefined;
    }
  }
}
