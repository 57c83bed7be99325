import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Fault } from "../../dev/fake-upstream/app.ts";
import { FAKE_ACCOUNT_ID } from "../../dev/fake-upstream/data.ts";
import { LOCAL_NARROW_API_KEY } from "../../dev/local-keys.ts";
import { createKey, TEAM, withKey } from "../keys/support.ts";
import {
  API_KEY,
  callProxy,
  captureLogs,
  LIVE_V2_MEETING,
  type ProxyInit,
  proxyWith,
  TOKEN,
  uncachedSessionsPath,
  useFakeClock,
  useFakeUpstream,
} from "../support/proxy.ts";

const ENCODED_TOKEN = encodeURIComponent(TOKEN);
// The fault matrix must reach the upstream every time: the cache is off, the budget never
// refuses, and a 429 pauses nothing (else every input after it would be a 503 without an upstream call).
const EVERY_CALL_REACHES_THE_UPSTREAM = {
  SESSIONS_CACHE_TTL_SECONDS: "0",
  ACTIVE_SESSION_CACHE_TTL_SECONDS: "0",
  UPSTREAM_BUDGET: "1000000/300",
  CALLER_MISS_BUDGET: "1000000/300",
  UPSTREAM_PAUSE_SECONDS: "0",
};
const CACHE_OFF = { SESSIONS_CACHE_TTL_SECONDS: "0" };

type ProxyInitInput = { path: string; init?: ProxyInit };

/** Caller inputs, good and bad, several of them carrying the token itself. */
const CALLER_INPUTS: ProxyInitInput[] = [
  { path: "/health" },
  { path: `/meetings/${LIVE_V2_MEETING}/active-session` },
  { path: "/meetings/0d4e6a8c-2b1f-4e3d-9c5b-7a6f8e9d0c1b/active-session" },
  { path: `/meetings/${ENCODED_TOKEN}/active-session` },
  { path: `/meetings/${LIVE_V2_MEETING}/active-session?token=${ENCODED_TOKEN}` },
  { path: `/meetings/${LIVE_V2_MEETING}/active-session?${ENCODED_TOKEN}=1` },
  { path: "/sessions" },
  { path: `/sessions?search=${ENCODED_TOKEN}` },
  { path: `/sessions?participants=${ENCODED_TOKEN}&per_page=0` },
  { path: `/sessions?${ENCODED_TOKEN}=x&status=${ENCODED_TOKEN}` },
  { path: `/sessions?associated_id=${ENCODED_TOKEN}&start_time=${ENCODED_TOKEN}` },
  { path: `/${ENCODED_TOKEN}` },
  { path: "/sessions", init: { method: "POST", body: TOKEN } },
  { path: "/sessions", init: { method: "OPTIONS" } },
  { path: "/sessions", init: { method: "HEAD" } },
  { path: "/sessions", init: { headers: { "X-Request-Id": TOKEN } } },
  { path: "/sessions", init: { headers: { "X-Request-Id": `${TOKEN}-suffix` } } },
  { path: "/sessions", init: { headers: { Authorization: `Bearer ${TOKEN}`, Cookie: `t=${TOKEN}` } } },
  { path: `/sessions?${encodeURIComponent(API_KEY)}=1`, init: { headers: { "X-Request-Id": API_KEY } } },
  { path: `/sessions?search=${encodeURIComponent(LOCAL_NARROW_API_KEY)}` },
  {
    path: `/meetings/${encodeURIComponent(LOCAL_NARROW_API_KEY)}/active-session`,
    init: { headers: { Authorization: `Bearer ${LOCAL_NARROW_API_KEY}` } },
  },
  {
    path: `/sessions?${encodeURIComponent(LOCAL_NARROW_API_KEY)}=x`,
    init: { headers: { Authorization: `Bearer ${LOCAL_NARROW_API_KEY}`, "X-Request-Id": LOCAL_NARROW_API_KEY } },
  },
  { path: "/sessions", init: { headers: { Authorization: `Basic ${API_KEY}` } } },
  { path: "/sessions", init: { anonymous: true, headers: { "X-Request-Id": API_KEY } } },
];

