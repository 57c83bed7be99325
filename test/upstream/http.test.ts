import { describe, expect, it } from "vitest";
import packageJson from "../../package.json" with { type: "json" };
import {
  API_KEY,
  callProxy,
  errorBody,
  IDLE_V2_MEETING,
  LIVE_V1_MEETING,
  LIVE_V2_MEETING,
  proxyWith,
  TOKEN,
  UPSTREAM_APP_URL,
  uncachedSessionsPath,
  useFakeUpstream,
} from "../support/proxy.ts";

const CACHE_OFF = { SESSIONS_CACHE_TTL_SECONDS: "0" };

/** The request the upstream receives; with the cache off, so every call reaches it. */
async function upstreamRequestFor(path: string, init?: RequestInit): Promise<Request> {
  const fake = useFakeUpstream();
  const response = await proxyWith(CACHE_OFF)(path, init);
  expect(response.status).toBe(200);
  expect(fake.requests).toHaveLength(1);
  return fake.requests[0] as Request;
}

describe("the upstream request", () => {
  it.each([
    [`/meetings/${LIVE_V2_MEETING}/active-session`, `${UPSTREAM_APP_URL}/meetings/${LIVE_V2_MEETING}/active-session`],
    [`/meetings/${LIVE_V1_MEETING}/active-session`, `${UPSTREAM_APP_URL}/meetings/${LIVE_V1_MEETING}/active-session`],
    ["/sessions", `${UPSTREAM_APP_URL}/sessions`],
    ["/sessions?status=LIVE", `${UPSTREAM_APP_URL}/sessions?status=LIVE`],
    [
      "/sessions?status=ENDED&per_page=5&page_no=002&associated_id=qwerty-asdfgh",
      `${UPSTREAM_APP_URL}/sessions?associated_id=qwerty-asdfgh&page_no=2&per_page=5&status=ENDED`,
    ],
    [
      "/sessions?end_time=2026-10-03T00:00:00%2B02:00&start_time=2026-10-01T09:30:00.5-01:00&sort_order=ASC&sort_by=minutesConsumed",
      `${UPSTREAM_APP_URL}/sessions?end_time=2026-10-02T22%3A00%3A00.000Z&sort_by=minutesConsumed&sort_order=ASC&start_time=2026-10-01T10%3A30%3A00.500Z`,
    ],
    [
      "/sessions?search=Weekly%20sync%20%26%20more%3D%2B&participants=Ada%20Lovelace",
      `${UPSTREAM_APP_URL}/sessions?participants=Ada%20Lovelace&search=Weekly%20sync%20%26%20more%3D%2B`,
    ],
  ])("GET %s goes to %s", async (path, upstreamUrl) => {
    const request = await upstreamRequestFor(path);
    expect(request.method).toBe("GET");
    expect(request.url).toBe(upstreamUrl);
  });

  it("carries only the token, Accept and the proxy's User-Agent", async () => {
    const request = await upstreamRequestFor("/sessions", {
      headers: {
        Authorization: `Bearer ${API_KEY}`,
        Cookie: "session=abc",
        "X-Forwarded-For": "203.0.113.9",
        "X-Forwarded-Host": "evil.example",
        "CF-Connecting-IP": "203.0.113.9",
        "User-Agent": "curl/8",
        "X-Request-Id": "caller-request-1",
        "If-None-Match": '"abc"',
      },
    });
    expect(Object.fromEntries(request.headers)).toEqual({
      authorization: `Bearer ${TOKEN}`,
      accept: "application/json",
      "user-agent": `realtimekit-proxy/${packageJson.version}`,
    });
  });
});

