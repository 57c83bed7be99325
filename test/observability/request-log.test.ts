import { describe, expect, it, vi } from "vitest";
import { LOCAL_NARROW_API_KEY } from "../../dev/local-keys.ts";
import { logger } from "../../src/log.ts";
import { API_KEY, proxyWith, TOKEN, uncachedSessionsPath, useFakeClock, useFakeUpstream } from "../support/proxy.ts";

type Entry = Record<string, unknown>;

/** The log entries written so far in this test (the setup's spy on logger.write). */
function entries(): { level: string; entry: Entry }[] {
  return vi.mocked(logger.write).mock.calls.map(([level, entry]) => ({ level, entry }));
}
const requestLines = () =>
  entries()
    .filter(({ entry }) => entry.event === "request")
    .map(({ entry }) => entry);
const errorLines = () =>
  entries()
    .filter(({ level }) => level === "error")
    .map(({ entry }) => entry);
const withId = (id: string) => ({ headers: { "X-Request-Id": id } });

describe("the request log line", () => {
  it("is written exactly once for every request, whatever becomes of it", async () => {
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    const call = proxyWith({ ALLOWED_ORIGINS: "https://app.example.com" });
    const path = uncachedSessionsPath();
    const requests: [string, RequestInit & { anonymous?: boolean }][] = [
      [path, {}], // a miss
      [path, {}], // a hit
      ["/sessions?per_page=0", {}], // a 400
      ["/sessions", { anonymous: true }], // a 401
      ["/sessions", { headers: { Authorization: "Bearer rkp_unknown" } }], // an unknown key
      ["/nowhere", {}], // a 404
      ["/sessions", { method: "POST" }], // a 405
      ["/sessions", { method: "OPTIONS", headers: { Origin: "https://app.example.com" } }], // a preflight
      ["/health", {}],
      ["/status", {}],
    ];
    for (const [requestPath, init] of requests) await call(requestPath, init);
    clock.advance(15_000);
    await call(path); // a stale answer, with a background refresh
    fake.failNext({ status: 500 }, { status: 500 }, { status: 500 });
    await call(uncachedSessionsPath()); // an upstream failure: a request line and an error line
    expect(requestLines()).toHaveLength(requests.length + 2);
    expect(errorLines()).toEqual([expect.objectContaining({ event: "upstream_failure" })]);
  });

  it("for a miss: route, status, cache status, upstream status, time and attempts, caller", async () => {
    useFakeClock();
    useFakeUpstream();
    await proxyWith()(uncachedSessionsPath("status=LIVE"), withId("log-miss"));
    expect(requestLines()).toEqual([
      {
        event: "request",
        requestId: "log-miss",
        method: "GET",
        route: "sessions",
        status: 200,
        durationMs: expect.any(Number),
        cacheStatus: "fwd=miss; stored",
        upstreamStatus: 200,
        upstreamDurationMs: expect.any(Number),
        upstreamAttempts: 1,
        permitsLeft: 999,
        caller: "local-every-scope",
        errorKind: undefined,
      },
    ]);
    expect(errorLines()).toEqual([]);
  });

  it("for a hit: no upstream fields", async () => {
    useFakeClock();
    useFakeUpstream();
    const proxyEnv = proxyWith();
    const path = uncachedSessionsPath();
    await proxyEnv(path);
    await proxyEnv(path, withId("log-hit"));
    expect(requestLines()[1]).toMatchObject({
      requestId: "log-hit",
      route: "sessions",
      status: 200,
      cacheStatus: "hit; ttl=10",
      upstreamStatus: undefined,
      upstreamAttempts: undefined,
    });
  });

  it("for an upstream failure: the error kind, and an error line with what to do", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    fake.failNext({ status: 500 }, { status: 500 }, { status: 500 });
    await proxyWith()(uncachedSessionsPath(), withId("log-fail"));
    expect(requestLines()).toEqual([
      expect.objectContaining({
        requestId: "log-fail",
        status: 502,
        upstreamStatus: 500,
        upstreamAttempts: 3,
        errorKind: "upstream_unavailable",
      }),
    ]);
    expect(errorLines()).toEqual([
      expect.objectContaining({
        event: "upstream_failure",
        requestId: "log-fail",
        route: "sessions",
        kind: "upstream_unavailable",
        hint: expect.any(String),
        servedStale: false,
      }),
    ]);
  });

  it("for rejected credentials, the error line says which secret to check", async () => {
    const fake = useFakeUpstream();
    fake.failNext({ status: 403 });
    await proxyWith()(uncachedSessionsPath());
    expect(errorLines()[0]).toMatchObject({
      kind: "upstream_credentials",
      hint: expect.stringContaining("CLOUDFLARE_API_TOKEN"),
    });
  });

  it("a stale copy covering a failure still logs the failure", async () => {
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    const proxyEnv = proxyWith({ UPSTREAM_MAX_RETRIES: "0" });
    const path = uncachedSessionsPath();
    await proxyEnv(path);
    clock.advance(50_000);
    fake.failNext({ status: 503 });
    await proxyEnv(path);
    expect(requestLines()[1]).toMatchObject({ status: 200, cacheStatus: expect.stringContaining("stale-if-error") });
    expect(errorLines()).toEqual([expect.objectContaining({ kind: "upstream_unavailable", servedStale: true })]);
  });

  it.each([
    ["no key", uncachedSessionsPath(), { anonymous: true }, 401, "unauthorized", "public"],
    [
      "a narrow key",
      uncachedSessionsPath(),
      { headers: { Authorization: `Bearer ${LOCAL_NARROW_API_KEY}` } },
      403,
      "forbidden",
      "local-active-session-only",
    ],
    [
      "an unknown key",
      uncachedSessionsPath(),
      { headers: { Authorization: "Bearer rkp_unknown_000000000000000000000" } },
      401,
      "unauthorized",
      "unidentified",
    ],
    ["a bad param", "/sessions?per_page=0", {}, 400, "bad_request", "local-every-scope"],
    ["an unknown path", "/nowhere?x=1", {}, 404, "not_found", "local-every-scope"],
  ])(
    "for a request rejected for %s: status, error kind and caller, no upstream",
    async (_, path, init, status, errorKind, caller) => {
      const fake = useFakeUpstream();
      await proxyWith()(path, init);
      expect(requestLines()).toEqual([
        expect.objectContaining({
          status,
          errorKind,
          caller,
          upstreamAttempts: undefined,
          route: path.startsWith("/sessions") ? "sessions" : "unmatched",
        }),
      ]);
      expect(errorLines()).toEqual([]);
      expect(fake.requests).toHaveLength(0);
    },
  );

  it("a misconfiguration logs an error line naming the problem, never a value", async () => {
    await proxyWith({ CLOUDFLARE_ACCOUNT_ID: "not/valid", MAX_PER_PAGE: "9999" })("/health");
    const [line] = errorLines();
    expect(line).toMatchObject({ event: "misconfigured", kind: "misconfigured" });
    expect(String(line?.problem)).toContain("CLOUDFLARE_ACCOUNT_ID");
    expect(String(line?.problem)).toContain("MAX_PER_PAGE");
    expect(String(line?.problem)).not.toContain("not/valid");
    expect(String(line?.problem)).not.toContain("9999");
  });

  it("never carries a token, a key, a URL or a caller's query values", async () => {
    const fake = useFakeUpstream();
    const proxyEnv = proxyWith();
    fake.failNext({ status: 401, body: JSON.stringify({ errors: [{ message: TOKEN }] }) });
    await proxyEnv("/sessions?search=private-search-words&participants=Ada%20Private");
    await proxyEnv("/sessions?search=private-search-words", { anonymous: true });
    await proxyEnv(`/sessions?${encodeURIComponent(API_KEY)}=1`, withId(API_KEY));
    await proxyEnv("/meetings/qwerty-asdfgh/active-session?secret-param=1");
    const text = JSON.stringify(entries());
    for (const forbidden of [TOKEN, API_KEY, "private-search-words", "Ada", "secret-param", "proxy.test", "?"]) {
      expect(text).not.toContain(forbidden);
    }
  });
});

