/**
 * @module The shared tier as Durable Objects: one per cache key (named by the key), each
 * running SharedKey with the real upstream loading, the deployment's budget gate and the
 * change feed. It holds the token (a secret of its own env); what to ask comes with each
 * request. The copy lives in memory: an evicted object starts empty, and its next load is
 * a refresh all the same when the asking data centre still knows an answer. Data centres
 * reach it as `env.SHARED_CACHE.getByName(cacheKey)`.
 */
import { DurableObject } from "cloudflare:workers";
import type { EntryNotice } from "../changes/feed.ts";
import { CHANGE_FEED_NAME } from "../changes/feed-object.ts";
import { secretsOf } from "../config.ts";
import { ApiError, toFailure } from "../errors.ts";
import { runtime } from "../runtime.ts";
import { upstreamGateway } from "../upstream/gateway.ts";
import { entryLoaders } from "./loaders.ts";
import { type EntryLoaders, SharedKey, type SharedRequest, type SharedResult } from "./shared-key.ts";

/** Storage key of when the newest answer was produced: an entry once answered is never cold again, even after eviction. */
const STORED_KNOWN_PRODUCED_AT = "known-produced-at";

export class SharedCacheObject extends DurableObject<Env> {
  readonly #entry: SharedKey;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#entry = new SharedKey({
      now: () => runtime.now(),
      knownProducedAt: ctx.storage.kv.get<number>(STORED_KNOWN_PRODUCED_AT),
      register: (cacheKey, coverage) => env.CHANGE_FEED.getByName(CHANGE_FEED_NAME).register(cacheKey, coverage),
    });
  }

  async answer(request: SharedRequest): Promise<SharedResult> {
    const loaders = this.#loaders();
    if (!loaders) {
      const failure = toFailure(new ApiError("misconfigured", "proxy misconfigured: CLOUDFLARE_API_TOKEN is required"));
      return { kind: "failure", failure };
    }
    return this.#remembering(() => this.#entry.answer(request, loaders));
  }

  /** A change concerning this entry (from the change feed): renew, patch or drop. */
  async notice(notice: EntryNotice): Promise<void> {
    const loaders = this.#loaders();
    if (loaders) await this.#remembering(() => this.#entry.notice(notice, loaders));
  }

  #loaders(): EntryLoaders | undefined {
    const [token] = secretsOf(this.env);
    return token ? entryLoaders(upstreamGateway(token, this.env.BUDGET_GATE)) : undefined;
  }

  /** Runs `work`, then keeps the newest production time in storage if it changed. */
  async #remembering<T>(work: () => Promise<T>): Promise<T> {
    const knownBefore = this.#entry.knownProducedAt;
    const result = await work();
    const known = this.#entry.knownProducedAt;
    if (known !== undefined && known !== knownBefore) this.ctx.storage.kv.put(STORED_KNOWN_PRODUCED_AT, known);
    return result;
  }
}
