import { describe, expect, it } from "vitest";
import {
  callProxy,
  captureLogs,
  errorBody,
  LIVE_V2_MEETING,
  proxyWith,
  uncachedSessionsPath,
  useFakeClock,
  useFakeUpstream,
} from "../support/proxy.ts";

const ACTIVE = `/meetings/${LIVE_V2_MEETING}/active-session`;
const realtimeKitError = (code: number, message: string) =>
  JSON.stringify({ success: false, error: { code, message } });
const v4Error = (code: number, message: string) =>
  JSON.stringify({ success: false, errors: [{ code, message }], messages: [], result: null });
const HTML_PAGE = "<html><body><h1>502 Bad Gateway</h1></body></html>";

async function expectError(response: Response, status: number, message: string | RegExp) {
  expect(response.status).toBe(status);
  expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
  expect(response.headers.get("Cache-Control")).toBe("no-store");
  const body = await errorBody(response);
  expect(body).toMatchObject({ success: false, error: { code: status } });
  expect(body.error.message).toMatch(message);
}

describe("upstream 4xx", () => {
  it.each([
    ["the RealtimeKit shape", realtimeKitError(404, "Meeting not found"), "Meeting not found"],
    ["the Cloudflare v4 shape", v4Error(7003, "Could not route to /accounts"), "Could not route to /accounts"],
    ["a non-JSON body", "Not Found", "not found upstream"],
  ])("404 in %s is a 404 with the upstream's message", async (_, body, message) => {
    const fake = useFakeUpstream();
    fake.failNext({ status: 404, body });
    await expectError(await callProxy(ACTIVE), 404, message);
  });

  it.each([
    [400, realtimeKitError(400, "per_page is too large"), "per_page is too large"],
    [422, v4Error(1004, "Invalid time range"), "Invalid time range"],
    [409, "conflict", "upstream refused the request (409)"],
  ])("%i keeps its status and the upstream's message", async (status, body, message) => {
    const fake = useFakeUpstream();
    fake.failNext({ status, body });
    await expectError(await callProxy(uncachedSessionsPath()), status, message);
    expect(fake.requests).toHaveLength(1);
  });

  it("joins every message of a v4 error list", async () => {
    const fake = useFakeUpstream();
    fake.failNext({
      status: 400,
      body: JSON.stringify({ success: false, errors: [{ message: "first" }, { message: "second" }] }),
    });
    await expectError(await callProxy(uncachedSessionsPath()), 400, "first; second");
  });

  it.each([401, 403])(
    "%i becomes a 502 about the proxy's credentials, logged as an error, not retried",
    async (status) => {
      const logs = captureLogs();
      const fake = useFakeUpstream();
      fake.failNext({ status, body: v4Error(10000, "Authentication error") });
      await expectError(await callProxy(uncachedSessionsPath()), 502, "upstream rejected the proxy's credentials");
      expect(fake.requests).toHaveLength(1);
      expect(logs.some((line) => line.includes('"level":"error"') && line.includes("upstream_credentials"))).toBe(true);
    },
  );

  it("a wrong token is answered 401 by the fake and mapped to 502", async () => {
    useFakeUpstream({ token: "another-token" });
    captureLogs();
    await expectError(await callProxy(ACTIVE), 502, "credentials");
  });
});

