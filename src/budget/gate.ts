/**
 * @module The upstream budget: one gate for the whole deployment that every upstream
 * attempt asks for a permit. Pure logic with its clock and storage injected, so the
 * Durable Object (gate-object.ts) and `npm run sim` run exactly this code.
 *
 * Two rules decide together, because neither alone is enough:
 * - a sliding-window log: no window of `seconds` ever holds more than `requests`
 *   permits. A plain token bucket of that size could spend twice its size in one
 *   window (a full bucket plus a window of refill), which is what locks a token out.
 * - a pacing bucket that holds a twentieth of the budget and refills at the rest of it
 *   per window: under overload permits come evenly instead of all at the start of a
 *   window followed by minutes of nothing, and the bucket (where urgency is weighed),
 *   not the log, is what runs short; burst plus refill is the budget, so the log never
 *   has to refuse (it is the guarantee, not the policy).
 * Cold misses (nothing stored yet) may only use the first half of the window and of
 * the pacing bucket; refreshes of stored answers may use all of both. Urgency then
 * orders them: a load must leave behind a share of the pacing bucket that shrinks as
 * its urgency grows, so when permits are scarce they go to the answers that have
 * waited longest and every answer's age stays even instead of some starving. A cold
 * key that callers keep asking for grows urgent too (and may reach past half the
 * window); a one-off random id never does, so a flood of them stays within half.
 * Joins go ahead of both: a person is waiting. They take their token from the pacing
 * bucket even when it is short (borrowing from the reads that come after), never past the
 * window's budget; but together they take at most the joins' share of it, first come first
 * served, and joins of meetings the proxy does not know are few (join-queue.ts).
 */

import type { Config } from "../config.ts";
import type { SyncKv } from "../sync-kv.ts";
import { type JoinLimits, JoinQueue, PROBES_SHARE } from "./join-queue.ts";

export interface Allowance {
  requests: number;
  seconds: number;
}

/**
 * `cold`: nothing is known for the key yet. `refresh`: an answer already given is being
 * renewed. `join`: someone is waiting to enter a meeting. `continuation`: a further page
 * of a load already begun (refused, the pages before it would be spent for nothing).
 */
export type PermitPriority = "cold" | "refresh" | "join" | "continuation";

/** The allowances, as the deployment's config gives them; every request carries them, so the gate follows a config change at once. */
export interface Allowances {
  budget: Allowance;
  callerBudget: Allowance;
  /** The most of `budget` joins may take together (JOIN_BUDGET_SHARE, 0.1 to 1). */
  joinShare: number;
}

/**
 * What a load asks for: `cold` (nothing stored yet) or `refresh`, and how urgent it is,
 * from 0 to 1: for a refresh, the stored answer's age as a share of how long it may be
 * served; for a cold miss, how long callers have been asking for the key without an
 * answer, as a share of the same time.
 */
export interface Demand {
  priority: PermitPriority;
  urgency: number;
  /**
   * The permits the whole load will take (a list of several pages): it begins only when
   * the window has room for all of them, so that it is never refused halfway. Default 1.
   */
  pages?: number;
}

/**
 * The allowances a deployment's config gives (and the caller's own share, when its key has
 * one, in place of CALLER_MISS_BUDGET): every permit request carries them.
 */
export function allowancesOf(
  config: Pick<Config, "UPSTREAM_BUDGET" | "CALLER_MISS_BUDGET" | "JOIN_BUDGET_SHARE">,
  callerShare?: Allowance | null,
): Allowances {
  return {
    budget: config.UPSTREAM_BUDGET,
    callerBudget: callerShare ?? config.CALLER_MISS_BUDGET,
    joinShare: config.JOIN_BUDGET_SHARE,
  };
}

