/**
 * @module How one data centre answers a read from the two tiers: its local tier while
 * fresh (no Durable Object touched), its stale copy while a background refresh runs,
 * else the key's shared object, which makes the one upstream call for every data
 * centre. Stored answers (404s as much as 200s) cover upstream failures, a slow
 * upstream and budget refusals within the stale-if-error window. Pure: tiers and clock
 * are injected, so the Worker and `npm run sim` run this same code.
 */
import type { RefusalReason } from "../budget/gate.ts";
import { type RefusalMemory, refusalError, refusalReasonOf } from "../budget/refusals.ts";
import {
  ageSeconds,
  Coalescer,
  demandFor,
  type FreshnessPolicy,
  freshness,
  isStorable,
  lifetimeLeftSeconds,
  type StoredAnswer,
  sinceCurrentSeconds,
} from "../cache/answer.ts";
import type { LocalTier } from "../cache/local-tier.ts";
import { MemoryTier } from "../cache/memory-tier.ts";
import { type SharedRequest, type SharedResult, slowError } from "../cache-objects/shared-key.ts";
import { errorSpec, type Failure, fromFailure, toFailure } from "../errors.ts";
import { logger } from "../log.ts";
import { runtime } from "../runtime.ts";
import type { UpstreamTrace } from "../upstream/http.ts";

/** Cache keys this isolate has had answers for, and when the newest was produced: bytes, keys included. */
const KNOWN_KEYS_BYTES = 1024 * 1024;

/** The prefixes remembered for forgetting copies: the least recently written go first (their copies have long expired by then). */
const MAX_FORGETS = 1_000;

/** The shared tier as a data centre reaches it; a rejection means it could not be reached. */
export type AskSharedTier = (request: SharedRequest) => Promise<SharedResult>;

/** What a data centre asks for: the shared request without what the tiers add. */
export type TierRequest = Omit<SharedRequest, "knownProducedAt" | "staleIfErrorSeconds" | "staleIfSlowMs">;

export interface CacheOutcome {
  answer: StoredAnswer;
  /** RFC 9211 `Cache-Status` parameters after the cache's name. */
  cacheStatus: string;
  ageSeconds: number;
  freshSecondsLeft: number;
}

export interface StaleWindows extends Omit<FreshnessPolicy, "ttlSeconds"> {
  /** How long a caller who could be given a stored answer waits for a slow upstream. */
  staleIfSlowMs: number;
}

export interface TieredCacheOptions {
  local: LocalTier;
  askShared: AskSharedTier;
  /** Called when the shared tier cannot be reached (the data centre then loads by itself, throttled). */
  whenSharedDown: AskSharedTier;
  windows: StaleWindows;
  refusals: RefusalMemory;
  now: () => number;
}

export class TieredCache {
  readonly #options: TieredCacheOptions;
  readonly #asking = new Coalescer<SharedResult>();
  /**
   * When the newest answer for each key was produced, kept after the answer itself has
   * gone: a key callers have been answered for is renewed as a refresh, never again as
   * a cold miss, so a flood of new ids cannot outbid it.
   */
  readonly #known = new MemoryTier<number>(KNOWN_KEYS_BYTES, (key) => key.length * 2 + 16);
  /**
   * What writes through the proxy made outdated here, by cache key prefix, and when: copies
   * produced before then are not used. One entry a prefix (every create drops the same
   * lists), the most recent write last.
   */
  readonly #forgets = new Map<string, number>();

  constructor(options: TieredCacheOptions) {
    this.#options = options;
  }

  /**
   * The outcome to send for `request`, or throws the ApiError to send when nothing can be
   * served. What an upstream call made for this request did is copied into `trace`.
   */
  async answer(
    request: TierRequest,
    trace: UpstreamTrace,
    waitUntil: (promise: Promise<unknown>) => void,
  ): Promise<CacheOutcome> {
    const { local, now, windows } = this.#options;
    const policy = { ...windows, ttlSeconds: request.ttlSeconds };
    const asking = {
      ...request,
      staleIfErrorSeconds: windows.staleIfErrorSeconds,
      staleIfSlowMs: windows.staleIfSlowMs,
    };
    const stored = request.ttlSeconds > 0 ? await local.lookup(request.cacheKey) : undefined;
    const copy = stored && !this.#forgotten(request.cacheKey, stored) ? stored : undefined;
    const state = copy ? freshness(copy, policy, now()) : "expired";
    if (copy && state !== "expired") this.#know(request.cacheKey, copy);
    if (copy && state === "fresh") return this.#outcome(copy, policy, "hit");
    if (copy && state === "stale-while-revalidate") {
      const refresh = { ...asking, knownProducedAt: copy.producedAt };
      waitUntil(this.#ask(refresh, policy, waitUntil).then(logBackgroundFailure));
      return this.#outcome(copy, policy, "hit", "stale-while-revalidate");
    }
    const usableCopy = state === "stale-if-error" ? copy : undefined;
    const knownProducedAt = usableCopy?.producedAt ?? this.#known.get(request.cacheKey);
    const asked = this.#ask({ ...asking, knownProducedAt }, policy, waitUntil);
    const result = await this.#waitUnlessSlow(asked, usableCopy, windows.staleIfSlowMs, waitUntil);
    Object.assign(trace, result.trace);
    if (result.kind === "answer") {
      const { answer, fetched } = result;
      if (!fetched) return this.#outcome(answer, policy, "hit", "shared");
      const forwarded = usableCopy ? "fwd=stale" : "fwd=miss";
      const stored = request.ttlSeconds > 0 && isStorable(answer);
      return this.#outcome(answer, policy, stored ? `${forwarded}; stored` : forwarded);
    }
    return this.#coverFailure(result.failure, [usableCopy, result.copy], policy);
  }

  /**
   * The shared tier's result; but when a stored answer could be served and the upstream is
   * slow, a slow failure after `slowMs` (the load goes on, and its answer serves the next caller).
   */
  async #waitUnlessSlow(
    asked: Promise<SharedResult>,
    usableCopy: StoredAnswer | undefined,
    slowMs: number,
    waitUntil: (promise: Promise<unknown>) => void,
  ): Promise<SharedResult> {
    if (!usableCopy) return asked;
    const within = await runtime.within(asked, slowMs);
    if (within.settled) return within.value;
    waitUntil(asked.then(logBackgroundFailure));
    return { kind: "failure", failure: toFailure(slowError()) };
  }