/** Upstream answers, several of them echoing the token back. */
const UPSTREAM_FAULTS: (Fault | undefined)[] = [
  undefined,
  { status: 401, body: JSON.stringify({ success: false, errors: [{ code: 10000, message: `bad token ${TOKEN}` }] }) },
  { status: 404, body: JSON.stringify({ success: false, error: { code: 404, message: `no meeting for ${TOKEN}` } }) },
  { status: 400, body: JSON.stringify({ success: false, errors: [{ message: `Authorization: Bearer ${TOKEN}` }] }) },
  { status: 422, body: TOKEN },
  { status: 200, body: JSON.stringify({ success: true, data: { echoed: TOKEN } }) },
  { status: 200, body: `<html>${TOKEN}</html>`, headers: { "X-Debug-Token": TOKEN } },
  { status: 429, headers: { "Retry-After": TOKEN } },
  { status: 500, body: TOKEN, headers: { "Set-Cookie": `t=${TOKEN}` } },
  { network: true },
];

/** The token and every API key value: none may appear in a response or a log line. */
const SECRETS = [TOKEN, API_KEY, LOCAL_NARROW_API_KEY];

function expectNoToken(response: Response, text: string, logs: string[], label: string) {
  for (const secret of SECRETS) {
    expect(text, `${label}: body`).not.toContain(secret);
    for (const [name, value] of response.headers) {
      expect(`${name}: ${value}`, `${label}: header`).not.toContain(secret);
    }
    for (const line of logs) expect(line, `${label}: log line`).not.toContain(secret);
  }
}

describe("the API token never leaks", () => {
  // Every input against every upstream answer: over a hundred requests, each reaching the upstream.
  it("not in any body, header or log line, for every caller input against every upstream answer", {
    timeout: 120_000,
  }, async () => {
    useFakeClock(0);
    const logs = captureLogs();
    const statuses = new Set<number>();
    for (const fault of UPSTREAM_FAULTS) {
      for (const input of CALLER_INPUTS) {
        const fake = useFakeUpstream();
        if (fault) fake.failNext(fault, fault, fault);
        const response = await proxyWith(EVERY_CALL_REACHES_THE_UPSTREAM)(input.path, input.init);
        statuses.add(response.status);
        expectNoToken(response, await response.text(), logs, `${input.path} ${JSON.stringify(fault)}`);
      }
    }
    // The inputs really reached the upstream and each kind of its failures, so the checks above meant something.
    expect(logs.some((line) => line.includes("upstream_credentials"))).toBe(true);
    expect([...statuses]).toEqual(expect.arrayContaining([200, 400, 401, 404, 405, 422, 502, 503]));
  });

  it("not in any answer served from the cache", async () => {
    const logs = captureLogs();
    useFakeUpstream();
    const stored = new Set<ProxyInitInput>();
    for (const input of CALLER_INPUTS) {
      const response = await callProxy(input.path, input.init);
      expectNoToken(response, await response.text(), logs, `miss ${input.path}`);
      if (response.headers.get("Cache-Status")?.endsWith("; stored")) stored.add(input);
    }
    expect(stored.size).toBeGreaterThan(3);
    for (const input of stored) {
      const response = await callProxy(input.path, input.init);
      expectNoToken(response, await response.text(), logs, `hit ${input.path}`);
      // Everything stored the first time is served from the cache the second.
      expect(response.headers.get("Cache-Status"), input.path).toMatch(/; hit; /);
    }
  });

  it("not in a misconfiguration error", async () => {
    const logs = captureLogs();
    for (const overrides of [
      { CLOUDFLARE_ACCOUNT_ID: TOKEN },
      { CLOUDFLARE_API_BASE_URL: TOKEN },
      { MAX_PER_PAGE: TOKEN },
    ]) {
      const response = await proxyWith(overrides)("/sessions", { headers: { "X-Request-Id": TOKEN } });
      expect(response.status).toBe(500);
      expectNoToken(response, await response.text(), logs, JSON.stringify(overrides));
    }
  });

  it.each([
    ["as is", TOKEN],
    ["JSON-escaped", TOKEN.replace(/-/g, "\\u002d")],
    ["percent-encoded", [...TOKEN].map((c) => `%${c.charCodeAt(0).toString(16)}`).join("")],
    ["percent-encoded twice", encodeURIComponent([...TOKEN].map((c) => `%${c.charCodeAt(0).toString(16)}`).join(""))],
    ["as a property name", TOKEN],
  ])("a success body carrying the token %s is refused and never stored", async (form, value) => {
    const fake = useFakeUpstream();
    const call = proxyWith();
    const path = uncachedSessionsPath();
    const data = form === "as a property name" ? `{"${value}":1}` : `{"echoed":"${value}"}`;
    fake.failNext({ status: 200, body: `{"success":true,"data":${data}}` });
    const refused = await call(path);
    expect(refused.status).toBe(502);
    expect(await refused.text()).not.toContain(value);
    expect((await call(path)).headers.get("Cache-Status")).toBe("realtimekit-proxy; fwd=miss; stored");
  });

  it("an upstream message relayed to the caller is scrubbed of the account id too", async () => {
    const fake = useFakeUpstream();
    fake.failNext({
      status: 400,
      body: JSON.stringify({ success: false, error: { message: `account ${FAKE_ACCOUNT_ID} has no such app` } }),
    });
    const response = await proxyWith()(uncachedSessionsPath());
    expect(await response.json()).toMatchObject({
      error: { code: 400, message: "account [redacted] has no such app" },
    });
  });

  it("a success body that carries the token is refused, not passed through", async () => {
    const fake = useFakeUpstream();
    fake.failNext({ status: 200, body: JSON.stringify({ success: true, data: { echoed: TOKEN } }) });
    expect((await proxyWith(CACHE_OFF)("/sessions")).status).toBe(502);
  });

  it("an upstream message that carries the token is kept, with the token redacted", async () => {
    const fake = useFakeUpstream();
    fake.failNext({ status: 404, body: JSON.stringify({ success: false, error: { message: `no ${TOKEN} here` } }) });
    const response = await callProxy(`/meetings/${LIVE_V2_MEETING}/active-session`);
    expect(await response.json()).toMatchObject({ error: { code: 404, message: "no [redacted] here" } });
  });

  it("a param name that is the token is named in the 400, redacted", async () => {
    const response = await callProxy(`/sessions?${ENCODED_TOKEN}=1`);
    expect(await response.json()).toMatchObject({ error: { code: 400, issues: [{ path: "[redacted]" }] } });
  });
});

