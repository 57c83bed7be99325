/**
 * @module The clock, randomness and sleep the proxy depends on, in one object so
 * that tests replace them (vi.spyOn) instead of sleeping or guessing jitter.
 */
export const runtime = {
  now: (): number => Date.now(),
  random: (): number => Math.random(),
  sleep: (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms)),
};