describe("upstream 429: never retried, it pauses every upstream call", () => {
  async function expectPaused(response: Response, retryAfter: string) {
    await expectError(response, 503, /every upstream call is paused/);
    expect(response.headers.get("Retry-After")).toBe(retryAfter);
  }

  it("with Retry-After in seconds: a 503 with that Retry-After, one upstream call, no wait", async () => {
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    fake.failNext({ status: 429, body: v4Error(971, "Please wait"), headers: { "Retry-After": "120" } });
    await expectPaused(await callProxy(uncachedSessionsPath()), "120");
    expect(fake.requests).toHaveLength(1);
    expect(clock.waits).toEqual([]);
  });

  it("the pause holds for every route and key until it ends, without reaching the upstream", async () => {
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    fake.failNext({ status: 429, headers: { "Retry-After": "120" } });
    await callProxy(uncachedSessionsPath());
    clock.advance(20_000);
    await expectPaused(await callProxy(ACTIVE), "100");
    await expectPaused(await proxyWith()(uncachedSessionsPath()), "100");
    expect(fake.requests).toHaveLength(1);
    clock.advance(100_000);
    expect((await callProxy(ACTIVE)).status).toBe(200);
    expect(fake.requests).toHaveLength(2);
  });

  it("with Retry-After as an HTTP date: paused until that date", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const inNinetySeconds = new Date(Date.UTC(2026, 10, 22, 12, 1, 30)).toUTCString();
    fake.failNext({ status: 429, headers: { "Retry-After": inNinetySeconds } });
    await expectPaused(await callProxy(uncachedSessionsPath()), "90");
    expect(fake.requests).toHaveLength(1);
  });

  it.each([
    ['"default";r=0;t=240', "240"],
    ["limit=1200, remaining=0, reset=180", "180"],
  ])("with only a RateLimit header (%s): paused until its reset", async (rateLimit, retryAfter) => {
    useFakeClock();
    const fake = useFakeUpstream();
    fake.failNext({ status: 429, headers: { RateLimit: rateLimit } });
    await expectPaused(await callProxy(uncachedSessionsPath()), retryAfter);
    expect(fake.requests).toHaveLength(1);
  });

  it("with nothing to say how long: paused for UPSTREAM_PAUSE_SECONDS (300 by default)", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    fake.failNext({ status: 429 }, { status: 429 });
    await expectPaused(await callProxy(uncachedSessionsPath()), "300");
    await expectPaused(await proxyWith({ UPSTREAM_PAUSE_SECONDS: "45" })(uncachedSessionsPath()), "300");
    expect(fake.requests).toHaveLength(1);
  });

  it("UPSTREAM_PAUSE_SECONDS sets the default pause", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    fake.failNext({ status: 429 });
    await expectPaused(await proxyWith({ UPSTREAM_PAUSE_SECONDS: "45" })(uncachedSessionsPath()), "45");
    expect(fake.requests).toHaveLength(1);
  });
});

describe("upstream 5xx, network errors and bad bodies", () => {
  it.each([500, 502, 503, 504])("%i is retried twice, with full-jitter backoff, then a 502", async (status) => {
    const clock = useFakeClock(0.5);
    const fake = useFakeUpstream();
    fake.failNext({ status, body: HTML_PAGE }, { status, body: HTML_PAGE }, { status, body: HTML_PAGE });
    await expectError(await callProxy(uncachedSessionsPath()), 502, `upstream failed with status ${status}`);
    expect(fake.requests).toHaveLength(3);
    expect(clock.waits).toEqual([50, 100]);
  });

  it("jitter is drawn from the whole window, from zero up", async () => {
    const clock = useFakeClock(0.999);
    const fake = useFakeUpstream();
    fake.failNext({ status: 500 }, { status: 500 }, { status: 500 });
    await callProxy(uncachedSessionsPath());
    expect(clock.waits).toEqual([99, 199]);
  });

  it("a 5xx followed by a success answers the success", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    fake.failNext({ status: 503, body: HTML_PAGE });
    const response = await callProxy(ACTIVE);
    expect(response.status).toBe(200);
    expect(fake.requests).toHaveLength(2);
  });

  it("a network error is retried, then answered 502", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    fake.failNext({ network: true }, { network: true }, { network: true });
    await expectError(await callProxy(uncachedSessionsPath()), 502, "upstream could not be reached");
    expect(fake.requests).toHaveLength(3);
  });

  it("a 408 is retried and then passed through", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    fake.failNext({ status: 408 }, { status: 408 }, { status: 408 });
    await expectError(await callProxy(uncachedSessionsPath()), 408, /408/);
    expect(fake.requests).toHaveLength(3);
  });

  it.each([
    ["HTML", HTML_PAGE],
    ["empty", ""],
    ["a JSON array", "[]"],
    ["an error envelope", realtimeKitError(500, "oops")],
    ["JSON without success", '{"data":{}}'],
    ["truncated JSON", '{"success":true,"data":{'],
  ])("a 200 with %s body is a 502, not retried", async (_, body) => {
    const fake = useFakeUpstream();
    fake.failNext({ status: 200, body });
    await expectError(await callProxy(uncachedSessionsPath()), 502, "malformed");
    expect(fake.requests).toHaveLength(1);
  });

  it("a redirect is not followed: the token stays with the upstream", async () => {
    const fake = useFakeUpstream();
    fake.failNext({ status: 302, headers: { Location: "https://elsewhere.example/steal" } });
    await expectError(await callProxy(uncachedSessionsPath()), 502, /302/);
    expect(fake.requests).toHaveLength(1);
  });

  it("the retry budget follows UPSTREAM_MAX_RETRIES", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    fake.failNext(...Array.from({ length: 6 }, () => ({ status: 500 })));
    const response = await proxyWith({ UPSTREAM_MAX_RETRIES: "4" })(uncachedSessionsPath());
    expect(response.status).toBe(502);
    expect(fake.requests).toHaveLength(5);
  });

  it("UPSTREAM_MAX_RETRIES=0 makes one attempt only", async () => {
    const fake = useFakeUpstream();
    fake.failNext({ status: 500 }, { status: 500 });
    expect((await proxyWith({ UPSTREAM_MAX_RETRIES: "0" })(uncachedSessionsPath())).status).toBe(502);
    expect(fake.requests).toHaveLength(1);
  });
});

