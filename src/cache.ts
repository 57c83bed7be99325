/**
 * @module The response cache of list routes: canonical keys, freshness decided by the
 * proxy, stale-while-revalidate, stale-if-error, and request coalescing.
 *
 * Platform surprises this module works around:
 * - `caches.default` honours neither `stale-while-revalidate` nor `stale-if-error`
 *   (https://developers.cloudflare.com/workers/runtime-apis/cache/), so each entry
 *   carries its own stored-at time and the proxy decides fresh / stale / expired. The
 *   lifetime given to the Cache API covers the stale windows.
 * - `caches.default` is per data centre, and is a no-op on workers.dev; locally,
 *   miniflare's cache ignores `Vary` and keeps entries through the stale windows. Tests
 *   rely on none of that: the proxy's own metadata decides.
 * - The local Cache API is SQLite-backed, so a small in-isolate memory tier (same
 *   freshness rules, bounded in bytes, least recently used first out) answers hot keys.
 */
import { ApiError, STALE_IF_ERROR_KINDS } from "./errors.ts";
import { logger } from "./log.ts";
import { MemoryTier } from "./memory-tier.ts";
import { runtime } from "./runtime.ts";
import type { UpstreamSuccess } from "./upstream.ts";

/** Bump to orphan every stored entry when the stored format changes. */
const CACHE_KEY_VERSION = "v1";
const CACHE_KEY_ORIGIN = "https://cache.realtimekit-proxy.internal";
const STORED_AT_HEADER = "X-Proxy-Stored-At";
const MEMORY_TIER_BYTES = 8 * 1024 * 1024;

export interface CachePolicy {
  ttlSeconds: number;
  staleWhileRevalidateSeconds: number;
  staleIfErrorSeconds: number;
}

/** An upstream success as stored and served: the body unchanged, with its validator. */
export interface StoredAnswer {
  status: number;
  body: string;
  etag: string;
  storedAt: number;
}

export interface CacheOutcome {
  answer: StoredAnswer;
  /** RFC 9211 `Cache-Status` parameters after the cache's name. */
  cacheStatus: string;
  ageSeconds: number;
  freshSecondsLeft: number;
}

type Freshness = "fresh" | "stale-while-revalidate" | "stale-if-error" | "expired";

export interface CacheKeyParts {
  account: string;
  app: string;
  route: string;
  /** The upstream path below the app, e.g. `/sessions`. */
  path: string;
  /** The canonical (sorted, normalised, encoded) query. */
  query: string;
}

/** Equivalent queries share one key: the query is already canonical; route, account and app scope it. */
export function cacheKey({ account, app, route, path, query }: CacheKeyParts): string {
  return `${CACHE_KEY_ORIGIN}/${CACHE_KEY_VERSION}/${account}/${app}/${route}${path}?${query}`;
}

/** A strong validator: the first 128 bits of the body's SHA-256. */
async function strongEtag(body: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body));
  const hex = Array.from(new Uint8Array(digest).slice(0, 16), (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `"${hex}"`;
}

export async function toStoredAnswer(result: UpstreamSuccess): Promise<StoredAnswer> {
  return { status: result.status, body: result.body, etag: await strongEtag(result.body), storedAt: runtime.now() };
}

/** Concurrent calls with one key share one run of `load`; its failure reaches every caller. */
export class Coalescer<T> {
  readonly #inFlight = new Map<string, Promise<T>>();

  run(key: string, load: () => Promise<T>): Promise<T> {
    const running = this.#inFlight.get(key);
    if (running) return running;
    const started = load().finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, started);
    return started;
  }
}

export class ResponseCache {
  readonly #policy: CachePolicy;
  readonly #memory = new MemoryTier<StoredAnswer>(MEMORY_TIER_BYTES, (answer) => answer.body.length * 2 + 200);
  readonly #loads = new Coalescer<StoredAnswer>();
  readonly #storedLifetimeSeconds: number;

  constructor(policy: CachePolicy) {
    this.#policy = policy;
    this.#storedLifetimeSeconds =
      policy.ttlSeconds + Math.max(policy.staleWhileRevalidateSeconds, policy.staleIfErrorSeconds);
  }

  get enabled(): boolean {
    return this.#policy.ttlSeconds > 0;
  }

