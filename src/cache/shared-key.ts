/**
 * @module The shared tier's logic for one cache key, run by one Durable Object per key
 * and by `npm run sim`: it answers every data centre from its copy while fresh, else
 * makes the one load for all of them and answers every waiter with it. Pure: the clock
 * and the loading are injected.
 */
import type { Demand } from "../budget/gate.ts";
import { ApiError, type Failure, toFailure } from "../errors.ts";
import { runtime } from "../runtime.ts";
import type { UpstreamTrace } from "../upstream/http.ts";
import type { LoadRequest } from "../upstream/load.ts";
import { demandFor, freshness, isStorable, type StoredAnswer } from "./answer.ts";

/** What a data centre asks the key's object. Plain data: it crosses an RPC boundary. */
export interface SharedRequest extends LoadRequest {
  key: string;
  ttlSeconds: number;
  /** When the newest answer the asking data centre knows was produced: renewing it is a refresh, not a cold miss. */
  knownProducedAt: number | undefined;
  /** How long past its TTL an answer may still be served (it measures a refresh's urgency). */
  staleIfErrorSeconds: number;
  /** How long a caller who could be given a stored answer waits for a slow upstream. */
  staleIfSlowMs: number;
}

export type SharedResult =
  | { kind: "answer"; answer: StoredAnswer; fetched: boolean; trace?: UpstreamTrace }
  /** `copy`: the object's own last answer, which the data centre may serve stale. */
  | { kind: "failure"; failure: Failure; copy?: StoredAnswer; trace?: UpstreamTrace };

/** Loads the key's answer (its permits asked for as `demand`); throws ApiError. */
export type LoadAnswer = (demand: Demand, trace: UpstreamTrace) => Promise<StoredAnswer>;

/** What a caller who could be given a stored answer gets while the upstream is still working on it. */
export function slowError(): ApiError {
  return new ApiError("upstream_slow", "upstream is slow to answer; a stored answer is served while it loads");
}

export class SharedKey {
  readonly #now: () => number;
  #copy: StoredAnswer | undefined;
  /** When the newest answer this key ever had was produced (kept by the object across evictions). */
  #knownProducedAt: number | undefined;
  #inFlight: Promise<SharedResult> | undefined;
  /** Since when callers have asked for this key without an answer (its cold urgency). */
  #askedSince: number | undefined;

  constructor(now: () => number, knownProducedAt?: number) {
    this.#now = now;
    this.#knownProducedAt = knownProducedAt;
  }

  /** When the newest answer this key has had was produced: a key once answered is never cold again. */
  get knownProducedAt(): number | undefined {
    return this.#knownProducedAt;
  }

  /**
   * The copy while fresh, else the result of the one load every waiter shares; when the
   * copy may still be served stale and the load is slow, a slow failure with the copy.
   */
  async answer(request: SharedRequest, load: LoadAnswer): Promise<SharedResult> {
    const copy = this.#copy;
    const policy = {
      ttlSeconds: request.ttlSeconds,
      staleWhileRevalidateSeconds: 0,
      staleIfErrorSeconds: request.staleIfErrorSeconds,
    };
    const state = copy ? freshness(copy, policy, this.#now()) : "expired";
    if (copy && state === "fresh") return { kind: "answer", answer: copy, fetched: false };
    this.#inFlight ??= this.#load(request, load).finally(() => {
      this.#inFlight = undefined;
    });
    if (!copy || state === "expired") return this.#inFlight;
    const within = await runtime.within(this.#inFlight, request.staleIfSlowMs);
    return within.settled ? within.value : { kind: "failure", failure: toFailure(slowError()), copy };
  }

  async #load(request: SharedRequest, load: LoadAnswer): Promise<SharedResult> {
    const newest = Math.max(
      request.knownProducedAt ?? Number.NEGATIVE_INFINITY,
      this.#knownProducedAt ?? Number.NEGATIVE_INFINITY,
    );
    const now = this.#now();
    this.#askedSince ??= now;
    const demand = Number.isFinite(newest)
      ? demandFor(newest, request, now)
      : { priority: "cold" as const, urgency: demandFor(this.#askedSince, request, now).urgency };
    const trace: UpstreamTrace = { attempts: 0, durationMs: 0 };
    try {
      const answer = await load(demand, trace);
      if (isStorable(answer)) {
        if (request.ttlSeconds > 0) this.#copy = answer;
        this.#knownProducedAt = Math.max(answer.producedAt, this.#knownProducedAt ?? Number.NEGATIVE_INFINITY);
      }
      this.#askedSince = undefined;
      return { kind: "answer", answer, fetched: true, trace };
    } catch (error) {
      return { kind: "failure", failure: toFailure(error), copy: this.#copy, trace };
    }
  }
}