describe("a managed key's secret never leaks", () => {
  it("not in a log line, /status, a list, an error body or the key's own storage, whatever is done with it", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const logs = captureLogs();
    const key = await createKey({ ...TEAM, scopes: ["sessions:read"] });
    const texts: string[] = [];
    const keep = async (response: Response) => texts.push(await response.text());
    // Used well, used where its scope does not reach, echoed as the request id, in the URL, after failures.
    await keep(await callProxy("/sessions?search=leak", withKey(key.secret)));
    await keep(await callProxy("/status", withKey(key.secret)));
    await keep(await callProxy("/sessions", withKey(key.secret, { headers: { "X-Request-Id": key.secret } })));
    await keep(await callProxy(`/sessions?token=${key.secret}`, withKey(key.secret)));
    await keep(await callProxy(`/sessions?${key.secret}=1`, withKey(key.secret)));
    fake.failNext({ status: 500, body: key.secret });
    await keep(await proxyWith(CACHE_OFF)("/sessions?search=failing", withKey(key.secret)));
    await keep(await callProxy("/keys", { headers: { Authorization: `Bearer ${API_KEY}` } }));
    await keep(await callProxy(`/keys/${key.id}`, { headers: { Authorization: `Bearer ${API_KEY}` } }));
    await keep(await callProxy(`/keys/${key.id}/usage`, withKey(key.secret)));
    await keep(
      await callProxy(`/keys/${key.id}`, { method: "DELETE", headers: { Authorization: `Bearer ${API_KEY}` } }),
    );
    await keep(await callProxy("/sessions", withKey(key.secret)));
    await keep(await callProxy("/status"));
    const stored = await runInDurableObject(env.KEY_STORE.getByName(key.id), async (_, state) =>
      JSON.stringify([...state.storage.kv.list()]),
    );
    for (const text of [...texts, ...logs, stored]) expect(text).not.toContain(key.secret);
    expect(texts).toHaveLength(12);
    expect(logs.length).toBeGreaterThan(10);
  });
});
