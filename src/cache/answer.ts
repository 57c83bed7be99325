/**
 * @module What every cache tier stores and how old it may be: the stored answer, its
 * freshness, the canonical key, and the coalescer that shares one load between callers.
 */

import type { Demand } from "../budget/gate.ts";
import { sha256Hex } from "../digest.ts";
import type { LoadedAnswer } from "../upstream/load.ts";

/** Bump to orphan every stored entry when the stored format changes. */
const CACHE_KEY_VERSION = "v2";
const CACHE_KEY_ORIGIN = "https://cache.realtimekit-proxy.internal";

/**
 * An upstream answer as stored and served: a 200 success envelope, or a 404 (its
 * message kept) for negative caching. `producedAt` is when the upstream produced it:
 * it travels through every tier, so `Age` is honest and no tier makes it older.
 */
export interface StoredAnswer {
  /** The upstream's 2xx status, or 404. */
  status: number;
  /** The success envelope as sent, or the upstream's 404 message. */
  body: string;
  etag: string;
  producedAt: number;
  /**
   * When the shared tier last vouched that the answer is still current (webhooks tell it
   * of every change). Freshness counts from here; `Age` still counts from `producedAt`.
   */
  currentAt?: number;
}

export interface FreshnessPolicy {
  ttlSeconds: number;
  staleWhileRevalidateSeconds: number;
  staleIfErrorSeconds: number;
}

export type Freshness = "fresh" | "stale-while-revalidate" | "stale-if-error" | "expired";

/** Seconds since the upstream produced the answer: its `Age`. */
export function ageSeconds(answer: StoredAnswer, now: number): number {
  return Math.max(0, (now - answer.producedAt) / 1000);
}

/** Seconds since the answer was last known current: produced, or vouched for by the shared tier. */
export function sinceCurrentSeconds(answer: StoredAnswer, now: number): number {
  return Math.max(0, (now - Math.max(answer.producedAt, answer.currentAt ?? Number.NEGATIVE_INFINITY)) / 1000);
}

/**
 * A vouched (pushed) answer is never served stale while it revalidates: renewing it asks
 * the shared tier, not the upstream, and serving it stale would show an old state past
 * the local TTL after a change.
 */
function revalidationWindow(answer: StoredAnswer, policy: FreshnessPolicy): number {
  return answer.currentAt === undefined ? policy.staleWhileRevalidateSeconds : 0;
}

/**
 * Where an answer stands: a stored 404 ("no live session") follows exactly the rules of a
 * stored 200, so a caller told "no live session" a moment ago never gets a 503 instead.
 */
export function freshness(answer: StoredAnswer, policy: FreshnessPolicy, now: number): Freshness {
  const age = sinceCurrentSeconds(answer, now);
  if (age < policy.ttlSeconds) return "fresh";
  if (age < policy.ttlSeconds + revalidationWindow(answer, policy)) return "stale-while-revalidate";
  if (age < policy.ttlSeconds + policy.staleIfErrorSeconds) return "stale-if-error";
  return "expired";
}

/** Seconds a tier may keep the answer: what is left of its freshness and of the stale windows. */
export function lifetimeLeftSeconds(answer: StoredAnswer, policy: FreshnessPolicy, now: number): number {
  const staleWindows = Math.max(revalidationWindow(answer, policy), policy.staleIfErrorSeconds);
  return Math.floor(policy.ttlSeconds + staleWindows - sinceCurrentSeconds(answer, now));
}

/**
 * The share of the stale-if-error window after which a refresh is as urgent as any: when
 * permits are scarce they reach an answer while a fifth of its window is left, not at the
 * moment it would expire, when one lost race means an error for its callers.
 */
const URGENT_AT_SHARE_OF_STALE_WINDOW = 0.8;

/**
 * What loading a key asks of the budget: cold when no answer is known, else a refresh as
 * urgent as the newest answer is old, measured against the time it may be served at all
 * (less a margin, see above).
 */
export function demandFor(
  producedAt: number | undefined,
  policy: Pick<FreshnessPolicy, "ttlSeconds" | "staleIfErrorSeconds">,
  now: number,
): Demand {
  if (producedAt === undefined) return { priority: "cold", urgency: 0 };
  const urgentAfter = Math.max(1, policy.ttlSeconds + policy.staleIfErrorSeconds * URGENT_AT_SHARE_OF_STALE_WINDOW);
  return { priority: "refresh", urgency: Math.min(1, Math.max(0, (now - producedAt) / 1000 / urgentAfter)) };
}

export interface CacheKeyParts {
  account: string;
  app: string;
  /** What answers the key: a route's name, or an index's. */
  name: string;
  /** The upstream path below the app, e.g. `/sessions`. */
  path: string;
  /** The canonical (sorted, normalised, encoded) query. */
  query: string;
}

/** Equivalent queries share one key: the query is already canonical; name, account and app scope it. */
export function cacheKey(parts: CacheKeyParts): string {
  return `${cacheKeyPrefix(parts)}${parts.query}`;
}

/** What every cache key of one route and path begins with, whatever its query. */
export function cacheKeyPrefix({ account, app, name, path }: Omit<CacheKeyParts, "query">): string {
  return `${CACHE_KEY_ORIGIN}/${CACHE_KEY_VERSION}/${account}/${app}/${name}${path}?`;
}

/** A strong validator: the first 128 bits of the body's SHA-256. */
async function strongEtag(body: string): Promise<string> {
  return `"${(await sha256Hex(body)).slice(0, 32)}"`;
}

export async function toStoredAnswer({ status, body, producedAt }: LoadedAnswer): Promise<StoredAnswer> {
  return { status, body, etag: await strongEtag(body), producedAt };
}

/** Only 200 successes and 404s are kept: any other answer is passed on once and forgotten. */
export function isStorable(answer: StoredAnswer): boolean {
  return answer.status === 200 || answer.status === 404;
}

/** Concurrent calls with one key share one run of `load`; its outcome reaches every caller. */
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
