/**
 * @module What one isolate (one data centre) remembers of the gate's refusals, so that
 * a flood during an exhausted budget or a pause does not become a flood of Durable
 * Object calls: until the refusal's time has passed, the isolate answers by itself.
 */
import { ApiError, type ErrorKind } from "../errors.ts";
import type { Demand, RefusalReason } from "./gate.ts";

/** Each refusal of the budget gate, as the error a caller gets. */
const REFUSALS = {
  caller: { kind: "caller_budget", message: "this caller's share of the upstream budget is spent; retry later" },
  paused: { kind: "upstream_paused", message: "upstream rate limit reached: every upstream call is paused" },
  budget: { kind: "upstream_budget", message: "upstream budget exhausted" },
  probes: {
    kind: "caller_budget",
    message: "too many joins of meetings this proxy does not know yet from this caller; retry later",
  },
} as const satisfies Record<RefusalReason, { kind: ErrorKind; message: string }>;

/** The error a caller gets when the budget gives no permit (unless a stored answer covers it). */
export function refusalError(reason: RefusalReason, retryAfterMs: number): ApiError {
  const { kind, message } = REFUSALS[reason];
  return new ApiError(kind, message, { retryAfter: Math.max(1, Math.ceil(retryAfterMs / 1000)) });
}

/** The refusal an error kind stands for, if it is one (the inverse of `refusalError`). */
export function refusalReasonOf(kind: ErrorKind): RefusalReason | undefined {
  return (Object.keys(REFUSALS) as RefusalReason[]).find((reason) => REFUSALS[reason].kind === kind);
}

export interface RememberedRefusal {
  reason: RefusalReason;
  untilMs: number;
}

interface BudgetRefusal extends RememberedRefusal {
  /** Refreshes at most this urgent are refused too; more urgent ones may ask again. */
  urgency: number;
}

/** Bounds the per-caller memory; callers past it are simply asked about again. */
const MAX_REMEMBERED_CALLERS = 10_000;

export class RefusalMemory {
  #paused: RememberedRefusal | undefined;
  #cold: BudgetRefusal | undefined;
  #refresh: BudgetRefusal | undefined;
  readonly #byCaller = new Map<string, RememberedRefusal>();

  remember(demand: Demand, quotaKey: string, refusal: RememberedRefusal): void {
    if (refusal.reason === "paused") this.#paused = refusal;
    else if (refusal.reason === "caller" || refusal.reason === "probes") {
      this.#byCaller.set(quotaKey, refusal);
      if (this.#byCaller.size > MAX_REMEMBERED_CALLERS) this.#byCaller.delete(this.#byCaller.keys().next().value ?? "");
    } else {
      const remembered = { ...refusal, urgency: demand.urgency };
      // A cold miss asks more of the budget than a refresh as urgent: it is refused as well.
      this.#cold = remembered;
      if (demand.priority === "refresh") this.#refresh = remembered;
    }
  }

  /** A refusal still in force for this request, if any. */
  recall(demand: Demand, quotaKey: string, now: number): RememberedRefusal | undefined {
    const budget = demand.priority === "cold" ? this.#cold : this.#refresh;
    const refusedAsUrgent = budget && demand.urgency <= budget.urgency ? budget : undefined;
    const candidates = [this.#paused, this.#byCaller.get(quotaKey), refusedAsUrgent];
    return candidates.find((refusal) => refusal !== undefined && refusal.untilMs > now);
  }
}

/**
 * When the gate cannot be reached, an isolate may still call the upstream directly,
 * at most once per interval: enough to keep answering, too little to lock the token out.
 */
export class DirectCallThrottle {
  readonly #intervalMs: number;
  #lastAt = Number.NEGATIVE_INFINITY;

  constructor(intervalMs = 1000) {
    this.#intervalMs = intervalMs;
  }

  /** True (and counted) when a direct call is allowed now. */
  tryTake(now: number): boolean {
    if (now - this.#lastAt < this.#intervalMs) return false;
    this.#lastAt = now;
    return true;
  }

  /** Milliseconds until the next direct call is allowed. */
  waitMs(now: number): number {
    return Math.max(0, this.#lastAt + this.#intervalMs - now);
  }
}

/** The one throttle of this isolate, shared by its data-centre code and the key objects it runs. */
export const isolateDirectCalls = new DirectCallThrottle();
