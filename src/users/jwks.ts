/**
 * @module The identity provider's signing keys (its JWKS), cached per isolate so that
 * trouble at the provider stays invisible while good keys are held:
 * - keys are kept at least 60 s whatever the provider's `Cache-Control` says (10 minutes
 *   without one, 24 hours at most), and past that they are refreshed in the background
 *   while requests go on with the keys held (for up to a day, should the provider stay down);
 * - after a failed fetch, the next one waits at least 30 s;
 * - only a token whose key id is not among the keys held ever waits for a fetch, and such
 *   fetches happen at most once per 30 s, so forged key ids cannot make the proxy hammer
 *   the provider.
 */
import type { HonoJsonWebKey } from "hono/utils/jwt/jws";
import { readBoundedText } from "../bounded.ts";

const DEFAULT_MAX_AGE_MS = 600_000;
/** However short the provider's max-age (even 0), keys are kept this long before a refresh. */
const SHORTEST_MAX_AGE_MS = 60_000;
const LONGEST_MAX_AGE_MS = 86_400_000;
/** No fetch is made within this long of the last one that failed, nor for an unknown key id within this long of the last. */
export const REFETCH_INTERVAL_MS = 30_000;
/** Keys already fetched stay usable this long past their max-age while the provider cannot be reached. */
const STALE_KEYS_MS = 86_400_000;
const FETCH_TIMEOUT_MS = 5_000;
/** A JWKS is a few kilobytes; this is far past any real one. */
const MAX_JWKS_BYTES = 256 * 1024;

/** The keys could not be had: none held (or held too long), and the provider does not answer. */
export class JwksUnavailable extends Error {
  constructor() {
    super("the identity provider's keys could not be fetched");
    this.name = "JwksUnavailable";
  }
}

interface Fetched {
  keys: HonoJsonWebKey[];
  /** Until when they are fresh; past it they are refreshed in the background. */
  freshUntil: number;
}

/** Runs work after the answer (the platform's `waitUntil`), so a background refresh is not cut short. */
export type Background = (work: Promise<unknown>) => void;

function maxAgeMs(headers: Headers): number {
  const maxAge = /(?:^|,)\s*max-age\s*=\s*"?([0-9]+)"?/i.exec(headers.get("Cache-Control") ?? "")?.[1];
  const asked = maxAge === undefined ? DEFAULT_MAX_AGE_MS : Number(maxAge) * 1000;
  return Math.min(Math.max(asked, SHORTEST_MAX_AGE_MS), LONGEST_MAX_AGE_MS);
}

function isKey(value: unknown): value is HonoJsonWebKey {
  return typeof value === "object" && value !== null && typeof Reflect.get(value, "kty") === "string";
}

export class JwksCache {
  readonly #url: string;
  readonly #now: () => number;
  #fetched: Fetched | undefined;
  /** When the last fetch began, and when the last one failed. */
  #lastFetchAt = Number.NEGATIVE_INFINITY;
  #lastFailureAt = Number.NEGATIVE_INFINITY;
  #inFlight: Promise<Fetched | undefined> | undefined;

  constructor(url: string, now: () => number) {
    this.#url = url;
    this.#now = now;
  }

  /**
   * The signing keys to check a token signed with `kid` against: those held that carry it
   * (refreshed in `background` when stale), else those of a fetch made now, at most once
   * per 30 s; none when the key id is unknown. Throws JwksUnavailable when no keys are
   * held and none can be fetched.
   */
  async signingKeysFor(kid: string, background: Background): Promise<HonoJsonWebKey[]> {
    const held = this.#usable();
    if (held && held.freshUntil <= this.#now() && this.#mayFetch()) background(this.#refetch());
    const matching = held?.keys.filter((key) => key.kid === kid) ?? [];
    if (matching.length > 0) return matching;
    // An unknown key id: wait for the fetch under way (it costs nothing more), or make one if none was made within 30 s.
    const fetching = this.#inFlight ?? (this.#mayFetch() ? this.#refetch() : undefined);
    if (!fetching) {
      if (!held) throw new JwksUnavailable();
      return matching;
    }
    const fetched = (await fetching) ?? this.#usable();
    if (!fetched) throw new JwksUnavailable();
    return fetched.keys.filter((key) => key.kid === kid);
  }

  /** The keys held, while still usable (fresh, or stale for at most a day). */
  #usable(): Fetched | undefined {
    const fetched = this.#fetched;
    return fetched && this.#now() - fetched.freshUntil < STALE_KEYS_MS ? fetched : undefined;
  }

  /** No fetch in flight, none within 30 s, and none failed within 30 s. */
  #mayFetch(): boolean {
    const now = this.#now();
    return (
      this.#inFlight === undefined &&
      now - this.#lastFetchAt >= REFETCH_INTERVAL_MS &&
      now - this.#lastFailureAt >= REFETCH_INTERVAL_MS
    );
  }

  /** One fetch at a time per isolate; `undefined` when it failed. */
  #refetch(): Promise<Fetched | undefined> {
    this.#lastFetchAt = this.#now();
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
      if (!Array.isArray(keys)) return this.#failed();
      this.#fetched = { keys: keys.filter(isKey), freshUntil: this.#now() + maxAgeMs(response.headers) };
      return this.#fetched;
    } catch {
      return this.#failed();
    }
  }

  #failed(): undefined {
    this.#lastFailureAt = this.#now();
    return undefined;
  }
}
