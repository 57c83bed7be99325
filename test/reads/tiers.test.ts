import { describe, expect, it, vi } from "vitest";
import { logger } from "../../src/log.ts";
import { runtime } from "../../src/runtime.ts";
import {
  callProxy,
  errorBody,
  holdUpstream,
  IDLE_V2_MEETING,
  LIVE_V2_MEETING,
  proxyAnsweringFirst,
  proxyWith,
  uncachedSessionsPath,
  useFakeClock,
  useFakeUpstream,
} from "../support/proxy.ts";

const ACTIVE = `/meetings/${LIVE_V2_MEETING}/active-session`;
const successBody = (marker: string) => JSON.stringify({ success: true, data: { sessions: [], marker } });

describe("fresh answers", () => {
  it("a miss is forwarded and stored, then the same query is a hit without the upstream", async () => {
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    const call = proxyWith();
    const path = uncachedSessionsPath();

    const miss = await call(path);
    expect(miss.status).toBe(200);
    expect(miss.headers.get("Cache-Status")).toBe("realtimekit-proxy; fwd=miss; stored");
    expect(miss.headers.get("Age")).toBe("0");
    expect(miss.headers.get("Cache-Control")).toBe("private, max-age=10");

    clock.advance(3_000);
    const hit = await call(path);
    expect(hit.status).toBe(200);
    expect(hit.headers.get("Cache-Status")).toBe("realtimekit-proxy; hit; ttl=7");
    expect(hit.headers.get("Age")).toBe("3");
    expect(hit.headers.get("Cache-Control")).toBe("private, max-age=7");
    expect(hit.headers.get("Content-Type")).toBe("application/json");
    expect(await hit.text()).toBe(await miss.text());
    expect(fake.requests).toHaveLength(1);
  });

  it("equivalent queries share one entry: param order, time offsets, leading zeros", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const call = proxyWith();
    await call("/sessions?status=ENDED&per_page=5&start_time=2026-10-01T10:00:00Z&search=equivalent");
    for (const path of [
      "/sessions?search=equivalent&per_page=5&status=ENDED&start_time=2026-10-01T10:00:00Z",
      "/sessions?start_time=2026-10-01T12:00:00%2B02:00&status=ENDED&per_page=005&search=equivalent",
      "/sessions?per_page=5&start_time=2026-10-01T10:00:00.000Z&search=equivalent&status=ENDED",
    ]) {
      const response = await call(path);
      expect(response.headers.get("Cache-Status"), path).toMatch(/; hit; /);
    }
    expect(fake.requests).toHaveLength(1);
  });

  it("a UUID in upper and in lower case is one entry", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const call = proxyWith();
    await call(`/meetings/${LIVE_V2_MEETING.toUpperCase()}/active-session`);
    const lower = await call(`/meetings/${LIVE_V2_MEETING}/active-session`);
    expect(lower.headers.get("Cache-Status")).toMatch(/; hit; /);
    await call(`/sessions?associated_id=${LIVE_V2_MEETING}`);
    const upper = await call(`/sessions?associated_id=${LIVE_V2_MEETING.toUpperCase()}`);
    expect(upper.headers.get("Cache-Status")).toMatch(/; hit; /);
    expect(fake.requests).toHaveLength(2);
  });

  it("different queries are different entries", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const call = proxyWith();
    await call("/sessions?status=LIVE&search=different");
    const other = await call("/sessions?status=ENDED&search=different");
    expect(other.headers.get("Cache-Status")).toBe("realtimekit-proxy; fwd=miss; stored");
    expect(fake.requests).toHaveLength(2);
  });

  it("an entry outlives the isolate that stored it: a new isolate hits caches.default", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const path = uncachedSessionsPath();
    await proxyWith()(path);
    const fromSharedCache = await proxyWith()(path);
    expect(fromSharedCache.headers.get("Cache-Status")).toBe("realtimekit-proxy; hit; ttl=10");
    expect(fake.requests).toHaveLength(1);
  });

  it("the key holds the app: another app's proxy does not get this app's entry", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const path = uncachedSessionsPath();
    await proxyWith()(path);
    const otherApp = await proxyWith({ REALTIMEKIT_APP_ID: "another-app" })(path);
    expect(otherApp.status).toBe(404);
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[1]?.url).toContain("/realtime/kit/another-app/sessions");
  });

  it("the key holds the account too", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const path = uncachedSessionsPath();
    await proxyWith()(path);
    await proxyWith({ CLOUDFLARE_ACCOUNT_ID: "ffffffffffffffffffffffffffffffff" })(path);
    expect(fake.requests).toHaveLength(2);
  });

  it("SESSIONS_CACHE_TTL_SECONDS=0 turns caching off", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const call = proxyWith({ SESSIONS_CACHE_TTL_SECONDS: "0" });
    const path = uncachedSessionsPath();
    await call(path);
    const second = await call(path);
    expect(second.headers.get("Cache-Status")).toBe("realtimekit-proxy; fwd=miss");
    expect(second.headers.get("Cache-Control")).toBe("private, max-age=0");
    expect(fake.requests).toHaveLength(2);
  });
});