describe("the caller's response", () => {
  it("is the upstream's JSON envelope, unchanged", async () => {
    const fake = useFakeUpstream();
    const upstreamBody =
      '{"success":true,"data":{"sessions":[]},"paging":{"start_offset":0,"end_offset":0,"total_count":0}}';
    fake.failNext({ status: 200, body: upstreamBody, headers: { "Content-Type": "text/plain" } });
    const response = await callProxy(uncachedSessionsPath());
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("application/json");
    expect(await response.text()).toBe(upstreamBody);
  });

  it("keeps the upstream's 2xx status", async () => {
    const fake = useFakeUpstream();
    fake.failNext({ status: 203, body: '{"success":true,"data":{}}' });
    const response = await callProxy(`/meetings/${LIVE_V2_MEETING}/active-session`);
    expect(response.status).toBe(203);
  });

  it("serves the live session of a meeting from the fake's seeded data", async () => {
    useFakeUpstream();
    const response = await callProxy(`/meetings/${LIVE_V2_MEETING}/active-session`);
    expect(await response.json()).toMatchObject({
      success: true,
      data: { associated_id: LIVE_V2_MEETING, status: "LIVE" },
    });
  });

  it("serves a page of sessions with paging", async () => {
    useFakeUpstream();
    const response = await callProxy("/sessions?per_page=3&status=ENDED");
    const body = (await response.json()) as { data: { sessions: { status: string }[] }; paging: object };
    expect(body.data.sessions).toHaveLength(3);
    expect(body.data.sessions.every((session) => session.status === "ENDED")).toBe(true);
    expect(body.paging).toMatchObject({ start_offset: 0, total_count: expect.any(Number) });
  });

  it("copies no upstream header through", async () => {
    const fake = useFakeUpstream();
    fake.failNext({
      status: 200,
      body: '{"success":true,"data":{}}',
      headers: { "Set-Cookie": "x=1", Ratelimit: "limit=1200", Server: "cloudflare", "CF-Ray": "abc", Via: "1.1 x" },
    });
    const response = await callProxy(`/meetings/${LIVE_V2_MEETING}/active-session`);
    for (const name of ["Set-Cookie", "Ratelimit", "Server", "CF-Ray", "Via"]) {
      expect(response.headers.has(name), name).toBe(false);
    }
  });

  it("carries security headers and no framework banner", async () => {
    useFakeUpstream();
    const response = await callProxy("/sessions");
    expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(response.headers.get("Referrer-Policy")).toBe("no-referrer");
    expect(response.headers.has("X-Powered-By")).toBe(false);
  });
});

describe("X-Request-Id", () => {
  it.each(["abc", "A-b_9", "x".repeat(64)])("echoes a well-formed caller id (%s)", async (id) => {
    useFakeUpstream();
    const response = await callProxy("/sessions", { headers: { "X-Request-Id": id } });
    expect(response.headers.get("X-Request-Id")).toBe(id);
  });

  it.each(["x".repeat(65), "a=b", "a b", "a/b", "a.b", "rkp_looks_like_an_api_key"])(
    "replaces a malformed caller id (%s)",
    async (id) => {
      useFakeUpstream();
      const response = await callProxy("/sessions", { headers: { "X-Request-Id": id } });
      const returned = response.headers.get("X-Request-Id");
      expect(returned).not.toBe(id);
      expect(returned).toMatch(/^[0-9a-f-]{36}$/);
    },
  );

  it("is on error responses too", async () => {
    const response = await callProxy("/nope", { headers: { "X-Request-Id": "trace-1" } });
    expect(response.headers.get("X-Request-Id")).toBe("trace-1");
  });

  it("is new for each request without one", async () => {
    useFakeUpstream();
    const first = await callProxy("/health");
    const second = await callProxy("/health");
    expect(first.headers.get("X-Request-Id")).not.toBe(second.headers.get("X-Request-Id"));
  });
});

describe("routes and methods", () => {
  it("answers 404 in the envelope for an unknown path, without the upstream", async () => {
    const fake = useFakeUpstream();
    const response = await callProxy("/meetings/qwerty-asdfgh/recordings");
    expect(response.status).toBe(404);
    expect(await errorBody(response)).toMatchObject({ success: false, error: { code: 404, message: "no such route" } });
    expect(fake.requests).toHaveLength(0);
  });

  it.each(["POST", "PUT", "PATCH", "DELETE"])("answers 405 with Allow for %s", async (method) => {
    const fake = useFakeUpstream();
    const response = await callProxy("/sessions", { method });
    expect(response.status).toBe(405);
    expect(response.headers.get("Allow")).toBe("GET, HEAD, OPTIONS");
    expect(await errorBody(response)).toMatchObject({ error: { code: 405, message: expect.stringContaining("GET") } });
    expect(fake.requests).toHaveLength(0);
  });

  it("answers 405 on the meeting route too", async () => {
    const response = await callProxy(`/meetings/${LIVE_V2_MEETING}/active-session`, { method: "DELETE" });
    expect(response.status).toBe(405);
  });

  it("answers HEAD like GET, without a body", async () => {
    useFakeUpstream();
    const response = await callProxy(`/meetings/${LIVE_V2_MEETING}/active-session`, { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("application/json");
    expect(await response.text()).toBe("");
  });

  it("keeps the upstream's 404 message for a meeting without a live session", async () => {
    useFakeUpstream();
    const response = await callProxy(`/meetings/${IDLE_V2_MEETING}/active-session`);
    expect(response.status).toBe(404);
    expect(await errorBody(response)).toEqual({
      success: false,
      error: { code: 404, type: "not_found", message: `No active session found for meeting_id ${IDLE_V2_MEETING}` },
    });
  });
});
