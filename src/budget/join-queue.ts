/**
 * @module The joins' part of the budget (pure, storage injected; the gate runs it): joins
 * together take at most `JOIN_BUDGET_SHARE` of the window, first come first served, and
 * joins of meetings the proxy does not know exist ("probes": the upstream answers most of
 * them 404) are few per caller and for the deployment.
 *
 * When the share is taken, a join is not told to come back "later" like everyone else (so
 * that all retry at once): it is given its turn, the next slot the share frees that no
 * earlier join was given, and that slot is kept for it (a booking, by its quota key). A
 * caller who comes back at its turn is admitted ahead of anyone who arrives then; one who
 * never comes back leaves its slot unused. So refused joins' `Retry-After`s spread over the
 * window in the order they arrived, and nobody is locked out by later arrivals.
 */
import type { SyncKv } from "../sync-kv.ts";

/** A join's permit in the window (granted at `at`), or a booking: a slot kept for a caller who was told to come back at `at`. */
interface JoinSlot {
  at: number;
  bookedFor?: string;
}

interface Probe {
  at: number;
  quotaKey: string;
}

/** Joins of meetings the proxy does not know yet, per caller and window: a mistyped link retried, not a scan of ids. */
export const PROBES_PER_CALLER = 5;
/** ...and for the whole deployment, a share of the budget: random ids from many accounts cannot take the joins' share. */
export const PROBES_SHARE = 0.05;
/** A caller may come back this much before its turn and still be admitted (clocks differ). */
const EARLY_MS = 1_000;
/** A booking is kept this long past its turn; after that the slot is spent unused. */
const BOOKING_GRACE_MS = 60_000;
/** No turn is given further ahead than two windows: past that, a caller is told to come back in a window. */
const MAX_TURNS_AHEAD_WINDOWS = 2;
/** The most bookings kept at once (one per waiting caller). */
const MAX_BOOKINGS = 20_000;

const STORED_SLOTS = "join-slots";
const STORED_PROBES = "join-probes";

/** What the queue says of a join now. `probes`: this caller's probes are spent; `budget`: wait for the turn given. */
export type JoinVerdict =
  | { admitted: true; commit: (now: number) => void }
  | { admitted: false; reason: "budget" | "probes"; retryAfterMs: number };

export interface JoinLimits {
  /** The most joins in one window: the budget's requests times the joins' share. */
  joins: number;
  /** The most probes in one window, for the deployment. */
  probes: number;
  windowMs: number;
}

export interface JoinAsk {
  quotaKey: string;
  /** A join of a meeting the proxy does not know exists. */
  probe: boolean;
}

export class JoinQueue {
  readonly #store: SyncKv;
  /** Every join permit in the window and every booking, oldest first. */
  #slots: JoinSlot[];
  /** Each waiting caller's turn (a booked slot's time), by quota key. */
  readonly #bookings = new Map<string, number>();
  #probes: Probe[];

