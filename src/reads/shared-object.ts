/**
 * @module The shared tier as Durable Objects: one per cache key (named by the key), each
 * running SharedKey with the real upstream loading, the deployment's budget gate and the
 * change feed. It holds the token (a secret of its own env); what to ask comes with each
 * request. The copy lives in memory: an evicted object starts empty, and its next load is
 * a refresh all the same when the asking data centre still knows an answer.
 */
import { DurableObject } from "cloudflare:workers";
import type { KeyNotice } from "../cache/changes.ts";
import { type KeyLoaders, SharedKey, type SharedRequest, type SharedResult } from "../cache/shared-key.ts";
import { secretsOf } from "../config.ts";
import { ApiError, toFailure } from "../errors.ts";
import { runtime } from "../runtime.ts";
import { upstreamAccess } from "../upstream/access.ts";
import { changeFeedStub } from "./change-feed-object.ts";
import { keyLoaders } from "./key-loaders.ts";

/** Storage key of when the newest answer was produced: a key once answered is never cold again, even after eviction. */
const KNOWN_PRODUCED_AT = "known-produced-at";

export class SharedCacheObject extends DurableObject<Env> {
  readonly #key: SharedKey;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#key = new SharedKey({
      now: () => runtime.now(),
      knownProducedAt: ctx.storage.kv.get<number>(KNOWN_PRODUCED_AT),
      register: (key, scope) => changeFeedStub(env.CHANGE_FEED).register(key, scope),
    });
  }

  async answer(request: SharedRequest): Promise<SharedResult> {
    const loaders = this.#loaders();
    if (!loaders) {
      const failure = toFailure(new ApiError("misconfigured", "proxy misconfigured: CLOUDFLARE_API_TOKEN is required"));
      return { kind: "failure", failure };
    }
    return this.#remembering(() => this.#key.answer(request, loaders));
  }

  /** A change concerning this key (from the change feed): renew, patch or drop. */
  async notice(notice: KeyNotice): Promise<void> {
    const loaders = this.#loaders();
    if (loaders) await this.#remembering(() => this.#key.notice(notice, loaders));
  }

  #loaders(): KeyLoaders | undefined {
    const [token] = secretsOf(this.env);
    return token ? keyLoaders(upstreamAccess(token, this.env.BUDGET_GATE)) : undefined;
  }

  /** Runs `work`, then keeps the newest production time in storage if it changed. */
  async #remembering<T>(work: () => Promise<T>): Promise<T> {
    const knownBefore = this.#key.knownProducedAt;
    const result = await work();
    const known = this.#key.knownProducedAt;
    if (known !== undefined && known !== knownBefore) this.ctx.storage.kv.put(KNOWN_PRODUCED_AT, known);
    return result;
  }
}

export function sharedCacheStub(namespace: Env["SHARED_CACHE"], key: string) {
  return namespace.get(namespace.idFromName(key));
}