export interface PermitRequest extends Allowances, Demand {
  /** The quota key of the caller that caused the upstream call: `key:<id>`, `user:<id>` or `ip:<address or /64>`. */
  quotaKey: string;
  /** The route name, for spend per route. */
  route: string;
  /** A join of a meeting the proxy does not know exists yet: few per caller and for the deployment. */
  probe?: boolean;
  /** A further call of a join already admitted (after a refresh found the participant gone, say): never queued. */
  followUp?: boolean;
}

/** `probes`: the caller's joins of meetings the proxy does not know are spent for this window. */
export type RefusalReason = "budget" | "paused" | "caller" | "probes";

export type PermitDecision =
  | { granted: true; permitsLeft: number }
  | { granted: false; reason: RefusalReason; retryAfterMs: number; permitsLeft: number };

export interface GateStatus {
  budget: { limit: number; window_seconds: number; available: number; cold_available: number };
  caller_budget: { limit: number; window_seconds: number };
  paused_until: string | null;
  spend_per_route: Record<string, number>;
  /** Every API key's upstream spend in its window (sliding estimate), by key id. */
  spend_per_key: Record<string, number>;
  callers_over_share: { caller: string; refused: number }[];
  joins: ReturnType<JoinQueue["status"]>;
}

interface Grant {
  at: number;
  route: string;
}

/** A caller's spend as two fixed windows, weighted into a sliding estimate (as Cloudflare's own rate limiting does). */
interface CallerWindow {
  start: number;
  count: number;
  previous: number;
  refused: number;
  /** The caller's own allowance when it has one (a managed key's upstream share); else CALLER_MISS_BUDGET. */
  allowance?: Allowance;
}

interface Pacing {
  tokens: number;
  at: number;
}

interface Refusal {
  reason: RefusalReason;
  retryAfterMs: number;
}

/**
 * The quota key of the proxy's own work: renewals that webhooks ask for (`proxy:webhooks`:
 * one per key every 2 s at most) and the further pages of a load already begun
 * (`proxy:later-pages`). No caller's share applies to it; the deployment's budget does.
 */
export const PROXY_QUOTA_PREFIX = "proxy:";

/** No upstream 429 pauses the deployment longer than this, whatever its Retry-After says. */
export const MAX_PAUSE_MS = 3_600_000;

const STORED_GRANTS = "grants";
const STORED_PACING = "pacing";
const STORED_PAUSE = "paused-until";
const STORED_CALLER_PREFIX = "caller:";
/** How an API key's quota key begins (`key:<id>`); its spend is listed by key id. */
const KEY_CALLER_PREFIX = "key:";
/** Beyond this many remembered callers the least recently seen is forgotten (it starts afresh). */
const MAX_TRACKED_CALLERS = 10_000;

export interface BudgetGateOptions {
  store: SyncKv;
  now: () => number;
}

export class BudgetGate {
  readonly #store: SyncKv;
  readonly #now: () => number;
  readonly #callers = new Map<string, CallerWindow>();
  readonly #joins: JoinQueue;
  #budget: Allowance = { requests: 1, seconds: 1 };
  #callerBudget: Allowance = { requests: 1, seconds: 1 };
  #joinShare = 1;
  #grants: Grant[];
  #pacing: Pacing | undefined;
  #pausedUntil: number;

  constructor({ store, now }: BudgetGateOptions) {
    this.#store = store;
    this.#now = now;
    this.#grants = store.get<Grant[]>(STORED_GRANTS) ?? [];
    this.#pacing = store.get<Pacing>(STORED_PACING);
    this.#pausedUntil = store.get<number>(STORED_PAUSE) ?? 0;
    this.#joins = new JoinQueue(store);
    for (const [key, window] of store.list<CallerWindow>({ prefix: STORED_CALLER_PREFIX })) {
      this.#callers.set(key.slice(STORED_CALLER_PREFIX.length), window);
    }
  }