  /** Asks the shared tier (one question per key at a time) and keeps a successful answer locally. */
  #ask(request: SharedRequest, policy: FreshnessPolicy, waitUntil: (promise: Promise<unknown>) => void) {
    return this.#asking.run(request.cacheKey, async () => {
      const { refusals, now, local } = this.#options;
      const demand = demandFor(request.knownProducedAt, request, now());
      const remembered = refusals.recall(demand, request.quotaKey, now());
      if (remembered) return refusedLocally(remembered.reason, remembered.untilMs - now());
      const askedAt = now();
      const result = await this.#options.askShared(request).catch(() => this.#options.whenSharedDown(request));
      result.trace = { attempts: 0, durationMs: 0, ...result.trace, sharedMs: now() - askedAt };
      if (result.kind === "failure") {
        const reason = refusalReasonOf(result.failure.kind);
        const waitMs = (result.failure.retryAfter ?? 1) * 1000;
        if (reason) refusals.remember(demand, request.quotaKey, { reason, untilMs: now() + waitMs });
        // The shared tier's stale copy, newer than ours: keep it, so that this data centre
        // can serve it (and ask for a refresh, not a cold miss) while refusals are remembered.
        const { copy } = result;
        if (copy && copy.producedAt > (request.knownProducedAt ?? 0) && isStorable(copy)) {
          this.#know(request.cacheKey, copy);
          waitUntil(local.store(request.cacheKey, copy, lifetimeLeftSeconds(copy, policy, now())));
        }
        return result;
      }
      if (isStorable(result.answer)) this.#know(request.cacheKey, result.answer);
      const lifetime = lifetimeLeftSeconds(result.answer, policy, now());
      if (request.ttlSeconds > 0 && isStorable(result.answer) && freshness(result.answer, policy, now()) === "fresh") {
        waitUntil(local.store(request.cacheKey, result.answer, lifetime));
      }
      return result;
    });
  }

  /**
   * From now on this isolate uses no copy (in memory or the data centre's cache) of an
   * entry whose cache key begins with `prefix`, made before now: a write through the proxy
   * changed what it shows, so the next read here asks the shared tier, which the write told
   * too. Other isolates' copies live out their (short) TTL.
   */
  forget(prefix: string): void {
    this.#forgets.delete(prefix);
    this.#forgets.set(prefix, this.#options.now());
    const oldest = this.#forgets.keys().next();
    if (this.#forgets.size > MAX_FORGETS && !oldest.done) this.#forgets.delete(oldest.value);
  }

  #forgotten(cacheKey: string, copy: StoredAnswer): boolean {
    for (const [prefix, at] of this.#forgets) if (copy.producedAt <= at && cacheKey.startsWith(prefix)) return true;
    return false;
  }

  #know(key: string, answer: StoredAnswer): void {
    if ((this.#known.get(key) ?? Number.NEGATIVE_INFINITY) < answer.producedAt) this.#known.set(key, answer.producedAt);
  }

  /** A stored answer within the stale-if-error window covers failures and refusals; else the failure is thrown. */
  #coverFailure(failure: Failure, candidates: (StoredAnswer | undefined)[], policy: FreshnessPolicy): CacheOutcome {
    // A slow upstream counts as failing: past STALE_IF_SLOW_MS the stored answer is served and the load goes on.
    const detail = errorSpec(failure.kind).staleCover;
    const { now } = this.#options;
    const stale = candidates
      .filter((answer): answer is StoredAnswer => answer !== undefined && isStorable(answer))
      .filter((answer) => freshness(answer, policy, now()) !== "expired")
      .sort((a, b) => b.producedAt - a.producedAt)[0];
    if (detail && stale) return this.#outcome(stale, policy, "hit", detail);
    throw fromFailure(failure);
  }

  /** `Age` counts from when the answer was produced; its freshness from when it was last known current. */
  #outcome(answer: StoredAnswer, policy: FreshnessPolicy, status: string, detail?: string): CacheOutcome {
    const now = this.#options.now();
    const freshSecondsLeft = policy.ttlSeconds - Math.floor(sinceCurrentSeconds(answer, now));
    const shownDetail = detail ?? (answer.currentAt === undefined ? undefined : "pushed");
    const cacheStatus =
      status === "hit" ? `hit; ttl=${freshSecondsLeft}${shownDetail ? `; detail=${shownDetail}` : ""}` : status;
    const age = Math.floor(ageSeconds(answer, now));
    return { answer, cacheStatus, ageSeconds: age, freshSecondsLeft: Math.max(0, freshSecondsLeft) };
  }
}

/** A failed background load keeps the stale copy; the request was already logged, so log it here. */
function logBackgroundFailure(result: SharedResult): void {
  if (result.kind === "failure")
    logger.write("error", { event: "background_refresh_failed", kind: result.failure.kind });
}

function refusedLocally(reason: RefusalReason, waitMs: number): SharedResult {
  return { kind: "failure", failure: toFailure(refusalError(reason, waitMs)) };
}