describe("what is stored", () => {
  it.each([
    ["a 400", { status: 400, body: '{"success":false,"error":{"code":400,"message":"bad"}}' }],
    ["a 500", { status: 500, body: "oops" }],
    ["a 203 success", { status: 203, body: successBody("non-authoritative") }],
  ])("%s is never stored", async (_, fault) => {
    useFakeClock();
    const fake = useFakeUpstream();
    const call = proxyWith({ UPSTREAM_MAX_RETRIES: "0" });
    const path = uncachedSessionsPath();
    fake.failNext(fault);
    await call(path);
    const next = await call(path);
    expect(next.status).toBe(200);
    expect(next.headers.get("Cache-Status")).toBe("realtimekit-proxy; fwd=miss; stored");
    expect(fake.requests).toHaveLength(2);
  });

  it("errors carry Cache-Control: no-store and no cache headers", async () => {
    const fake = useFakeUpstream();
    fake.failNext({ status: 400, body: "" });
    const response = await proxyWith()(uncachedSessionsPath());
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    expect(response.headers.has("ETag")).toBe(false);
    expect(response.headers.has("Cache-Status")).toBe(false);
  });
});

describe("stale-while-revalidate", () => {
  it("serves the stale copy at once and refreshes it in the background", async () => {
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    const call = proxyWith();
    const path = uncachedSessionsPath();
    fake.failNext({ status: 200, body: successBody("first") });
    await call(path);

    clock.advance(12_000);
    fake.failNext({ status: 200, body: successBody("refreshed") });
    const stale = await call(path);
    expect(await stale.json()).toMatchObject({ data: { marker: "first" } });
    expect(stale.headers.get("Cache-Status")).toBe("realtimekit-proxy; hit; ttl=-2; detail=stale-while-revalidate");
    expect(stale.headers.get("Age")).toBe("12");
    expect(stale.headers.get("Cache-Control")).toBe("private, max-age=0");
    expect(fake.requests).toHaveLength(2);

    const afterRefresh = await call(path);
    expect(afterRefresh.headers.get("Cache-Status")).toBe("realtimekit-proxy; hit; ttl=10");
    expect(await afterRefresh.json()).toMatchObject({ data: { marker: "refreshed" } });
    expect(fake.requests).toHaveLength(2);
  });

  it("makes one background refresh per key however many stale answers are served", async () => {
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    const proxyEnv = proxyWith();
    const path = uncachedSessionsPath();
    await proxyEnv(path);
    clock.advance(15_000);
    const held = holdUpstream(fake);
    const stale = Promise.all(Array.from({ length: 10 }, () => proxyEnv(path)));
    await held.releaseWhen(10);
    const answers = await stale;
    expect(answers.every((r) => r.headers.get("Cache-Status")?.includes("stale-while-revalidate"))).toBe(true);
    expect(fake.requests).toHaveLength(2);
  });

  it("a failed background refresh keeps the stale copy", async () => {
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    const call = proxyWith({ UPSTREAM_MAX_RETRIES: "0" });
    const path = uncachedSessionsPath();
    await call(path);
    clock.advance(20_000);
    fake.failNext({ status: 500 });
    await call(path);
    const again = await call(path);
    expect(again.status).toBe(200);
    expect(again.headers.get("Cache-Status")).toMatch(/detail=stale-while-revalidate/);
    expect(vi.mocked(logger.write)).toHaveBeenCalledWith("error", {
      event: "background_refresh_failed",
      kind: "upstream_unavailable",
    });
  });
});

