/**
 * @module The shared tier's logic for one cache key, run by one Durable Object per key
 * (shared-object.ts) and by `npm run sim`: it answers every data centre from its copy
 * while fresh, else makes the one upstream call for all of them and answers every
 * waiter with it. Pure: the clock and the loading are injected.
 */
import type { Demand } from "../budget/gate.ts";
import { type GateClient, gatePermits } from "../budget/permits.ts";
import type { DirectCallThrottle } from "../budget/refusals.ts";
import { isAllowedBaseUrl } from "../config.ts";
import { ApiError, type ErrorKind } from "../errors.ts";
import type { UpstreamRequest } from "../routes/table.ts";
import { createUpstreamClient, type UpstreamSettings, type UpstreamTrace } from "../upstream/client.ts";
import { demandFor, freshness, isStorable, type StoredAnswer, toStoredAnswer } from "./answer.ts";
import { getEveryPage } from "./live-index.ts";

/** What a data centre asks the key's object. Plain data: it crosses an RPC boundary. */
export interface SharedRequest {
  key: string;
  route: string;
  upstream: UpstreamRequest;
  ttlSeconds: number;
  /** Who caused the call, for their share of the budget: `key:<id>` or `ip:<address>`. */
  caller: string;
  /** When the asking data centre's usable copy was produced: renewing it is a refresh, not a cold miss. */
  copyProducedAt: number | undefined;
  /** How long past its TTL an answer may still be served (it measures a refresh's urgency). */
  staleIfErrorSeconds: number;
  /** Which upstream to ask and how, from the deployment's config (the object holds only the token). */
  settings: UpstreamSettings;
}

/** An ApiError as plain data. */
export interface Failure {
  kind: ErrorKind;
  message: string;
  status: number;
  retryAfter?: number;
}

export type SharedResult =
  | { kind: "answer"; answer: StoredAnswer; fetched: boolean; trace?: UpstreamTrace }
  /** `copy`: the object's own last answer, which the data centre may serve stale. */
  | { kind: "failure"; failure: Failure; copy?: StoredAnswer; trace?: UpstreamTrace };

/** Loads the key's answer from the upstream (its permits asked for as `demand`); throws ApiError. */
export type LoadAnswer = (demand: Demand, trace: UpstreamTrace) => Promise<StoredAnswer>;

export function toFailure(error: unknown): Failure {
  const apiError = error instanceof ApiError ? error : new ApiError("internal", "internal error");
  return { kind: apiError.kind, message: apiError.message, status: apiError.status, retryAfter: apiError.retryAfter };
}

export function fromFailure(failure: Failure, headers: Record<string, string> = {}): ApiError {
  return new ApiError(failure.kind, failure.message, {
    status: failure.status as ApiError["status"],
    retryAfter: failure.retryAfter,
    headers,
  });
}

export class SharedKey {
  readonly #now: () => number;
  #copy: StoredAnswer | undefined;
  #inFlight: Promise<SharedResult> | undefined;
  /** Since when callers have asked for this key without an answer (its cold urgency). */
  #askedSince: number | undefined;

  constructor(now: () => number) {
    this.#now = now;
  }

  serve(request: SharedRequest, load: LoadAnswer): Promise<SharedResult> {
    const copy = this.#copy;
    const policy = { ttlSeconds: request.ttlSeconds, staleWhileRevalidateSeconds: 0, staleIfErrorSeconds: 0 };
    if (copy && freshness(copy, policy, this.#now()) === "fresh") {
      return Promise.resolve({ kind: "answer", answer: copy, fetched: false });
    }
    this.#inFlight ??= this.#load(request, load).finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #load(request: SharedRequest, load: LoadAnswer): Promise<SharedResult> {
    const newest = Math.max(
      request.copyProducedAt ?? Number.NEGATIVE_INFINITY,
      this.#copy?.producedAt ?? Number.NEGATIVE_INFINITY,
    );
    const now = this.#now();
    this.#askedSince ??= now;
    const demand = Number.isFinite(newest)
      ? demandFor(newest, request, now)
      : { priority: "cold" as const, urgency: demandFor(this.#askedSince, request, now).urgency };
    const trace: UpstreamTrace = { attempts: 0, durationMs: 0 };
    try {
      const answer = await load(demand, trace);
      if (request.ttlSeconds > 0 && isStorable(answer)) this.#copy = answer;
      this.#askedSince = undefined;
      return { kind: "answer", answer, fetched: true, trace };
    } catch (error) {
      return { kind: "failure", failure: toFailure(error), copy: this.#copy, trace };
    }
  }
}

export interface LoadDeps {
  token: string;
  gate: GateClient;
  /** Direct calls while the gate is unreachable, one a second per isolate. */
  throttle: DirectCallThrottle;
  now: () => number;
}

/**
 * Loads the answer `request` describes from the upstream, every attempt paid for by a
 * permit asked for as `demand`; a 404 is kept as an answer (negative caching). Throws ApiError.
 */
export async function loadThroughGate(
  deps: LoadDeps,
  request: SharedRequest,
  demand: Demand,
  trace: UpstreamTrace,
): Promise<StoredAnswer> {
  const { settings } = request;
  // Defence in depth: the token goes only where a validated config may point it.
  if (!isAllowedBaseUrl(settings.CLOUDFLARE_API_BASE_URL)) {
    throw new ApiError("misconfigured", "proxy misconfigured: CLOUDFLARE_API_BASE_URL is not an allowed upstream");
  }
  const upstream = createUpstreamClient(settings, deps.token);
  const permitsAt = (asked: Demand) =>
    gatePermits({
      gate: deps.gate,
      request: {
        ...asked,
        caller: request.caller,
        route: request.route,
        budget: settings.UPSTREAM_BUDGET,
        callerBudget: settings.CALLER_MISS_BUDGET,
      },
      hasCopy: asked.priority === "refresh",
      throttle: deps.throttle,
      now: deps.now,
    });
  const firstPage = permitsAt(demand);
  // Once a load has begun, its further pages are paid for at once: were they refused,
  // the pages already fetched would be permits spent for nothing.
  const laterPages = permitsAt({ ...demand, urgency: 1 });
  const { everyPage } = request.upstream;
  const get = (page: UpstreamRequest, pageNo = 1) => upstream.get(page, trace, pageNo === 1 ? firstPage : laterPages);
  try {
    const success = everyPage
      ? await getEveryPage({ ...request.upstream, everyPage }, get)
      : await get(request.upstream);
    return await toStoredAnswer(success, deps.now());
  } catch (error) {
    if (error instanceof ApiError && error.kind === "not_found") {
      return toStoredAnswer({ status: 404, body: error.message }, deps.now());
    }
    throw error;
  }
}