  /** Grants a permit for one upstream attempt, or says why not and for how long. */
  take(request: PermitRequest): PermitDecision {
    const now = this.#begin(request, this.#now());
    const joining = this.#joinTurn(request, now);
    const refusal = joining.refusal ?? this.#refusal(request, now);
    if (refusal) {
      if (refusal.reason === "caller" || refusal.reason === "probes") {
        this.#noteCallerRefusal(request.quotaKey, now, request.callerBudget);
      }
      return { granted: false, ...refusal, permitsLeft: this.#available() };
    }
    joining.commit?.(now);
    this.#grants.push({ at: now, route: request.route });
    // A join may borrow ahead; the debt is bounded, and repaid by the refill before reads go on.
    const pacing = { tokens: Math.max(-this.#pacingCapacity, this.#pacingNow(now) - 1), at: now };
    this.#pacing = pacing;
    if (!isProxysOwn(request.quotaKey)) this.#chargeCaller(request.quotaKey, now, request.callerBudget);
    this.#store.put(STORED_GRANTS, this.#grants);
    this.#store.put(STORED_PACING, pacing);
    return { granted: true, permitsLeft: this.#available() };
  }

  /**
   * After an upstream 429: no permit until `untilMs`, at most an hour from now. A shorter
   * pause never shortens a longer one.
   */
  pause(untilMs: number): void {
    const until = Math.min(untilMs, this.#now() + MAX_PAUSE_MS);
    if (until <= this.#pausedUntil) return;
    this.#pausedUntil = until;
    this.#store.put(STORED_PAUSE, until);
  }

  /** An operator lifts a pause at once (e.g. after raising the token's limits, or a mistaken 429). */
  liftPause(): void {
    this.#pausedUntil = 0;
    this.#store.delete(STORED_PAUSE);
  }

  status(allowances: Allowances): GateStatus {
    const now = this.#begin(allowances, this.#now());
    const spend: Record<string, number> = {};
    for (const grant of this.#grants) spend[grant.route] = (spend[grant.route] ?? 0) + 1;
    const spendPerKey: Record<string, number> = {};
    for (const caller of this.#callers.keys()) {
      if (!caller.startsWith(KEY_CALLER_PREFIX)) continue;
      const spent = Math.round(this.#callerSpend(this.#callerWindow(caller, now, this.#allowanceOf(caller)), now));
      if (spent > 0) spendPerKey[caller.slice(KEY_CALLER_PREFIX.length)] = spent;
    }
    const overShare = [...this.#callers]
      .filter(
        ([, window]) =>
          window.refused > 0 && this.#callerSpend(window, now) >= (window.allowance ?? this.#callerBudget).requests,
      )
      .map(([caller, window]) => ({ caller, refused: window.refused }));
    return {
      budget: {
        limit: this.#budget.requests,
        window_seconds: this.#budget.seconds,
        available: this.#available(),
        cold_available: Math.max(0, this.#coldLimit() - this.#grants.length),
      },
      caller_budget: { limit: this.#callerBudget.requests, window_seconds: this.#callerBudget.seconds },
      paused_until: this.#pausedUntil > now ? new Date(this.#pausedUntil).toISOString() : null,
      spend_per_route: spend,
      spend_per_key: spendPerKey,
      callers_over_share: overShare,
      joins: this.#joins.status(this.#joinLimits(), now),
    };
  }

  /**
   * A join's place in the joins' share: refused (its turn, or its probes spent), or what to
   * record once it is granted. The pause and the caller's share come first: a join they
   * refuse takes no turn.
   */
  #joinTurn(request: PermitRequest, now: number): { refusal?: Refusal; commit?: (at: number) => void } {
    if (request.priority !== "join" || now < this.#pausedUntil) return {};
    if (this.#callerWait(request.quotaKey, now, request.callerBudget) > 0) return {};
    if (request.followUp) return { commit: (at) => this.#joins.recordFollowUp(at) };
    const verdict = this.#joins.decide(
      { quotaKey: request.quotaKey, probe: request.probe === true },
      this.#joinLimits(),
      now,
    );
    if (!verdict.admitted) return { refusal: { reason: verdict.reason, retryAfterMs: verdict.retryAfterMs } };
    return { commit: verdict.commit };
  }

  #joinLimits(): JoinLimits {
    return {
      joins: Math.max(1, Math.floor(this.#budget.requests * this.#joinShare)),
      probes: Math.max(1, Math.ceil(this.#budget.requests * PROBES_SHARE)),
      windowMs: this.#windowMs,
    };
  }

  /** Adopts the allowances the request carries and drops what has left the window. */
  #begin(allowances: Allowances, now: number): number {
    this.#budget = allowances.budget;
    this.#callerBudget = allowances.callerBudget;
    this.#joinShare = allowances.joinShare;
    this.#forgetExpiredGrants(now);
    return now;
  }

  get #windowMs(): number {
    return this.#budget.seconds * 1000;
  }

  get #pacingCapacity(): number {
    return Math.max(1, Math.ceil(this.#budget.requests / 20));
  }

  /** Permits per millisecond: what the burst leaves of the budget, spread over the window. */
  get #pacingRate(): number {
    return Math.max(1, this.#budget.requests - this.#pacingCapacity) / this.#windowMs;
  }

  /** The pacing bucket's tokens at `now` (full when it was never used). */
  #pacingNow(now: number): number {
    if (!this.#pacing) return this.#pacingCapacity;
    const elapsed = Math.max(0, now - this.#pacing.at);
    const tokens = this.#pacing.tokens + elapsed * this.#pacingRate;
    return Math.min(this.#pacingCapacity, tokens);
  }

  #refusal(request: PermitRequest, now: number): Refusal | undefined {
    if (now < this.#pausedUntil) return { reason: "paused", retryAfterMs: this.#pausedUntil - now };
    const callerWait = isProxysOwn(request.quotaKey)
      ? 0
      : this.#callerWait(request.quotaKey, now, request.callerBudget);
    if (callerWait > 0) return { reason: "caller", retryAfterMs: callerWait };
    // A person waiting, or the rest of a load already paid for in part: only the window's
    // guarantee holds them back.
    if (request.priority === "join" || request.priority === "continuation") {
      const wait = this.#windowWait(this.#budget.requests, now);
      return wait > 0 ? { reason: "budget", retryAfterMs: wait } : undefined;
    }
    const urgency = Number.isFinite(request.urgency) ? Math.min(1, Math.max(0, request.urgency)) : 0;
    const coldLimit = this.#coldLimit();
    const windowLimit =
      request.priority === "cold"
        ? coldLimit + Math.floor((this.#budget.requests - coldLimit) * urgency)
        : this.#budget.requests;
    // A load leaves half the pacing bucket behind it when not urgent at all, nothing when most urgent.
    const half = Math.floor(this.#pacingCapacity / 2);
    const tokensNeeded = 1 + Math.floor(half * (1 - urgency));
    // Room in the window for the load's every page, not only its first.
    const pagesAfterThis = Math.max(0, Math.floor(request.pages ?? 1) - 1);
    const windowWait = this.#windowWait(windowLimit - pagesAfterThis, now);
    const pacingWait = this.#pacingWait(tokensNeeded, now);
    const wait = Math.max(windowWait, pacingWait);
    return wait > 0 ? { reason: "budget", retryAfterMs: wait } : undefined;
  }

  #coldLimit(): number {
    return Math.floor(this.#budget.requests / 2);
  }

  #available(): number {
    return Math.max(0, this.#budget.requests - this.#grants.length);
  }

  /** Milliseconds until the window holds fewer than `limit` grants (0: now). */
  #windowWait(limit: number, now: number): number {
    const excess = this.#grants.length - limit;
    if (excess < 0) return 0;
    const freeing = this.#grants[excess];
    return freeing ? Math.max(1, freeing.at + this.#windowMs - now) : 0;
  }

  #pacingWait(tokensNeeded: number, now: number): number {
    const missing = tokensNeeded - this.#pacingNow(now);
    if (missing <= 0) return 0;
    return Math.max(1, Math.ceil(missing / this.#pacingRate));
  }

  #forgetExpiredGrants(now: number): void {
    const cutoff = now - this.#windowMs;
    let expired = 0;
    while (expired < this.#grants.length && (this.#grants[expired]?.at ?? 0) <= cutoff) expired++;
    if (expired > 0) this.#grants = this.#grants.slice(expired);
  }

  /** The allowance a caller's spend is measured against: its own when it brought one, else the deployment's. */
  #allowanceOf(caller: string, asked?: Allowance): Allowance {
    return asked ?? this.#callers.get(caller)?.allowance ?? this.#callerBudget;
  }

  #callerWindow(caller: string, now: number, allowance: Allowance): CallerWindow {
    const windowMs = allowance.seconds * 1000;
    const existing = this.#callers.get(caller);
    if (!existing) return { start: now, count: 0, previous: 0, refused: 0, allowance };
    const windowsPassed = Math.floor((now - existing.start) / windowMs);
    if (windowsPassed <= 0) return { ...existing, allowance };
    return {
      start: existing.start + windowsPassed * windowMs,
      count: 0,
      previous: windowsPassed === 1 ? existing.count : 0,
      refused: windowsPassed === 1 ? existing.refused : 0,
      allowance,
    };
  }

  #callerSpend(window: CallerWindow, now: number): number {
    const windowMs = (window.allowance ?? this.#callerBudget).seconds * 1000;
    const elapsed = Math.min(1, Math.max(0, (now - window.start) / windowMs));
    return window.previous * (1 - elapsed) + window.count;
  }

  /** Milliseconds until the caller's estimated spend drops below its allowance (0: now). */
  #callerWait(caller: string, now: number, asked?: Allowance): number {
    const allowance = this.#allowanceOf(caller, asked);
    const window = this.#callerWindow(caller, now, allowance);
    const limit = allowance.requests;
    if (this.#callerSpend(window, now) + 1 <= limit) return 0;
    const windowMs = allowance.seconds * 1000;
    // The estimate is previous * (1 - t / windowMs) + count, t the time into the window.
    if (window.count + 1 <= limit && window.previous > 0) {
      const t = windowMs * (1 - (limit - 1 - window.count) / window.previous);
      return Math.max(1, Math.ceil(window.start + t - now));
    }
    // Else only the next window helps, once this window's count has decayed enough.
    const untilNextWindow = window.start + windowMs - now;
    const decay = window.count > 0 ? Math.max(0, windowMs * (1 - (limit - 1) / window.count)) : 0;
    return Math.max(1, Math.ceil(untilNextWindow + decay));
  }

  #chargeCaller(caller: string, now: number, asked: Allowance): void {
    const window = this.#callerWindow(caller, now, this.#allowanceOf(caller, asked));
    this.#saveCaller(caller, { ...window, count: window.count + 1 });
  }

  #noteCallerRefusal(caller: string, now: number, asked: Allowance): void {
    const window = this.#callerWindow(caller, now, this.#allowanceOf(caller, asked));
    this.#saveCaller(caller, { ...window, refused: window.refused + 1 });
  }

  #saveCaller(caller: string, window: CallerWindow): void {
    // Re-inserting keeps the map in least-recently-seen order.
    this.#callers.delete(caller);
    this.#callers.set(caller, window);
    this.#store.put(STORED_CALLER_PREFIX + caller, window);
    for (const [oldest] of this.#callers) {
      if (this.#callers.size <= MAX_TRACKED_CALLERS) break;
      this.#callers.delete(oldest);
      this.#store.delete(STORED_CALLER_PREFIX + oldest);
    }
  }
}

function isProxysOwn(quotaKey: string): boolean {
  return quotaKey.startsWith(PROXY_QUOTA_PREFIX);
}