  /**
   * Answers from the cache when it may, else from `load` (coalesced per key), storing
   * what it loads. `waitUntil` keeps background refreshes and stores alive.
   */
  async serve(
    key: string,
    load: () => Promise<UpstreamSuccess>,
    waitUntil: (promise: Promise<unknown>) => void,
  ): Promise<CacheOutcome> {
    if (!this.enabled) {
      // Nothing is stored, but identical requests in flight still share one upstream call.
      return this.#outcome(await this.#loads.run(key, async () => toStoredAnswer(await load())), "fwd=bypass");
    }
    const cached = await this.#lookup(key);
    const freshness = cached ? this.#freshness(cached) : "expired";
    if (cached && freshness === "fresh") return this.#outcome(cached, "hit");
    if (cached && freshness === "stale-while-revalidate") {
      waitUntil(this.#loadAndStore(key, load, waitUntil).catch(logBackgroundFailure));
      return this.#outcome(cached, "hit", "stale-while-revalidate");
    }
    try {
      const fresh = await this.#loadAndStore(key, load, waitUntil);
      const forwarded = cached && freshness !== "expired" ? "fwd=stale" : "fwd=miss";
      return this.#outcome(fresh, isStorable(fresh) ? `${forwarded}; stored` : forwarded);
    } catch (error) {
      if (cached && freshness === "stale-if-error" && isUpstreamFailure(error)) {
        return this.#outcome(cached, "hit", "stale-if-error");
      }
      throw error;
    }
  }

  #loadAndStore(key: string, load: () => Promise<UpstreamSuccess>, waitUntil: (promise: Promise<unknown>) => void) {
    return this.#loads.run(key, async () => {
      const answer = await toStoredAnswer(await load());
      if (isStorable(answer)) {
        this.#memory.set(key, answer);
        waitUntil(this.#putShared(key, answer));
      }
      return answer;
    });
  }

  async #lookup(key: string): Promise<StoredAnswer | undefined> {
    const inMemory = this.#memory.get(key);
    if (inMemory && this.#freshness(inMemory) !== "expired") return inMemory;
    const shared = await this.#matchShared(key);
    if (shared) this.#memory.set(key, shared);
    return shared;
  }

  async #matchShared(key: string): Promise<StoredAnswer | undefined> {
    const response = await caches.default.match(key);
    const storedAt = Number(response?.headers.get(STORED_AT_HEADER));
    const etag = response?.headers.get("ETag");
    if (!response || !etag || !Number.isFinite(storedAt)) return undefined;
    return { status: response.status, body: await response.text(), etag, storedAt };
  }

  #putShared(key: string, answer: StoredAnswer): Promise<void> {
    const response = new Response(answer.body, {
      status: answer.status,
      headers: {
        "Content-Type": "application/json",
        ETag: answer.etag,
        [STORED_AT_HEADER]: String(answer.storedAt),
        // Long enough to cover the stale windows; the proxy decides freshness itself.
        "Cache-Control": `max-age=${this.#storedLifetimeSeconds}`,
      },
    });
    return caches.default.put(key, response);
  }

  #freshness(answer: StoredAnswer): Freshness {
    const age = (runtime.now() - answer.storedAt) / 1000;
    const { ttlSeconds, staleWhileRevalidateSeconds, staleIfErrorSeconds } = this.#policy;
    if (age < ttlSeconds) return "fresh";
    if (age < ttlSeconds + staleWhileRevalidateSeconds) return "stale-while-revalidate";
    if (age < ttlSeconds + staleIfErrorSeconds) return "stale-if-error";
    return "expired";
  }

  #outcome(answer: StoredAnswer, status: string, staleDetail?: Freshness): CacheOutcome {
    const ageSeconds = Math.max(0, Math.floor((runtime.now() - answer.storedAt) / 1000));
    const freshSecondsLeft = this.#policy.ttlSeconds - ageSeconds;
    const cacheStatus =
      status === "hit" ? `hit; ttl=${freshSecondsLeft}${staleDetail ? `; detail=${staleDetail}` : ""}` : status;
    return { answer, cacheStatus, ageSeconds, freshSecondsLeft: Math.max(0, freshSecondsLeft) };
  }
}

/** Only 200 success envelopes are stored (the upstream client lets no other body through as a success). */
function isStorable(answer: StoredAnswer): boolean {
  return answer.status === 200;
}

/** A failed background refresh keeps the stale copy; the request has already been logged, so log it here. */
function logBackgroundFailure(error: unknown): void {
  logger.write("error", {
    event: "background_refresh_failed",
    kind: error instanceof ApiError ? error.kind : "internal",
  });
}

function isUpstreamFailure(error: unknown): boolean {
  return error instanceof ApiError && STALE_IF_ERROR_KINDS.has(error.kind);
}
