/**
 * @module The shared tier as Durable Objects: one per cache key (named by the key), each
 * running SharedKey with the real upstream loading and the deployment's budget gate. It
 * holds the token (a secret of its own env); what to ask comes with each request.
 * The copy lives in memory: an evicted object starts empty, and its next load is a
 * refresh all the same when the asking data centre still knows an answer.
 */
import { DurableObject } from "cloudflare:workers";
import { toStoredAnswer } from "../cache/answer.ts";
import { SharedKey, type SharedRequest, type SharedResult } from "../cache/shared-key.ts";
import { secretsOf } from "../config.ts";
import { ApiError, toFailure } from "../errors.ts";
import { runtime } from "../runtime.ts";
import { upstreamAccess } from "../upstream/access.ts";
import { loadThroughGate } from "../upstream/load.ts";

/** Storage key of when the newest answer was produced: a key once answered is never cold again, even after eviction. */
const KNOWN_PRODUCED_AT = "known-produced-at";

export class SharedCacheObject extends DurableObject<Env> {
  readonly #key: SharedKey;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#key = new SharedKey(() => runtime.now(), ctx.storage.kv.get<number>(KNOWN_PRODUCED_AT));
  }

  async answer(request: SharedRequest): Promise<SharedResult> {
    const [token] = secretsOf(this.env);
    if (!token) {
      const failure = toFailure(new ApiError("misconfigured", "proxy misconfigured: CLOUDFLARE_API_TOKEN is required"));
      return { kind: "failure", failure };
    }
    const access = upstreamAccess(token, this.env.BUDGET_GATE);
    const knownBefore = this.#key.knownProducedAt;
    const result = await this.#key.answer(request, async (demand, trace) =>
      toStoredAnswer(await loadThroughGate(access, request, demand, trace)),
    );
    const known = this.#key.knownProducedAt;
    if (known !== undefined && known !== knownBefore) this.ctx.storage.kv.put(KNOWN_PRODUCED_AT, known);
    return result;
  }
}

export function sharedCacheStub(namespace: Env["SHARED_CACHE"], key: string) {
  return namespace.get(namespace.idFromName(key));
}