describe("upstream bodies over 2 MiB", () => {
  it("are not read further: a 502, and nothing is stored", async () => {
    const fake = useFakeUpstream();
    const huge = JSON.stringify({ success: true, data: { sessions: [], padding: "x".repeat(2 * 1024 * 1024) } });
    fake.failNext({ status: 200, body: huge });
    const path = uncachedSessionsPath();
    await expectError(await callProxy(path), 502, "upstream answered with a body over 2 MiB");
    expect((await callProxy(path)).headers.get("Cache-Status")).toBe("realtimekit-proxy; fwd=miss; stored");
    expect(fake.requests).toHaveLength(2);
  });

  it("a body just under the cap is an answer", async () => {
    const fake = useFakeUpstream();
    const body = JSON.stringify({ success: true, data: { sessions: [], padding: "x".repeat(2 * 1024 * 1024 - 100) } });
    fake.failNext({ status: 200, body });
    expect((await callProxy(uncachedSessionsPath())).status).toBe(200);
  });
});

describe("timeouts and the overall deadline", () => {
  it("a hanging upstream is a 504 after the per-attempt timeout", async () => {
    const fake = useFakeUpstream();
    fake.failNext({ hang: true });
    const response = await proxyWith({ UPSTREAM_TIMEOUT_MS: "100", UPSTREAM_MAX_RETRIES: "0" })(ACTIVE);
    await expectError(response, 504, "upstream did not answer in time");
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]?.signal.aborted).toBe(true);
  });

  it("a timeout counts as a network error and is retried", async () => {
    // The clock only moves when the proxy sleeps: the retry's jitter never outlasts the deadline.
    useFakeClock();
    const fake = useFakeUpstream();
    fake.failNext({ hang: true });
    const response = await proxyWith({ UPSTREAM_TIMEOUT_MS: "100", UPSTREAM_MAX_RETRIES: "1" })(ACTIVE);
    expect(response.status).toBe(200);
    expect(fake.requests).toHaveLength(2);
  });

  it("no retry waits past the overall deadline (capped at 10 s)", async () => {
    // 5000 ms x (5 + 1) would be 30 s; the cap makes it 10 s: two 4 s waits fit, a third does not.
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    const unavailable = { status: 503, headers: { "Retry-After": "4" } };
    fake.failNext(unavailable, unavailable, unavailable, unavailable, unavailable, unavailable);
    const response = await proxyWith({ UPSTREAM_TIMEOUT_MS: "5000", UPSTREAM_MAX_RETRIES: "5" })(
      uncachedSessionsPath(),
    );
    expect(response.status).toBe(502);
    expect(fake.requests).toHaveLength(3);
    expect(clock.waits).toEqual([4000, 4000]);
  });

  it("the deadline is the per-attempt timeout times the attempts when that is under 10 s", async () => {
    // 1000 ms x 3 = 3 s: a 2 s wait fits once, not twice.
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    const unavailable = { status: 503, headers: { "Retry-After": "2" } };
    fake.failNext(unavailable, unavailable, unavailable);
    const response = await proxyWith({ UPSTREAM_TIMEOUT_MS: "1000" })(uncachedSessionsPath());
    expect(response.status).toBe(502);
    expect(fake.requests).toHaveLength(2);
    expect(clock.waits).toEqual([2000]);
  });
});
