/**
 * @module The clock, randomness and timers the proxy depends on, in one object so that
 * tests replace them (vi.spyOn) instead of sleeping or guessing jitter.
 */

/** What `within` found: the promise's value, or that the time ran out first. */
export type Within<T> = { settled: true; value: T } | { settled: false };

export const runtime = {
  now: (): number => Date.now(),
  random: (): number => Math.random(),
  sleep: (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms)),
  /**
   * The promise's value if it settles within `ms`, else `{ settled: false }` (the promise
   * goes on). A real timer even under a test's fake clock, which makes `sleep` return
   * at once: a caller waits for a slow upstream in real time.
   */
  within<T>(promise: Promise<T>, ms: number): Promise<Within<T>> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<Within<T>>((resolve) => {
      timer = setTimeout(() => resolve({ settled: false }), ms);
    });
    const settled = promise.then((value): Within<T> => ({ settled: true, value }));
    return Promise.race([settled, timedOut]).finally(() => {
      if (timer !== undefined) clearTimeout(timer);
    });
  },
};