describe("Server-Timing", () => {
  it("a miss reports the proxy's total, the upstream's time and the cache outcome", async () => {
    useFakeUpstream();
    const response = await proxyWith()(uncachedSessionsPath());
    const timing = response.headers.get("Server-Timing") ?? "";
    expect(timing).toMatch(/total;dur=[0-9.]+;desc="proxy"/);
    expect(timing).toMatch(/upstream;dur=[0-9.]+;desc="upstream 200"/);
    expect(timing).toContain('cache;desc="fwd=miss"');
  });

  it("a hit reports the cache outcome and no upstream time", async () => {
    useFakeUpstream();
    const proxyEnv = proxyWith();
    const path = uncachedSessionsPath();
    await proxyEnv(path);
    const timing = (await proxyEnv(path)).headers.get("Server-Timing") ?? "";
    expect(timing).toContain('cache;desc="hit"');
    expect(timing).not.toContain("upstream");
  });
});

describe("error lines", () => {
  it.each([
    ["an upstream 404", { status: 404, body: '{"success":false,"error":{"code":404,"message":"gone"}}' }],
    ["an upstream 400", { status: 400, body: '{"success":false,"error":{"code":400,"message":"no"}}' }],
  ])("are not written for %s: an answer, not a failure", async (_, fault) => {
    const fake = useFakeUpstream();
    fake.failNext(fault);
    await proxyWith()(uncachedSessionsPath());
    expect(errorLines()).toEqual([]);
  });
});
