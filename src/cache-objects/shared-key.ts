/**
 * @module The shared tier's logic for one cache entry, run by one Durable Object per cache
 * key (shared-key-object.ts) and by `npm run sim`: it answers every data centre from its
 * copy while fresh, else makes the one load for all of them and answers every waiter with
 * it. While webhooks report every change of what the entry covers, it keeps its copy for
 * the longer pushed TTL and vouches for it (data centres then keep it for their own TTL
 * from that moment); a change makes the copy outdated, and renews it at once or when next
 * asked for, never more often than once every 2 s. Pure: the clock, the loading and the
 * change feed are injected.
 */
import { type Demand, PROXY_QUOTA_PREFIX } from "../budget/gate.ts";
import { demandFor, freshness, isStorable, type StoredAnswer } from "../cache/answer.ts";
import {
  type Coverage,
  type EntryNotice,
  FORGOTTEN_AFTER_MS,
  MIN_RENEWAL_GAP_MS,
  REGISTRATION_MS,
} from "../changes/feed.ts";
import { ApiError, type Failure, toFailure } from "../errors.ts";
import { runtime } from "../runtime.ts";
import type { UpstreamTrace } from "../upstream/http.ts";
import type { LoadRequest } from "../upstream/load.ts";

/** What a data centre asks the entry's object. Plain data: it crosses an RPC boundary. */
export interface SharedRequest extends LoadRequest {
  cacheKey: string;
  ttlSeconds: number;
  /** When the newest answer the asking data centre knows was produced: renewing it is a refresh, not a cold miss. */
  knownProducedAt: number | undefined;
  /** How long past its TTL an answer may still be served (it measures a refresh's urgency). */
  staleIfErrorSeconds: number;
  /** How long a caller who could be given a stored answer waits for a slow upstream. */
  staleIfSlowMs: number;
  /** What the entry shows of meetings, when webhooks are configured: it is then told of their changes. */
  coverage?: Coverage;
  /** While webhooks arrive, how long the shared tier keeps this (active-session) answer: changes renew it sooner. */
  pushedTtlSeconds?: number;
}

export type SharedResult =
  | { kind: "answer"; answer: StoredAnswer; fetched: boolean; trace?: UpstreamTrace }
  /** `copy`: the object's own last answer, which the data centre may serve stale. */
  | { kind: "failure"; failure: Failure; copy?: StoredAnswer; trace?: UpstreamTrace };

/** Changes a copy of the live-sessions index so that it shows one meeting as the upstream now does. */
export type IndexPatch = (copy: StoredAnswer) => Promise<StoredAnswer>;

/** How an entry's answer is loaded (its permits asked for as `demand`); both throw ApiError. */
export interface EntryLoaders {
  load(request: SharedRequest, demand: Demand, trace: UpstreamTrace): Promise<StoredAnswer>;
  /** The live-sessions index only: loads one meeting's active session, as a patch for the index. */
  patch(request: SharedRequest, meetingId: string, demand: Demand, trace: UpstreamTrace): Promise<IndexPatch>;
  /** How many upstream calls loading the entry whole costs, judging by its copy (a list of every page: its pages). */
  wholeLoadCost(request: SharedRequest, copy: StoredAnswer): number;
}

export interface SharedKeyOptions {
  now: () => number;
  /** When the newest answer this entry ever had was produced (kept by the object across evictions). */
  knownProducedAt?: number;
  /** Registers what the entry covers with the change feed; false (or a rejection) when it could not. */
  register?: (cacheKey: string, coverage: Coverage) => Promise<boolean>;
}

/** What a caller who could be given a stored answer gets while the upstream is still working on it. */
export function slowError(): ApiError {
  return new ApiError("upstream_slow", "upstream is slow to answer; a stored answer is served while it loads");
}

/** Renewals a webhook asks for are the proxy's own spend, not a caller's. */
const RENEWAL_QUOTA_KEY = `${PROXY_QUOTA_PREFIX}webhooks`;
/**
 * A change is news: its renewal goes ahead of refreshes due to age, but not of those about
 * to expire (more urgent than this): when changes outrun the budget, answers that are
 * merely old keep being renewed rather than expiring for everyone.
 */
const RENEWAL_DEMAND: Demand = { priority: "refresh", urgency: 0.9 };
/** After a failed registration, the next try waits this long (the entry is not vouched for meanwhile). */
const REGISTER_RETRY_MS = 60_000;

