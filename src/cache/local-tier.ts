/**
 * @module The local tier of one data centre: `caches.default` behind a bounded
 * in-isolate memory tier. It only stores and finds answers; whether one is fresh,
 * stale or expired is decided from its production time (answer.ts).
 *
 * Platform surprises this module works around:
 * - `caches.default` honours neither `stale-while-revalidate` nor `stale-if-error`
 *   (https://developers.cloudflare.com/workers/runtime-apis/cache/), so each entry
 *   carries its own production time and the proxy decides; the lifetime given to the
 *   Cache API only bounds how long it is kept.
 * - `caches.default` is per data centre, and does nothing on workers.dev; locally,
 *   miniflare's cache ignores `Vary` and keeps entries through the stale windows.
 *   Nothing here relies on either: the proxy's own metadata decides.
 * - The local Cache API is SQLite-backed, so a small memory tier (bounded in bytes,
 *   keys included, least recently used out first) answers hot keys without it.
 */
import type { StoredAnswer } from "./answer.ts";
import { MemoryTier } from "./memory-tier.ts";

const PRODUCED_AT_HEADER = "X-Proxy-Produced-At";
const CURRENT_AT_HEADER = "X-Proxy-Current-At";
const EXPIRES_AT_HEADER = "X-Proxy-Expires-At";
// Stored with status 200 and the real one in a header: the Cache API need not keep 404s.
const STATUS_HEADER = "X-Proxy-Status";
const MEMORY_TIER_BYTES = 8 * 1024 * 1024;

interface MemoryEntry {
  answer: StoredAnswer;
  expiresAt: number;
}

/** The part of the Cache API the tier uses: `caches.default`, or a named cache standing for another data centre. */
export interface CacheStorageTier {
  match(key: string): Promise<Response | undefined>;
  put(key: string, response: Response): Promise<void>;
}

export class LocalTier {
  readonly #memory = new MemoryTier<MemoryEntry>(
    MEMORY_TIER_BYTES,
    (key, entry) => (key.length + entry.answer.body.length) * 2 + 200,
  );
  readonly #cache: CacheStorageTier | undefined;
  readonly #now: () => number;

  /** @param cache the Cache API tier behind memory; none keeps the tier in memory only (the simulation). */
  constructor(cache: CacheStorageTier | undefined, now: () => number) {
    this.#cache = cache;
    this.#now = now;
  }

  async lookup(key: string): Promise<StoredAnswer | undefined> {
    const inMemory = this.#memory.get(key);
    if (inMemory && inMemory.expiresAt > this.#now()) return inMemory.answer;
    const response = await this.#cache?.match(key);
    if (!response) return undefined;
    const producedAt = Number(response.headers.get(PRODUCED_AT_HEADER));
    const expiresAt = Number(response.headers.get(EXPIRES_AT_HEADER));
    const status = Number(response.headers.get(STATUS_HEADER));
    const etag = response.headers.get("ETag");
    if (!etag || !Number.isFinite(producedAt) || !Number.isFinite(expiresAt) || !status) return undefined;
    if (expiresAt <= this.#now()) return undefined;
    const answer: StoredAnswer = { status, body: await response.text(), etag, producedAt };
    const currentAt = Number(response.headers.get(CURRENT_AT_HEADER) ?? Number.NaN);
    if (Number.isFinite(currentAt)) answer.currentAt = currentAt;
    this.#memory.set(key, { answer, expiresAt });
    return answer;
  }

  /**
   * Keeps `answer` for `lifetimeSeconds` from now: in memory at once, in the Cache API
   * through the returned promise (give it to `waitUntil`).
   */
  store(key: string, answer: StoredAnswer, lifetimeSeconds: number): Promise<void> {
    if (lifetimeSeconds <= 0) return Promise.resolve();
    const expiresAt = this.#now() + lifetimeSeconds * 1000;
    this.#memory.set(key, { answer, expiresAt });
    if (!this.#cache) return Promise.resolve();
    const response = new Response(answer.body, {
      headers: {
        "Content-Type": "application/json",
        ETag: answer.etag,
        [STATUS_HEADER]: String(answer.status),
        [PRODUCED_AT_HEADER]: String(answer.producedAt),
        ...(answer.currentAt === undefined ? {} : { [CURRENT_AT_HEADER]: String(answer.currentAt) }),
        [EXPIRES_AT_HEADER]: String(expiresAt),
        "Cache-Control": `max-age=${lifetimeSeconds}`,
      },
    });
    return this.#cache.put(key, response);
  }
}
