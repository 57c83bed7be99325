/**
 * @module The shared tier as Durable Objects: one per cache key (named by the key), each
 * running SharedKey with the real upstream client and the deployment's budget gate. It
 * holds the token (a secret of its own env); what to ask comes with each request.
 * The copy lives in memory: an evicted object starts empty, and its next load is a
 * refresh all the same when the asking data centre still holds a copy.
 */
import { DurableObject } from "cloudflare:workers";
import { gateStub } from "../budget/gate-object.ts";
import { isolateDirectCalls } from "../budget/refusals.ts";
import { type GateRpc, type ObjectNamespace, type SharedCacheRpc, secretsOf } from "../config.ts";
import { ApiError } from "../errors.ts";
import { runtime } from "../runtime.ts";
import {
  type LoadDeps,
  loadThroughGate,
  SharedKey,
  type SharedRequest,
  type SharedResult,
  toFailure,
} from "./shared-key.ts";

export class SharedCacheObject extends DurableObject<Env> {
  readonly #key = new SharedKey(() => runtime.now());

  serve(request: SharedRequest): Promise<SharedResult> {
    const [token] = secretsOf(this.env);
    if (!token) {
      const failure = toFailure(new ApiError("misconfigured", "proxy misconfigured: CLOUDFLARE_API_TOKEN is required"));
      return Promise.resolve({ kind: "failure", failure });
    }
    const deps = loadDeps(token, this.env.BUDGET_GATE);
    return this.#key.serve(request, (demand, trace) => loadThroughGate(deps, request, demand, trace));
  }
}

/** What loading through the budget needs in this isolate: the token, the gate, the direct-call throttle. */
export function loadDeps(token: string, gate: ObjectNamespace<GateRpc>): LoadDeps {
  return { token, gate: gateStub(gate), throttle: isolateDirectCalls, now: () => runtime.now() };
}

export function sharedCacheStub(namespace: ObjectNamespace<SharedCacheRpc>, key: string): SharedCacheRpc {
  return namespace.get(namespace.idFromName(key));
}
