/**
 * @module What one isolate (one data centre) remembers of the gate's refusals, so that
 * a flood during an exhausted budget or a pause does not become a flood of Durable
 * Object calls: until the refusal's time has passed, the isolate answers by itself.
 */
import type { PermitPriority, RefusalReason } from "./gate.ts";

export interface RememberedRefusal {
  reason: RefusalReason;
  untilMs: number;
}

/** Bounds the per-caller memory; callers past it are simply asked about again. */
const MAX_REMEMBERED_CALLERS = 10_000;

export class RefusalMemory {
  #paused: RememberedRefusal | undefined;
  readonly #byPriority = new Map<PermitPriority, RememberedRefusal>();
  readonly #byCaller = new Map<string, RememberedRefusal>();

  remember(priority: PermitPriority, caller: string, refusal: RememberedRefusal): void {
    if (refusal.reason === "paused") this.#paused = refusal;
    else if (refusal.reason === "caller") {
      this.#byCaller.set(caller, refusal);
      if (this.#byCaller.size > MAX_REMEMBERED_CALLERS) this.#byCaller.delete(this.#byCaller.keys().next().value ?? "");
    } else {
      this.#byPriority.set(priority, refusal);
      // Refreshes may use the whole budget: when they are refused, cold misses are too.
      if (priority === "refresh") this.#byPriority.set("cold", refusal);
    }
  }

  /** A refusal still in force for this request, if any. */
  recall(priority: PermitPriority, caller: string, now: number): RememberedRefusal | undefined {
    const candidates = [this.#paused, this.#byCaller.get(caller), this.#byPriority.get(priority)];
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