describe("stale-if-error", () => {
  // Past ttl (10 s) + SWR (30 s), within ttl + stale-if-error (300 s).
  const PAST_SWR_MS = 50_000;
  const PAST_EVERY_WINDOW_MS = 311_000;

  /** One stored list answer ("kept"), then the clock moved on: `next()` asks for it again. */
  async function storedThenAged(agedMs: number, overrides: Record<string, unknown> = {}) {
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    const call = proxyWith(overrides);
    const path = uncachedSessionsPath();
    fake.failNext({ status: 200, body: successBody("kept") });
    await call(path);
    clock.advance(agedMs);
    return { fake, next: () => call(path) };
  }

  it.each([
    ["a 5xx", [{ status: 500 }, { status: 502 }, { status: 503 }], {}],
    ["a network error", [{ network: true as const }, { network: true as const }, { network: true as const }], {}],
    ["a malformed body", [{ status: 200, body: "<html>" }], {}],
    ["a timeout", [{ hang: true as const }], { UPSTREAM_TIMEOUT_MS: "100", UPSTREAM_MAX_RETRIES: "0" }],
  ])("serves the stale copy when the upstream fails with %s", async (_, faults, overrides) => {
    const { fake, next } = await storedThenAged(PAST_SWR_MS, overrides);
    fake.failNext(...faults);
    const response = await next();
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ data: { marker: "kept" } });
    expect(response.headers.get("Cache-Status")).toBe("realtimekit-proxy; hit; ttl=-40; detail=stale-if-error");
    expect(response.headers.get("Age")).toBe("50");
  });

  it("serves the stale copy with detail=paused when the upstream answers 429, and pauses every call", async () => {
    const { fake, next } = await storedThenAged(PAST_SWR_MS);
    fake.failNext({ status: 429, headers: { "Retry-After": "600" } });
    const response = await next();
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ data: { marker: "kept" } });
    expect(response.headers.get("Cache-Status")).toBe("realtimekit-proxy; hit; ttl=-40; detail=paused");
    expect(fake.requests).toHaveLength(2);
  });

  it("forwards past the SWR window, and stores the upstream's answer when it succeeds", async () => {
    const { fake, next } = await storedThenAged(PAST_SWR_MS);
    expect((await next()).headers.get("Cache-Status")).toBe("realtimekit-proxy; fwd=stale; stored");
    expect(fake.requests).toHaveLength(2);
  });

  it("does not cover an upstream 404: that is an answer, not a failure", async () => {
    const { fake, next } = await storedThenAged(PAST_SWR_MS);
    fake.failNext({ status: 404, body: '{"success":false,"error":{"code":404,"message":"App not found"}}' });
    expect((await next()).status).toBe(404);
  });

  it("past every window the entry is not used: the failure reaches the caller", async () => {
    const { fake, next } = await storedThenAged(PAST_EVERY_WINDOW_MS, { UPSTREAM_MAX_RETRIES: "0" });
    fake.failNext({ status: 500 });
    const response = await next();
    expect(response.status).toBe(502);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
  });

  it("past every window a success is a plain miss", async () => {
    const { fake, next } = await storedThenAged(PAST_EVERY_WINDOW_MS);
    expect((await next()).headers.get("Cache-Status")).toBe("realtimekit-proxy; fwd=miss; stored");
    expect(fake.requests).toHaveLength(2);
  });

  it("a slow upstream: a caller who can be given the stale copy gets it after STALE_IF_SLOW_MS, and the load goes on for the next caller", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const call = proxyAnsweringFirst({ STALE_IF_SLOW_MS: "50" });
    const path = uncachedSessionsPath();
    fake.failNext({ status: 200, body: successBody("kept") });
    await (await call(path)).settled;
    vi.mocked(runtime.now).mockReturnValue(Date.UTC(2026, 10, 22, 12, 0, 50));
    let release = () => {};
    fake.failNext({ until: new Promise<void>((resolve) => (release = resolve)) });
    const slow = await call(path);
    // The upstream has not answered yet: the caller already has the stored copy.
    expect(await slow.response.json()).toMatchObject({ data: { marker: "kept" } });
    expect(slow.response.headers.get("Cache-Status")).toBe("realtimekit-proxy; hit; ttl=-40; detail=stale-if-error");
    release();
    await slow.settled;
    // The load finished: the next caller gets its answer, fresh, without another upstream call (from this
    // data centre's tier, or the key's shared object, depending on which gave up waiting first).
    const next = await call(path);
    expect(next.response.headers.get("Cache-Status")).toMatch(/^realtimekit-proxy; hit; ttl=10(; detail=shared)?$/);
    expect(await next.response.json()).not.toMatchObject({ data: { marker: "kept" } });
    expect(fake.requests).toHaveLength(2);
  });

  it("without a stored copy to give, a caller waits for the slow upstream", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const call = proxyAnsweringFirst({ STALE_IF_SLOW_MS: "0" });
    let release = () => {};
    fake.failNext({ until: new Promise<void>((resolve) => (release = resolve)) });
    const pending = call(uncachedSessionsPath());
    setTimeout(() => release(), 50);
    const { response } = await pending;
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Status")).toBe("realtimekit-proxy; fwd=miss; stored");
  });

  it("STALE_IF_ERROR_SECONDS=0 turns it off", async () => {
    const off = { STALE_IF_ERROR_SECONDS: "0", STALE_WHILE_REVALIDATE_SECONDS: "0", UPSTREAM_MAX_RETRIES: "0" };
    const { fake, next } = await storedThenAged(11_000, off);
    fake.failNext({ status: 500 });
    expect((await next()).status).toBe(502);
  });
});

