import { reset } from "cloudflare:test";
import { afterEach, beforeEach, vi } from "vitest";
import { logger } from "../../src/log.ts";
import { startNewIsolate } from "./proxy.ts";

// Every log line is watched (the spy calls through), so tests can assert what the proxy logged.
beforeEach(() => {
  vi.spyOn(logger, "write");
});

// Every spy (the fake upstream behind fetch, the clock, console) is undone after each test.
afterEach(() => {
  vi.restoreAllMocks();
});

// Every test starts with empty caches and fresh Durable Objects (the budget gate and the
// shared tier), whatever the tests before it spent or stored.
afterEach(async () => {
  startNewIsolate();
  await reset();
});