export class SharedKey {
  readonly #now: () => number;
  readonly #register: SharedKeyOptions["register"];
  #copy: StoredAnswer | undefined;
  /**
   * The order of what happens to the entry (loads and patches begun, changes received, the
   * feed registration): a change is in a copy only when its load began after the change
   * arrived. A counter, not the clock: two things in one millisecond are still ordered.
   */
  #steps = 0;
  /** The step the copy's load began at. */
  #copyStep = Number.NEGATIVE_INFINITY;
  #knownProducedAt: number | undefined;
  #inFlight: Promise<SharedResult> | undefined;
  /** Since when callers have asked for this entry without an answer (its cold urgency). */
  #askedSince: number | undefined;
  /** The last request asked with: what a renewal asks again. */
  #lastRequest: SharedRequest | undefined;
  #lastLoadStartedAt = Number.NEGATIVE_INFINITY;
  /** The step the newest change concerning the whole copy was received at. */
  #changedStep = Number.NEGATIVE_INFINITY;
  /** The step the newest such change made by the proxy's own write was received at: no renewal gap for it. */
  #writtenStep = Number.NEGATIVE_INFINITY;
  /** The step the load in flight began at. */
  #inFlightStep = Number.NEGATIVE_INFINITY;
  /** Since this step the feed has known the key without a lapse: only copies loaded after it are vouched for. */
  #registeredStep = Number.POSITIVE_INFINITY;
  #registeredUntil = Number.NEGATIVE_INFINITY;
  #registerRetryAt = Number.NEGATIVE_INFINITY;
  #registering: Promise<boolean> | undefined;
  /** The index only: meetings whose change is not patched in yet, and the step each change was received at. */
  readonly #pendingPatches = new Map<string, number>();
  /** The index only: when each meeting's last patch began. */
  readonly #patchedAt = new Map<string, number>();
  /** The upstream calls of the last TTL: each load's pages, each patch (patches never cost more than polling). */
  #spent: { at: number; calls: number }[] = [];
  /** Patches are applied one after another, each to the copy the last one left. */
  #applying: Promise<void> = Promise.resolve();

  constructor({ now, knownProducedAt, register }: SharedKeyOptions) {
    this.#now = now;
    this.#knownProducedAt = knownProducedAt;
    this.#register = register;
  }

  /** When the newest answer this entry has had was produced: an entry once answered is never cold again. */
  get knownProducedAt(): number | undefined {
    return this.#knownProducedAt;
  }

