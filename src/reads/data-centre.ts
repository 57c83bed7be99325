/**
 * @module The cache tiers of this data centre (this isolate), wired to the deployment's
 * Durable Objects: its local tier, the entries' objects of the shared tier, the budget gate.
 */
import { RefusalMemory } from "../budget/refusals.ts";
import { demandFor } from "../cache/answer.ts";
import { type CacheStorageTier, LocalTier } from "../cache/local-tier.ts";
import { entryLoaders } from "../cache-objects/loaders.ts";
import type { SharedRequest, SharedResult } from "../cache-objects/shared-key.ts";
import type { MeetingChange } from "../changes/feed.ts";
import { CHANGE_FEED_NAME } from "../changes/feed-object.ts";
import type { Config } from "../config.ts";
import { toFailure } from "../errors.ts";
import { logger } from "../log.ts";
import { runtime } from "../runtime.ts";
import { upstreamGateway } from "../upstream/gateway.ts";
import { newTrace } from "../upstream/http.ts";
import { PushedFreshness } from "./pushed.ts";
import { TieredCache } from "./tiers.ts";

const now = () => runtime.now();

/** The Durable Object namespaces a data centre's tiers use. */
export type ReadBindings = Pick<Env, "BUDGET_GATE" | "SHARED_CACHE" | "CHANGE_FEED">;

/** Whether webhooks are arriving, as this data centre sees it; undefined when webhooks are not configured. */
export function pushedFreshness(config: Config, bindings: ReadBindings): PushedFreshness | undefined {
  if (!config.REALTIMEKIT_WEBHOOK_PUBLIC_KEY) return undefined;
  return new PushedFreshness({
    pushedTtlSeconds: config.PUSHED_TTL_SECONDS,
    lastChangeAt: async () => (await bindings.CHANGE_FEED.getByName(CHANGE_FEED_NAME).lastChangeAt()) ?? undefined,
    now,
  });
}

/** Tells the change feed of an accepted change, and every entry it concerns what to do. */
export function changeAnnouncer(bindings: ReadBindings) {
  return async function announce(change: MeetingChange): Promise<void> {
    const notices = await bindings.CHANGE_FEED.getByName(CHANGE_FEED_NAME).changed(change);
    await Promise.all(notices.map((notice) => bindings.SHARED_CACHE.getByName(notice.cacheKey).notice(notice)));
  };
}

/** @param localCache this data centre's Cache API tier (`caches.default`; tests name others). */
export function dataCentreTiers(config: Config, bindings: ReadBindings, localCache: CacheStorageTier): TieredCache {
  return new TieredCache({
    local: new LocalTier(localCache, now),
    askShared: (request) => bindings.SHARED_CACHE.getByName(request.cacheKey).answer(request),
    whenSharedDown: loadWithoutSharedTier(config, bindings),
    windows: {
      staleWhileRevalidateSeconds: config.STALE_WHILE_REVALIDATE_SECONDS,
      staleIfErrorSeconds: config.STALE_IF_ERROR_SECONDS,
      staleIfSlowMs: config.STALE_IF_SLOW_MS,
    },
    refusals: new RefusalMemory(),
    now,
  });
}

/**
 * When the key's shared object cannot be reached, the data centre loads by itself, still
 * through the budget gate (or, with the gate down too, one direct call a second).
 */
function loadWithoutSharedTier(config: Config, bindings: ReadBindings) {
  return async function loadWithoutSharedTier(request: SharedRequest): Promise<SharedResult> {
    // Made per request: a Durable Object stub must not outlive the request that made it.
    const gateway = upstreamGateway(config.CLOUDFLARE_API_TOKEN, bindings.BUDGET_GATE);
    logger.write("error", {
      event: "shared_tier_unreachable",
      route: request.label,
      hint: "a shared cache Durable Object failed: this data centre calls the upstream itself, through the budget gate",
    });
    const trace = newTrace();
    try {
      const demand = demandFor(request.knownProducedAt, request, now());
      const answer = await entryLoaders(gateway).load(request, demand, trace);
      return { kind: "answer", answer, fetched: true, trace };
    } catch (error) {
      return { kind: "failure", failure: toFailure(error), trace };
    }
  };
}