describe("request coalescing", () => {
  it("100 concurrent identical cold requests make one upstream request", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const held = holdUpstream(fake);
    const path = uncachedSessionsPath();
    const pending = Promise.all(Array.from({ length: 100 }, () => callProxy(path)));
    await held.releaseWhen(100);
    const responses = await pending;
    expect(responses.map((r) => r.status)).toEqual(Array(100).fill(200));
    const bodies = new Set(await Promise.all(responses.map((r) => r.text())));
    expect(bodies.size).toBe(1);
    expect(fake.requests).toHaveLength(1);
  });

  it("a failure of the shared request reaches every waiter as its own error response", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const held = holdUpstream(fake);
    const path = `/meetings/${IDLE_V2_MEETING}/active-session`;
    const pending = Promise.all(
      Array.from({ length: 5 }, (_, i) => callProxy(path, { headers: { "X-Request-Id": `w${i}` } })),
    );
    await held.releaseWhen(5);
    const responses = await pending;
    expect(fake.requests).toHaveLength(1);
    for (const [i, response] of responses.entries()) {
      expect(response.status).toBe(404);
      expect(response.headers.get("X-Request-Id")).toBe(`w${i}`);
      expect(await errorBody(response)).toMatchObject({ error: { code: 404 } });
    }
  });

  it("active-session is cached for ACTIVE_SESSION_CACHE_TTL_SECONDS (5 s by default)", async () => {
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    const first = await callProxy(ACTIVE);
    clock.advance(4_000);
    const second = await callProxy(ACTIVE);
    expect(first.headers.get("Cache-Control")).toBe("private, max-age=5");
    expect(second.headers.get("Cache-Status")).toBe("realtimekit-proxy; hit; ttl=1");
    expect(fake.requests).toHaveLength(1);
    clock.advance(1_000);
    const third = await callProxy(ACTIVE);
    expect(third.headers.get("Cache-Status")).toMatch(/detail=stale-while-revalidate/);
    expect(fake.requests).toHaveLength(2);
  });

  it("ACTIVE_SESSION_CACHE_TTL_SECONDS=0 stores nothing, but concurrent requests still share one call", async () => {
    const fake = useFakeUpstream();
    const call = proxyWith({ ACTIVE_SESSION_CACHE_TTL_SECONDS: "0" });
    await call(ACTIVE);
    expect((await call(ACTIVE)).headers.get("Cache-Status")).toBe("realtimekit-proxy; fwd=miss");
    expect(fake.requests).toHaveLength(2);
    const held = holdUpstream(fake);
    const pending = Promise.all(Array.from({ length: 10 }, () => call(ACTIVE)));
    await held.releaseWhen(10);
    expect((await pending).every((r) => r.status === 200)).toBe(true);
    expect(fake.requests).toHaveLength(3);
  });

  it("concurrent identical active-session requests share one upstream call", async () => {
    const fake = useFakeUpstream();
    const held = holdUpstream(fake);
    const pending = Promise.all(Array.from({ length: 20 }, () => callProxy(ACTIVE)));
    await held.releaseWhen(20);
    const responses = await pending;
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(fake.requests).toHaveLength(1);
  });
  it("with caching off, identical requests in flight still share one upstream call", async () => {
    const fake = useFakeUpstream();
    const held = holdUpstream(fake);
    const call = proxyWith({ SESSIONS_CACHE_TTL_SECONDS: "0" });
    const path = uncachedSessionsPath();
    const pending = Promise.all(Array.from({ length: 10 }, () => call(path)));
    await held.releaseWhen(10);
    expect((await pending).every((response) => response.status === 200)).toBe(true);
    expect(fake.requests).toHaveLength(1);
  });
});

