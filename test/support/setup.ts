import { afterEach, vi } from "vitest";

// Every spy (the fake upstream behind fetch, the clock, console) is undone after each test.
afterEach(() => {
  vi.restoreAllMocks();
});
