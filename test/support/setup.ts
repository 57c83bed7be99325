import { reset } from "cloudflare:test";
import { afterEach, beforeEach, expect, vi } from "vitest";
import worker from "../../src/index.ts";
import { logger } from "../../src/log.ts";
import { requestsToDataCentres, startNewIsolate } from "./proxy.ts";

// Every request the Worker handles in any test must produce exactly one request log
// line: both are counted here (the spies call through) and compared after each test.
let dataCentreRequestsBefore = 0;
beforeEach(() => {
  dataCentreRequestsBefore = requestsToDataCentres();
  vi.spyOn(worker, "fetch");
  vi.spyOn(logger, "write");
});

// Every spy (the fake upstream behind fetch, the clock, console) is undone after each test.
afterEach(() => {
  const handled = vi.mocked(worker.fetch).mock.calls.length + requestsToDataCentres() - dataCentreRequestsBefore;
  const requestLines = vi.mocked(logger.write).mock.calls.filter(([, entry]) => entry.event === "request").length;
  vi.restoreAllMocks();
  expect(requestLines, "request log lines for the requests the Worker handled").toBe(handled);
});

// Every test starts with empty caches and fresh Durable Objects (the budget gate and the
// shared tier), whatever the tests before it spent or stored.
afterEach(async () => {
  startNewIsolate();
  await reset();
});