describe("ETag and 304", () => {
  it("a strong ETag comes with every success, and a matching If-None-Match gets a 304", async () => {
    useFakeClock();
    useFakeUpstream();
    const call = proxyWith();
    const path = uncachedSessionsPath();
    const first = await call(path);
    const etag = first.headers.get("ETag");
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);

    const notModified = await call(path, { headers: { "If-None-Match": etag ?? "", "X-Request-Id": "revalidate-1" } });
    expect(notModified.status).toBe(304);
    expect(await notModified.text()).toBe("");
    expect(notModified.headers.get("ETag")).toBe(etag);
    expect(notModified.headers.get("Cache-Status")).toBe("realtimekit-proxy; hit; ttl=10");
    expect(notModified.headers.get("Cache-Control")).toBe("private, max-age=10");
    expect(notModified.headers.get("Age")).toBe("0");
    expect(notModified.headers.get("X-Request-Id")).toBe("revalidate-1");
    expect(notModified.headers.get("X-Content-Type-Options")).toBe("nosniff");
  });

  it("matches within a list of tags", async () => {
    useFakeUpstream();
    const call = proxyWith();
    const path = uncachedSessionsPath();
    const etag = (await call(path)).headers.get("ETag");
    const response = await call(path, { headers: { "If-None-Match": `"nope", ${etag}` } });
    expect(response.status).toBe(304);
  });

  it("a stale ETag gets the full answer", async () => {
    useFakeUpstream();
    const response = await proxyWith()(uncachedSessionsPath(), { headers: { "If-None-Match": '"0000"' } });
    expect(response.status).toBe(200);
    expect((await response.text()).length).toBeGreaterThan(0);
  });

  it("the ETag follows the body: a changed answer has another tag", async () => {
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    const call = proxyWith({ SESSIONS_CACHE_TTL_SECONDS: "1", STALE_WHILE_REVALIDATE_SECONDS: "0" });
    const path = uncachedSessionsPath();
    fake.failNext({ status: 200, body: successBody("a") }, { status: 200, body: successBody("b") });
    const first = (await call(path)).headers.get("ETag");
    clock.advance(2_000);
    const second = (await call(path)).headers.get("ETag");
    expect(first).not.toBe(second);
  });

  it("active-session answers carry an ETag and honour If-None-Match", async () => {
    useFakeUpstream();
    const etag = (await callProxy(ACTIVE)).headers.get("ETag");
    const response = await callProxy(ACTIVE, { headers: { "If-None-Match": etag ?? "" } });
    expect(response.status).toBe(304);
  });
});

describe("validation comes before the cache", () => {
  it("an invalid request for a cached query still gets its 400", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const call = proxyWith();
    await call("/sessions?status=LIVE&search=validated");
    for (const path of [
      "/sessions?status=LIVE&search=validated&bogus=1",
      "/sessions?status=LIVE&status=LIVE&search=validated",
      "/sessions?status=live&search=validated",
    ]) {
      expect((await call(path)).status, path).toBe(400);
    }
    expect(fake.requests).toHaveLength(1);
  });
});
