/**
 * @module Creating is not idempotent upstream (each call makes a new meeting), so the proxy
 * makes it so for a caller who sends an `Idempotency-Key` (as Stripe does): the first
 * request with the key makes the upstream call and its outcome is kept for 24 hours; a
 * repeat gets that outcome again without an upstream call; a repeat while the first is
 * still under way waits for it; the same key with another body is a conflict. An outcome
 * is kept only once the upstream was asked: a request the budget refused may be repeated.
 * Pure: storage and the clock are injected (one Durable Object per caller and key runs it).
 */

import type { Failure } from "../errors.ts";

/** What a write came to: the upstream's answer, or its failure; and whether the upstream was asked at all. */
export interface WriteOutcome {
  status: number;
  /** The answer's body, or (for a failure) the error's message. */
  body: string;
  failure?: Failure;
  reachedUpstream: boolean;
}

export type IdempotentResult =
  | { kind: "first"; outcome: WriteOutcome }
  | { kind: "repeat"; outcome: WriteOutcome }
  | { kind: "conflict" };

interface Kept {
  bodyHash: string;
  outcome: WriteOutcome;
  at: number;
}

/** How long a key's first outcome is kept (and answered to its repeats). */
export const IDEMPOTENCY_KEPT_MS = 24 * 3_600_000;

export interface KeptStore {
  get<T>(key: string): T | undefined;
  put<T>(key: string, value: T): void;
  delete(key: string): boolean;
}

const STORED_OUTCOME = "outcome";

export class IdempotentWrite {
  readonly #store: KeptStore;
  readonly #now: () => number;
  #running: { bodyHash: string; outcome: Promise<WriteOutcome> } | undefined;

  constructor(store: KeptStore, now: () => number) {
    this.#store = store;
    this.#now = now;
  }

  /** The write's outcome for this body: made now (first), the first's again (repeat), or a conflict. */
  async run(bodyHash: string, write: () => Promise<WriteOutcome>): Promise<IdempotentResult> {
    const kept = this.#kept();
    if (kept) return kept.bodyHash === bodyHash ? { kind: "repeat", outcome: kept.outcome } : { kind: "conflict" };
    const running = this.#running;
    if (running) {
      if (running.bodyHash !== bodyHash) return { kind: "conflict" };
      return { kind: "repeat", outcome: await running.outcome };
    }
    const outcome = write();
    this.#running = { bodyHash, outcome };
    try {
      const done = await outcome;
      if (done.reachedUpstream) this.#store.put<Kept>(STORED_OUTCOME, { bodyHash, outcome: done, at: this.#now() });
      return { kind: "first", outcome: done };
    } finally {
      this.#running = undefined;
    }
  }

  /** When the kept outcome is to be forgotten (for the object's alarm); none kept: undefined. */
  expiresAt(): number | undefined {
    const kept = this.#store.get<Kept>(STORED_OUTCOME);
    return kept ? kept.at + IDEMPOTENCY_KEPT_MS : undefined;
  }

  #kept(): Kept | undefined {
    const kept = this.#store.get<Kept>(STORED_OUTCOME);
    if (kept && this.#now() - kept.at >= IDEMPOTENCY_KEPT_MS) {
      this.#store.delete(STORED_OUTCOME);
      return undefined;
    }
    return kept;
  }
}
