/**
 * @module Sends this isolate's usage counts to each key's object: at most once a minute a
 * key (in the background, after the answer), and at once when that key's usage is asked
 * for. Counts that cannot be sent are kept for the next time.
 */
import { logger } from "../log.ts";
import type { KeyStore } from "./store.ts";
import type { UsageCounter, UsageEvent } from "./usage.ts";

/** A key as usage is kept for it: managed, or a config key (its usage in an object of its own name). */
export interface UsageOwner {
  source: "managed" | "config";
  id: string;
}

export class UsageReporting {
  readonly #counter: UsageCounter;
  readonly #store: KeyStore;
  readonly #now: () => number;

  constructor(counter: UsageCounter, store: KeyStore, now: () => number) {
    this.#counter = counter;
    this.#store = store;
    this.#now = now;
  }

  /** Counts a request; when the key's counts are due, sends them in `background`. */
  count(owner: UsageOwner, event: UsageEvent, background: (work: Promise<unknown>) => void): void {
    if (this.#counter.count(`${owner.source}:${owner.id}`, event, this.#now())) background(this.send(owner));
  }

  /** Sends what this isolate counted for the key, now. */
  async send(owner: UsageOwner): Promise<void> {
    const slot = `${owner.source}:${owner.id}`;
    const batch = this.#counter.take(slot, this.#now());
    if (!batch) return;
    try {
      await this.#store.record(owner.source, owner.id, batch);
    } catch (error) {
      this.#counter.restore(slot, batch);
      logger.write("error", {
        event: "key_usage_unsent",
        hint: "a key's object could not take this isolate's usage counts: they are kept and sent with the next ones",
        error: error instanceof Error ? error.name : typeof error,
      });
    }
  }
}
