/**
 * @module The cache tiers of this data centre (this isolate), wired to the deployment's
 * Durable Objects: its local tier, the key objects of the shared tier, the budget gate.
 */
import { RefusalMemory } from "../budget/refusals.ts";
import type { Config } from "../config.ts";
import { logger } from "../observability/log.ts";
import { runtime } from "../runtime.ts";
import { newTrace } from "../upstream/client.ts";
import { demandFor } from "./answer.ts";
import { type CacheStorageTier, LocalTier } from "./local-tier.ts";
import { loadThroughGate, type SharedRequest, type SharedResult, toFailure } from "./shared-key.ts";
import { loadDeps, sharedCacheStub } from "./shared-object.ts";
import { TieredCache } from "./tiers.ts";

const now = () => runtime.now();

/** @param localCache this data centre's Cache API tier (`caches.default`; tests name others). */
export function dataCentreTiers(config: Config, localCache: CacheStorageTier): TieredCache {
  return new TieredCache({
    local: new LocalTier(localCache, now),
    askShared: (request) => sharedCacheStub(config.SHARED_CACHE, request.key).serve(request),
    whenSharedDown: loadWithoutSharedTier(config),
    windows: {
      staleWhileRevalidateSeconds: config.STALE_WHILE_REVALIDATE_SECONDS,
      staleIfErrorSeconds: config.STALE_IF_ERROR_SECONDS,
    },
    refusals: new RefusalMemory(),
    now,
  });
}

/**
 * When the key's shared object cannot be reached, the data centre loads by itself, still
 * through the budget gate (or, with the gate down too, one direct call a second).
 */
function loadWithoutSharedTier(config: Config) {
  const deps = loadDeps(config.CLOUDFLARE_API_TOKEN, config.BUDGET_GATE);
  return async function loadWithoutSharedTier(request: SharedRequest): Promise<SharedResult> {
    logger.write("error", {
      event: "shared_tier_unreachable",
      route: request.route,
      hint: "a shared cache Durable Object failed: this data centre calls the upstream itself, through the budget gate",
    });
    const trace = newTrace();
    try {
      const answer = await loadThroughGate(deps, request, demandFor(request.copyProducedAt, request, now()), trace);
      return { kind: "answer", answer, fetched: true, trace };
    } catch (error) {
      return { kind: "failure", failure: toFailure(error), trace };
    }
  };
}