  constructor(store: SyncKv) {
    this.#store = store;
    this.#slots = store.get<JoinSlot[]>(STORED_SLOTS) ?? [];
    this.#probes = store.get<Probe[]>(STORED_PROBES) ?? [];
    for (const slot of this.#slots) if (slot.bookedFor !== undefined) this.#bookings.set(slot.bookedFor, slot.at);
  }

  /** Whether a join may go now, or when its turn comes; `commit` records an admission once the gate grants it. */
  decide(ask: JoinAsk, limits: JoinLimits, now: number): JoinVerdict {
    this.#forget(limits.windowMs, now);
    if (ask.probe) {
      const refused = this.#probeRefusal(ask.quotaKey, limits, now);
      if (refused) return refused;
    }
    const turn = this.#bookings.get(ask.quotaKey);
    if (turn !== undefined && turn + BOOKING_GRACE_MS >= now) {
      if (turn - EARLY_MS > now) return { admitted: false, reason: "budget", retryAfterMs: turn - now };
      // Its turn: the slot was kept for it, whoever else is waiting.
      return { admitted: true, commit: (at) => this.#claim(turn, ask, at) };
    }
    const next = this.#nextTurn(limits, now);
    if (next <= now) return { admitted: true, commit: (at) => this.#admit(ask, at) };
    if (next - now > MAX_TURNS_AHEAD_WINDOWS * limits.windowMs || this.#bookings.size >= MAX_BOOKINGS) {
      return { admitted: false, reason: "budget", retryAfterMs: limits.windowMs };
    }
    this.#insert({ at: next, bookedFor: ask.quotaKey });
    this.#bookings.set(ask.quotaKey, next);
    this.#save();
    return { admitted: false, reason: "budget", retryAfterMs: next - now };
  }

  /** A further call of a join already admitted (its second step): counted in the share, never queued. */
  recordFollowUp(now: number): void {
    this.#insert({ at: now });
    this.#save();
  }

  /** For the operator: the joins' share, joins in the window, callers waiting for their turn, probes. */
  status(limits: JoinLimits, now: number) {
    this.#forget(limits.windowMs, now);
    return {
      limit: limits.joins,
      used: this.#slots.filter((slot) => slot.at <= now && slot.bookedFor === undefined).length,
      waiting: [...this.#bookings.values()].filter((turn) => turn + BOOKING_GRACE_MS >= now).length,
      probes: { limit: limits.probes, used: this.#probes.length, per_caller: PROBES_PER_CALLER },
    };
  }

  /**
   * The earliest time a new join fits the share: now while the window (counting every slot
   * given, bookings ahead included) holds fewer than the limit, else when the slot that
   * many places back leaves the window.
   */
  #nextTurn(limits: JoinLimits, now: number): number {
    const freeing = this.#slots[this.#slots.length - limits.joins];
    return freeing ? Math.max(now, freeing.at + limits.windowMs) : now;
  }

  #probeRefusal(quotaKey: string, limits: JoinLimits, now: number): JoinVerdict | undefined {
    const mine = this.#probes.filter((probe) => probe.quotaKey === quotaKey);
    const oldestMine = mine[mine.length - PROBES_PER_CALLER];
    if (oldestMine) return { admitted: false, reason: "probes", retryAfterMs: oldestMine.at + limits.windowMs - now };
    const oldest = this.#probes[this.#probes.length - limits.probes];
    if (oldest) return { admitted: false, reason: "budget", retryAfterMs: oldest.at + limits.windowMs - now };
    return undefined;
  }

  #admit(ask: JoinAsk, now: number): void {
    this.#insert({ at: now });
    if (ask.probe) this.#probes.push({ at: now, quotaKey: ask.quotaKey });
    this.#save();
  }

  /**
   * A booking claimed: the slot stays where it was given (the turns after it stay as they
   * were told), now a permit. The gate's own log records when the call really is made.
   */
  #claim(turn: number, ask: JoinAsk, now: number): void {
    this.#bookings.delete(ask.quotaKey);
    const index = this.#slots.findIndex((slot) => slot.at === turn && slot.bookedFor === ask.quotaKey);
    if (index >= 0) this.#slots[index] = { at: turn };
    if (ask.probe) this.#probes.push({ at: now, quotaKey: ask.quotaKey });
    this.#save();
  }

  #insert(slot: JoinSlot): void {
    let index = this.#slots.length;
    while (index > 0 && (this.#slots[index - 1]?.at ?? 0) > slot.at) index--;
    this.#slots.splice(index, 0, slot);
  }

  /**
   * Drops what has left the window (oldest first, so only the front is looked at). A booking
   * not claimed within its grace is only a spent slot: its caller, back later, queues again.
   */
  #forget(windowMs: number, now: number): void {
    let dropped = 0;
    while (dropped < this.#slots.length && (this.#slots[dropped]?.at ?? 0) <= now - windowMs) {
      const bookedFor = this.#slots[dropped]?.bookedFor;
      if (bookedFor !== undefined && this.#bookings.get(bookedFor) === this.#slots[dropped]?.at) {
        this.#bookings.delete(bookedFor);
      }
      dropped++;
    }
    let probesDropped = 0;
    while (probesDropped < this.#probes.length && (this.#probes[probesDropped]?.at ?? 0) <= now - windowMs) {
      probesDropped++;
    }
    if (dropped === 0 && probesDropped === 0) return;
    this.#slots = this.#slots.slice(dropped);
    this.#probes = this.#probes.slice(probesDropped);
    this.#save();
  }

  #save(): void {
    this.#store.put(STORED_SLOTS, this.#slots);
    this.#store.put(STORED_PROBES, this.#probes);
  }
}
