/**
 * @module Whether webhooks are arriving, as one data centre sees it: it asks the change
 * feed when the last change arrived at most every 15 s (in the background), and while
 * that is within `PUSHED_TTL_SECONDS` active-session answers are pushed: the shared tier
 * keeps them for that long, and changes renew them. Once no change has arrived for that
 * long (the webhook was deleted, deliveries fail, or nothing happened), answers go back
 * to their TTL: polling is correct without webhooks, only dearer.
 */
import { logger } from "../log.ts";

/** How often a data centre asks the change feed whether webhooks are arriving. */
export const LIVENESS_CHECK_MS = 15_000;

export interface PushedFreshnessOptions {
  pushedTtlSeconds: number;
  /** When the change feed received its last change (undefined: never). */
  lastChangeAt: () => Promise<number | undefined>;
  now: () => number;
}

export class PushedFreshness {
  readonly #options: PushedFreshnessOptions;
  #lastChangeAt: number | undefined;
  #checkedAt = Number.NEGATIVE_INFINITY;
  #checking: Promise<void> | undefined;

  constructor(options: PushedFreshnessOptions) {
    this.#options = options;
  }

  /** The shared tier's TTL for active-session answers now, or undefined while webhooks are not arriving. */
  ttlSeconds(waitUntil: (promise: Promise<unknown>) => void): number | undefined {
    const { now, pushedTtlSeconds } = this.#options;
    if (now() - this.#checkedAt >= LIVENESS_CHECK_MS && !this.#checking) waitUntil(this.#check());
    const last = this.#lastChangeAt;
    return last !== undefined && now() - last < pushedTtlSeconds * 1000 ? pushedTtlSeconds : undefined;
  }

  #check(): Promise<void> {
    this.#checking ??= this.#options
      .lastChangeAt()
      .then((at) => {
        this.#lastChangeAt = at;
        this.#checkedAt = this.#options.now();
      })
      .catch((error: unknown) => {
        // Not pushed until the feed answers: answers keep their TTL, which is always safe.
        this.#lastChangeAt = undefined;
        this.#checkedAt = this.#options.now();
        logger.write("error", {
          event: "change_feed_unreachable",
          hint: "the change feed Durable Object failed: active sessions are polled at their TTL until it answers",
          error: error instanceof Error ? error.name : typeof error,
        });
      })
      .finally(() => {
        this.#checking = undefined;
      });
    return this.#checking;
  }
}