  /**
   * The copy while fresh (vouched for while pushed), else the result of the one load every
   * waiter shares; when the copy may still be served stale and the load is slow, a slow
   * failure with the copy.
   */
  async answer(request: SharedRequest, loaders: EntryLoaders): Promise<SharedResult> {
    this.#lastRequest = request;
    await this.#patchDue(loaders);
    const now = this.#now();
    const registered =
      request.coverage !== undefined && (await this.#registered(request.cacheKey, request.coverage, now));
    const pushed = registered && request.pushedTtlSeconds !== undefined;
    const result = await this.#answer(request, loaders, pushed, now);
    if (!pushed || result.kind !== "answer" || result.answer.currentAt !== undefined) return result;
    // While pushed, no data centre serves an answer stale while it revalidates (that would
    // show an old state past its TTL): an answer not vouched for is current as produced.
    return { ...result, answer: { ...result.answer, currentAt: result.answer.producedAt } };
  }

  async #answer(request: SharedRequest, loaders: EntryLoaders, pushed: boolean, now: number): Promise<SharedResult> {
    const copy = this.#copy;
    const ttlSeconds = pushed ? Math.max(request.ttlSeconds, request.pushedTtlSeconds ?? 0) : request.ttlSeconds;
    const policy = { ttlSeconds, staleWhileRevalidateSeconds: 0, staleIfErrorSeconds: request.staleIfErrorSeconds };
    let state = copy ? freshness(copy, policy, now) : "expired";
    const outdated = copy !== undefined && this.#changedStep > this.#copyStep;
    const written = this.#writtenStep > this.#copyStep;
    if (copy && state === "fresh" && outdated) {
      // Outdated by a change: renewed now, unless a load began less than 2 s ago (and the
      // change is no write through the proxy); until then it is served as it is, not
      // vouched for, and the next ask renews it.
      if (!written && (this.#inFlight || now - this.#lastLoadStartedAt < MIN_RENEWAL_GAP_MS)) {
        return { kind: "answer", answer: copy, fetched: false };
      }
      state = "stale-if-error";
    }
    if (copy && state === "fresh") {
      const vouched = pushed && this.#copyStep > this.#registeredStep;
      return { kind: "answer", answer: vouched ? { ...copy, currentAt: now } : copy, fetched: false };
    }
    // A copy known to be outdated is renewed as a change's renewal is: ahead of refreshes due to age.
    const renewal = { ...request, quotaKey: RENEWAL_QUOTA_KEY };
    const loading = written
      ? this.#loadSince(this.#writtenStep, renewal, loaders, RENEWAL_DEMAND)
      : outdated
        ? this.#start(renewal, loaders, RENEWAL_DEMAND)
        : this.#start(request, loaders, this.#demand(request, ttlSeconds, now));
    if (!copy || state === "expired") return loading;
    const within = await runtime.within(loading, request.staleIfSlowMs);
    return within.settled ? within.value : { kind: "failure", failure: toFailure(slowError()), copy };
  }

  /**
   * A change concerning this entry: `renew` loads at once (unless a load began less than
   * 2 s ago: the next ask renews it), `patch` loads the meeting's part of the index at
   * once (the same rule, per meeting), `drop` makes the copy outdated until next asked for.
   */
  async notice(notice: EntryNotice, loaders: EntryLoaders): Promise<void> {
    const now = this.#now();
    if (notice.action === "patch") {
      // Without a copy there is nothing to patch: the next load brings the whole index.
      if (!this.#copy) return;
      this.#pendingPatches.set(notice.meetingId, ++this.#steps);
      const request = this.#lastRequest;
      // The proxy's own write is patched in at once, whatever was spent (one call per write).
      if (notice.fromWrite && request) {
        await this.#patch({ ...request, quotaKey: RENEWAL_QUOTA_KEY }, notice.meetingId, loaders);
        return;
      }
      await this.#patchDue(loaders);
      return;
    }
    this.#changedStep = ++this.#steps;
    if (notice.fromWrite) this.#writtenStep = this.#changedStep;
    const request = this.#lastRequest;
    if (notice.action !== "renew" || !request || !this.#copy) return;
    const renewal = { ...request, quotaKey: RENEWAL_QUOTA_KEY };
    if (notice.fromWrite) {
      await this.#loadSince(this.#writtenStep, renewal, loaders, RENEWAL_DEMAND);
      return;
    }
    if (this.#inFlight || now - this.#lastLoadStartedAt < MIN_RENEWAL_GAP_MS) return;
    await this.#start(renewal, loaders, RENEWAL_DEMAND);
  }

  /** A load begun after `step`: the one in flight if it began after, else a new one once that settles. */
  async #loadSince(step: number, request: SharedRequest, loaders: EntryLoaders, demand: Demand): Promise<SharedResult> {
    if (this.#inFlight && this.#inFlightStep < step) await this.#inFlight;
    return this.#start(request, loaders, demand);
  }

  /** Whether the change feed knows this entry (registering it again once an hour); false: it is told of no change. */
  async #registered(cacheKey: string, coverage: Coverage, now: number): Promise<boolean> {
    if (now < this.#registeredUntil) return true;
    if (!this.#register || now < this.#registerRetryAt) return false;
    this.#registering ??= this.#register(cacheKey, coverage)
      .catch(() => false)
      .finally(() => {
        this.#registering = undefined;
      });
    if (!(await this.#registering)) {
      this.#registerRetryAt = now + REGISTER_RETRY_MS;
      return false;
    }
    // Forgotten by the feed meanwhile (or never known): changes may have been missed, so
    // only copies loaded from now on are vouched for.
    const lastRegisteredAt = this.#registeredUntil - REGISTRATION_MS;
    if (now - lastRegisteredAt >= FORGOTTEN_AFTER_MS) this.#registeredStep = ++this.#steps;
    this.#registeredUntil = now + REGISTRATION_MS;
    return true;
  }

  #start(request: SharedRequest, loaders: EntryLoaders, demand?: Demand): Promise<SharedResult> {
    this.#inFlight ??= this.#load(request, loaders, demand).finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #load(request: SharedRequest, loaders: EntryLoaders, urgentDemand?: Demand): Promise<SharedResult> {
    const now = this.#now();
    const step = ++this.#steps;
    this.#inFlightStep = step;
    this.#lastLoadStartedAt = now;
    const copy = this.#copy;
    const pages = copy ? loaders.wholeLoadCost(request, copy) : 1;
    const demand = { ...(urgentDemand ?? this.#demand(request, request.ttlSeconds, now)), pages };
    this.#spentWithin(request.ttlSeconds * 1000, now);
    this.#spent.push({ at: now, calls: pages });
    const trace: UpstreamTrace = { attempts: 0, durationMs: 0 };
    try {
      const answer = await loaders.load(request, demand, trace);
      if (isStorable(answer)) {
        if (request.ttlSeconds > 0) {
          this.#copy = answer;
          this.#copyStep = step;
          // The whole index was loaded after these changes: they are in it.
          for (const [meetingId, received] of this.#pendingPatches) {
            if (received < step) this.#pendingPatches.delete(meetingId);
          }
        }
        this.#knownProducedAt = Math.max(answer.producedAt, this.#knownProducedAt ?? Number.NEGATIVE_INFINITY);
      }
      this.#askedSince = undefined;
      return { kind: "answer", answer, fetched: true, trace };
    } catch (error) {
      return { kind: "failure", failure: toFailure(error), copy: this.#copy, trace };
    }
  }

  /**
   * Cold when nothing is known for the key, else a refresh as urgent as the newest known
   * answer is old, against the TTL it is kept for (the pushed one, while pushed).
   */
  #demand(request: SharedRequest, ttlSeconds: number, now: number): Demand {
    const newest = Math.max(
      request.knownProducedAt ?? Number.NEGATIVE_INFINITY,
      this.#knownProducedAt ?? Number.NEGATIVE_INFINITY,
    );
    this.#askedSince ??= now;
    const policy = { ttlSeconds, staleIfErrorSeconds: request.staleIfErrorSeconds };
    if (Number.isFinite(newest)) return demandFor(newest, policy, now);
    return { priority: "cold", urgency: demandFor(this.#askedSince, policy, now).urgency };
  }

  /**
   * Patches in the meetings whose change is pending and whose last patch began at least
   * 2 s ago. Changes never cost more than polling would: no TTL spends more calls on the
   * index than loading it whole. When the changes due would, the index is loaded whole
   * instead (it covers every change before it), once nothing was spent in the last TTL.
   */
  async #patchDue(loaders: EntryLoaders): Promise<void> {
    const request = this.#lastRequest;
    const copy = this.#copy;
    if (this.#pendingPatches.size === 0 || !request || !copy || this.#inFlight) return;
    const now = this.#now();
    const due = [...this.#pendingPatches].filter(
      ([meetingId]) => now - (this.#patchedAt.get(meetingId) ?? Number.NEGATIVE_INFINITY) >= MIN_RENEWAL_GAP_MS,
    );
    if (due.length === 0) return;
    const spent = this.#spentWithin(request.ttlSeconds * 1000, now);
    const renewal = { ...request, quotaKey: RENEWAL_QUOTA_KEY };
    if (spent + due.length > loaders.wholeLoadCost(request, copy)) {
      if (spent === 0) await this.#start(renewal, loaders, RENEWAL_DEMAND);
      return;
    }
    await Promise.all(due.map(([meetingId]) => this.#patch(renewal, meetingId, loaders)));
  }

  /** The calls spent on this entry within the last `ms` (older spending is forgotten). */
  #spentWithin(ms: number, now: number): number {
    this.#spent = this.#spent.filter(({ at }) => now - at < ms);
    return this.#spent.reduce((sum, { calls }) => sum + calls, 0);
  }

  async #patch(request: SharedRequest, meetingId: string, loaders: EntryLoaders): Promise<void> {
    const step = ++this.#steps;
    this.#patchedAt.set(meetingId, this.#now());
    this.#spent.push({ at: this.#now(), calls: 1 });
    let patch: IndexPatch;
    try {
      patch = await loaders.patch(request, meetingId, RENEWAL_DEMAND, { attempts: 0, durationMs: 0 });
    } catch {
      return; // Still pending: the next ask (or change) tries again, 2 s on.
    }
    this.#applying = this.#applying.then(async () => {
      // A whole index loaded after this patch began is newer than the patch.
      if (this.#copy && this.#copyStep < step) this.#copy = await patch(this.#copy);
      // Unless the meeting changed again after this patch began.
      if ((this.#pendingPatches.get(meetingId) ?? Number.POSITIVE_INFINITY) < step) {
        this.#pendingPatches.delete(meetingId);
      }
    });
    await this.#applying;
    for (const [id, at] of this.#patchedAt) if (this.#now() - at >= MIN_RENEWAL_GAP_MS) this.#patchedAt.delete(id);
  }
}
