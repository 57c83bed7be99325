import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { FAKE_ACCOUNT_ID, FAKE_APP_ID } from "../../dev/fake-upstream/data.ts";
import { LOCAL_NARROW_API_KEY } from "../../dev/local-keys.ts";
import { checkConfig } from "../../src/app.ts";
import { BudgetGate, type Demand } from "../../src/budget/gate.ts";
import { GATE_NAME } from "../../src/budget/gate-object.ts";
import { cacheKey } from "../../src/cache/answer.ts";
import { SharedKey } from "../../src/cache-objects/shared-key.ts";
import { logger } from "../../src/log.ts";
import { upstreamSettings } from "../../src/upstream/request.ts";
import {
  callProxy,
  dataCentre,
  errorBody,
  holdUpstream,
  IDLE_V2_MEETING,
  LIVE_V2_MEETING,
  proxyWith,
  uncachedSessionsPath,
  useFakeClock,
  useFakeUpstream,
} from "../support/proxy.ts";

const ACTIVE = `/meetings/${LIVE_V2_MEETING}/active-session`;
const randomMeeting = () => `/meetings/${crypto.randomUUID()}/active-session`;
const fromIp = (ip: string) => ({ anonymous: true, headers: { "CF-Connecting-IP": ip } });

interface StatusBody {
  data: {
    budget: { limit: number; available: number; cold_available: number };
    paused_until: string | null;
    spend_per_route: Record<string, number>;
    spend_per_key: Record<string, number>;
    callers_over_share: { caller: string; refused: number }[];
  };
}
async function budgetStatus(call = callProxy) {
  return ((await (await call("/status")).json()) as StatusBody).data;
}

/** A shared-tier request with nothing in particular about it (the unit tests of SharedKey). */
const SHARED_REQUEST = {
  cacheKey: "k",
  label: "active-session",
  quotaKey: "ip:203.0.113.1",
  upstream: { path: "/meetings/qwerty-asdfgh/active-session", query: "" },
  settings: testSettings(),
  ttlSeconds: 5,
  staleIfErrorSeconds: 300,
  staleIfSlowMs: 1000,
};

function testSettings() {
  const parsed = checkConfig(env);
  if (!parsed.ok) throw new Error(parsed.problem);
  return upstreamSettings(parsed.config);
}

function errorLines(event: string) {
  return vi.mocked(logger.write).mock.calls.filter(([level, entry]) => level === "error" && entry.event === event);
}

describe("the shared tier: one upstream call for every data centre", () => {
  it("three data centres missing one key make one upstream call between them", async () => {
    const fake = useFakeUpstream();
    const [a, b, c] = await Promise.all(["a", "b", "c"].map((name) => dataCentre(name)));
    const path = uncachedSessionsPath();
    const first = await a?.(path);
    const second = await b?.(path);
    const third = await c?.(path);
    expect(first?.headers.get("Cache-Status")).toBe("realtimekit-proxy; fwd=miss; stored");
    expect(second?.headers.get("Cache-Status")).toMatch(/^realtimekit-proxy; hit; ttl=\d+; detail=shared$/);
    expect(third?.headers.get("Cache-Status")).toMatch(/detail=shared/);
    expect(await second?.text()).toBe(await third?.text());
    expect(fake.requests).toHaveLength(1);
  });

  it("concurrent misses in several data centres make one upstream call", async () => {
    const fake = useFakeUpstream();
    const centres = await Promise.all(["a", "b", "c"].map((name) => dataCentre(name)));
    const held = holdUpstream(fake);
    const path = uncachedSessionsPath();
    const pending = Promise.all(centres.flatMap((call) => Array.from({ length: 10 }, () => call(path))));
    await held.releaseWhen(30);
    const responses = await pending;
    expect(responses.every((response) => response.status === 200)).toBe(true);
    expect(fake.requests).toHaveLength(1);
  });

  it("a local hit touches no Durable Object", async () => {
    useFakeUpstream();
    const call = await dataCentre("a");
    const path = uncachedSessionsPath();
    await call(path);
    const serve = vi.spyOn(SharedKey.prototype, "answer");
    const take = vi.spyOn(BudgetGate.prototype, "take");
    expect((await call(path)).headers.get("Cache-Status")).toMatch(/; hit; /);
    expect(serve).not.toHaveBeenCalled();
    expect(take).not.toHaveBeenCalled();
  });

  it("Age is the time since the upstream answered, through both tiers", async () => {
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    const [a, b] = await Promise.all([dataCentre("a"), dataCentre("b")]);
    const path = uncachedSessionsPath();
    await a(path);
    clock.advance(3_000);
    const fromShared = await b(path);
    expect(fromShared.headers.get("Age")).toBe("3");
    expect(fromShared.headers.get("Cache-Control")).toBe("private, max-age=7");
    clock.advance(4_000);
    const local = await b(path);
    expect(local.headers.get("Cache-Status")).toBe("realtimekit-proxy; hit; ttl=3");
    expect(local.headers.get("Age")).toBe("7");
    // Fresh for 10 s from the upstream's answer, not from when b stored it.
    clock.advance(4_000);
    const stale = await b(path);
    expect(stale.headers.get("Cache-Status")).toMatch(/ttl=-1; detail=stale-while-revalidate/);
    expect(stale.headers.get("Age")).toBe("11");
    expect(fake.requests).toHaveLength(2);
  });
});

describe("negative caching: a stored 404 follows the rules of a stored 200", () => {
  const IDLE = `/meetings/${IDLE_V2_MEETING}/active-session`;

  it("an upstream 404 is stored for the route's TTL and served again as the same 404", async () => {
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    const first = await callProxy(IDLE);
    clock.advance(2_000);
    const second = await callProxy(IDLE);
    expect(first.status).toBe(404);
    expect(second.status).toBe(404);
    expect(await errorBody(second)).toMatchObject({
      error: { code: 404, message: `No active session found for meeting_id ${IDLE_V2_MEETING}` },
    });
    expect(second.headers.get("Cache-Status")).toBe("realtimekit-proxy; hit; ttl=3");
    expect(second.headers.get("Age")).toBe("2");
    expect(second.headers.get("Cache-Control")).toBe("no-store");
    expect(fake.requests).toHaveLength(1);
  });

  it("past its TTL it is served stale at once while one background refresh runs", async () => {
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    await callProxy(IDLE);
    clock.advance(6_000);
    const stale = await callProxy(IDLE);
    expect(stale.status).toBe(404);
    expect(stale.headers.get("Cache-Status")).toBe("realtimekit-proxy; hit; ttl=-1; detail=stale-while-revalidate");
    expect(fake.requests).toHaveLength(2);
  });

  it("within the stale-if-error window it covers an upstream failure, as the same 404", async () => {
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    const call = proxyWith({ UPSTREAM_MAX_RETRIES: "0" });
    await call(IDLE);
    clock.advance(60_000);
    fake.failNext({ status: 500 });
    const covered = await call(IDLE);
    expect(covered.status).toBe(404);
    expect(covered.headers.get("Cache-Status")).toBe("realtimekit-proxy; hit; ttl=-55; detail=stale-if-error");
    expect(await errorBody(covered)).toMatchObject({ error: { message: expect.stringContaining(IDLE_V2_MEETING) } });
  });

  // 312 requests through the Worker: seconds alone, several beside another suite.
  it("pollers told 'no live session' keep getting 404, never 503, while random ids from rotating addresses drain the budget", {
    timeout: 120_000,
  }, async () => {
    const clock = useFakeClock();
    useFakeUpstream();
    const call = proxyWith();
    const polls: number[] = [];
    let floodRefused = 0;
    for (let second = 0; second < 60; second++) {
      for (let i = 0; i < 5; i++) {
        const flood = await call(randomMeeting(), fromIp(`198.51.100.${(second * 5 + i) % 250}`));
        if (flood.status === 503) floodRefused++;
      }
      if (second % 5 === 0) polls.push((await call(IDLE, fromIp("203.0.113.7"))).status);
      clock.advance(1_000);
    }
    // The flood did take all that cold misses may take, and the pollers never noticed.
    expect(floodRefused).toBeGreaterThan(100);
    expect(polls).toEqual(Array.from({ length: 12 }, () => 404));
  });

  it("a remembered refusal of cold misses never holds back the refresh of a key already answered", async () => {
    const clock = useFakeClock();
    useFakeUpstream();
    const call = proxyWith();
    await call(IDLE);
    clock.advance(40_000);
    let refused: Response | undefined;
    for (let i = 0; i < 100 && !refused; i++) {
      const flood = await call(randomMeeting(), fromIp(`198.51.100.${i}`));
      if (flood.status === 503) refused = flood;
    }
    expect(refused).toBeDefined();
    const take = vi.spyOn(BudgetGate.prototype, "take");
    // This isolate now refuses cold misses by itself, without asking the gate...
    expect((await call(randomMeeting(), fromIp("198.51.100.200"))).status).toBe(503);
    expect(take).not.toHaveBeenCalled();
    // ...but the known key, past its TTL and SWR window, still asks, as a refresh, and is renewed.
    const renewed = await call(IDLE);
    expect(renewed.status).toBe(404);
    expect(renewed.headers.get("Cache-Status")).toBe("realtimekit-proxy; fwd=stale; stored");
    expect(take).toHaveBeenCalledWith(expect.objectContaining({ priority: "refresh" }));
  });

  it("a key once answered is never cold again: past every window, and in another data centre", async () => {
    const clock = useFakeClock();
    useFakeUpstream();
    const take = vi.spyOn(BudgetGate.prototype, "take");
    const lastDemand = () => take.mock.calls.at(-1)?.[0];
    await callProxy(IDLE);
    expect(lastDemand()).toMatchObject({ priority: "cold" });
    clock.advance(400_000);
    await callProxy(IDLE);
    expect(lastDemand()).toMatchObject({ priority: "refresh", urgency: 1 });
    clock.advance(400_000);
    await (await dataCentre("elsewhere"))(IDLE);
    expect(lastDemand()).toMatchObject({ priority: "refresh", urgency: 1 });
  });

  it("the key's object keeps when its newest answer was produced in its storage, so a restarted object knows it too", async () => {
    useFakeClock();
    useFakeUpstream();
    await callProxy(IDLE);
    const key = cacheKey({
      account: FAKE_ACCOUNT_ID,
      app: FAKE_APP_ID,
      name: "active-session",
      path: `/meetings/${IDLE_V2_MEETING}/active-session`,
      query: "",
    });
    const stored = await runInDurableObject(env.SHARED_CACHE.get(env.SHARED_CACHE.idFromName(key)), (_, state) =>
      state.storage.kv.get<number>("known-produced-at"),
    );
    expect(stored).toBe(Date.UTC(2026, 10, 22, 12, 0, 0));
    let asked: Demand | undefined;
    const restarted = new SharedKey({ now: () => stored ?? 0, knownProducedAt: stored });
    const notLoaded = async (_request: unknown, demand: Demand): Promise<never> => {
      asked = demand;
      throw new Error("not loaded in this test");
    };
    await restarted.answer(
      { ...SHARED_REQUEST, knownProducedAt: undefined },
      {
        load: notLoaded,
        patch: () => notLoaded(undefined, { priority: "cold", urgency: 0 }),
        wholeLoadCost: () => 1,
      },
    );
    expect(asked).toMatchObject({ priority: "refresh" });
  });
});

describe("the budget gate", () => {
  it("every upstream attempt takes a permit, retries included, and /status shows the spend", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    fake.failNext({ status: 500 }, { status: 503 });
    expect((await callProxy(uncachedSessionsPath())).status).toBe(200);
    await callProxy(ACTIVE);
    expect(fake.requests).toHaveLength(4);
    expect(await budgetStatus()).toMatchObject({
      budget: { limit: 1000, available: 996 },
      paused_until: null,
      spend_per_route: { sessions: 3, "active-session": 1 },
    });
  });

  it("the request log line names the permits left", async () => {
    useFakeUpstream();
    await callProxy(uncachedSessionsPath());
    const line = vi.mocked(logger.write).mock.calls.find(([, entry]) => entry.event === "request");
    expect(line?.[1]).toMatchObject({ permitsLeft: 999, upstreamAttempts: 1 });
  });

  it("cold misses get half the bucket: a flood of random ids is refused while refreshes go on", async () => {
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    const call = proxyWith({ UPSTREAM_BUDGET: "200/300" });
    const listPath = uncachedSessionsPath();
    expect((await call(listPath)).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await call(randomMeeting(), fromIp("203.0.113.9"))).status);
    // The pacing bucket holds a twentieth of the budget (10); cold misses may take it down to half.
    expect(statuses).toEqual([404, 404, 404, 404, 503, 503, 503, 503, 503, 503]);
    const refused = await call(randomMeeting(), fromIp("203.0.113.10"));
    expect(await errorBody(refused)).toMatchObject({ error: { code: 503, message: "upstream budget exhausted" } });
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(0);
    // The stored list, past its TTL and SWR window, is still refreshed: a refresh may use the rest.
    clock.advance(45_000);
    const refreshed = await call(listPath);
    expect(refreshed.headers.get("Cache-Status")).toBe("realtimekit-proxy; fwd=stale; stored");
    expect(fake.requests).toHaveLength(6);
  });

  it("a caller over its share gets 429 for misses, while its hits are still served", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const call = proxyWith({ CALLER_MISS_BUDGET: "2/300" });
    const greedy = fromIp("2001:db8:1:2:3:4:5:6");
    const paths = [randomMeeting(), randomMeeting(), randomMeeting()];
    expect((await call(paths[0] ?? "", greedy)).status).toBe(404);
    expect((await call(paths[1] ?? "", greedy)).status).toBe(404);
    const over = await call(paths[2] ?? "", greedy);
    expect(over.status).toBe(429);
    expect(await errorBody(over)).toMatchObject({ error: { message: expect.stringContaining("share") } });
    expect(Number(over.headers.get("Retry-After"))).toBeGreaterThan(0);
    // Same /64: the same caller.
    expect((await call(randomMeeting(), fromIp("2001:db8:1:2:ffff::1"))).status).toBe(429);
    expect((await call(paths[0] ?? "", greedy)).status).toBe(404);
    expect((await call(randomMeeting(), fromIp("2001:db8:1:3::1"))).status).toBe(404);
    expect(fake.requests).toHaveLength(3);
    expect((await budgetStatus(call)).callers_over_share).toEqual([{ caller: "ip:2001:db8:1:2::/64", refused: 1 }]);
  });

  it("a data centre remembers a refusal until its time instead of asking the gate again", async () => {
    const clock = useFakeClock();
    useFakeUpstream();
    const call = await dataCentre("a", { UPSTREAM_BUDGET: "10/300" });
    await call(randomMeeting());
    const take = vi.spyOn(BudgetGate.prototype, "take");
    const refused = await call(randomMeeting());
    expect(refused.status).toBe(503);
    expect(take).toHaveBeenCalledTimes(1);
    for (let i = 0; i < 20; i++) expect((await call(randomMeeting())).status).toBe(503);
    expect(take).toHaveBeenCalledTimes(1);
    clock.advance(Number(refused.headers.get("Retry-After")) * 1000);
    expect((await call(randomMeeting())).status).toBe(404);
    expect(take).toHaveBeenCalledTimes(2);
  });
});

describe("an upstream 429 pauses the deployment", () => {
  it("every data centre stops calling the upstream, and stored answers are served with detail=paused", async () => {
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    const [a, b] = await Promise.all([dataCentre("a"), dataCentre("b")]);
    const stored = uncachedSessionsPath();
    await b(stored);
    fake.failNext({ status: 429, headers: { "Retry-After": "200" } });
    expect((await a(uncachedSessionsPath())).status).toBe(503);
    clock.advance(60_000);
    const served = await b(stored);
    expect(served.status).toBe(200);
    expect(served.headers.get("Cache-Status")).toMatch(/; hit; ttl=-50; detail=paused$/);
    const refused = await b(uncachedSessionsPath());
    expect(refused.status).toBe(503);
    expect(refused.headers.get("Retry-After")).toBe("140");
    expect(fake.requests).toHaveLength(2);
  });

  it("the pause survives the gate's restart", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    fake.failNext({ status: 429, headers: { "Retry-After": "120" } });
    await callProxy(uncachedSessionsPath());
    await evictDurableObject(env.BUDGET_GATE.get(env.BUDGET_GATE.idFromName(GATE_NAME)));
    const other = await dataCentre("elsewhere");
    const response = await other(uncachedSessionsPath());
    expect(response.status).toBe(503);
    expect(response.headers.get("Retry-After")).toBe("120");
    expect(fake.requests).toHaveLength(1);
    expect((await budgetStatus()).paused_until).toBe("2026-11-22T12:02:00.000Z");
  });
});

describe("when a Durable Object cannot be reached", () => {
  it("with the gate down: stored answers are served, else one direct upstream call a second, logged", async () => {
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    const call = proxyWith({ UPSTREAM_MAX_RETRIES: "0" });
    const stored = uncachedSessionsPath();
    await call(stored);
    vi.spyOn(BudgetGate.prototype, "take").mockImplementation(() => {
      throw new Error("overloaded");
    });
    clock.advance(45_000);
    const covered = await call(stored);
    expect(covered.status).toBe(200);
    expect(covered.headers.get("Cache-Status")).toMatch(/detail=budget/);
    // The refusal that covered it is remembered for a second.
    clock.advance(1_000);
    expect((await call(randomMeeting())).status).toBe(404);
    expect((await call(randomMeeting())).status).toBe(503);
    clock.advance(1_000);
    expect((await call(randomMeeting())).status).toBe(404);
    expect(fake.requests).toHaveLength(3);
    expect(errorLines("budget_gate_unreachable").length).toBeGreaterThan(0);
  });

  it("with a key's shared object down, the data centre loads by itself, through the gate", async () => {
    const fake = useFakeUpstream();
    vi.spyOn(SharedKey.prototype, "answer").mockRejectedValue(new Error("object broken"));
    const response = await callProxy(uncachedSessionsPath());
    expect(response.status).toBe(200);
    expect(fake.requests).toHaveLength(1);
    expect(errorLines("shared_tier_unreachable")).toHaveLength(1);
    expect((await budgetStatus()).spend_per_route).toEqual({ sessions: 1 });
  });
});

describe("GET /status", () => {
  it("needs a key with status:read and is never public", async () => {
    useFakeUpstream();
    expect((await callProxy("/status", { anonymous: true })).status).toBe(401);
    const narrow = await callProxy("/status", { headers: { Authorization: `Bearer ${LOCAL_NARROW_API_KEY}` } });
    expect(narrow.status).toBe(403);
    const misconfigured = await proxyWith({ PUBLIC_ROUTES: "health,status" })("/health");
    expect(await errorBody(misconfigured)).toMatchObject({
      error: { code: 500, message: expect.stringContaining("PUBLIC_ROUTES must not name status") },
    });
  });
});

describe("pauses an operator can see through and lift", () => {
  it("a 429's pause lasts an hour at most, whatever its Retry-After says", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    fake.failNext({ status: 429, headers: { "Retry-After": "8640000" } });
    const refused = await callProxy(uncachedSessionsPath());
    expect(refused.status).toBe(503);
    expect(refused.headers.get("Retry-After")).toBe("3600");
    expect((await budgetStatus()).paused_until).toBe("2026-11-22T13:00:00.000Z");
  });

  it("DELETE /status/pause lifts a pause at once, for every data centre", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    fake.failNext({ status: 429, headers: { "Retry-After": "3000" } });
    await callProxy(uncachedSessionsPath());
    const lifted = await callProxy("/status/pause", { method: "DELETE" });
    expect(lifted.status).toBe(200);
    expect(await lifted.json()).toMatchObject({ success: true, data: { paused_until: null } });
    const elsewhere = await dataCentre("elsewhere");
    expect((await elsewhere(uncachedSessionsPath())).status).toBe(200);
    expect(fake.requests).toHaveLength(2);
  });

  it("lifting a pause needs a key with status:write and is never public", async () => {
    useFakeUpstream();
    expect((await callProxy("/status/pause", { method: "DELETE", anonymous: true })).status).toBe(401);
    const narrow = await callProxy("/status/pause", {
      method: "DELETE",
      headers: { Authorization: `Bearer ${LOCAL_NARROW_API_KEY}` },
    });
    expect(await errorBody(narrow)).toMatchObject({
      error: { code: 403, message: expect.stringContaining("status:write") },
    });
    const misconfigured = await proxyWith({ PUBLIC_ROUTES: "health,lift-pause" })("/health");
    expect(misconfigured.status).toBe(500);
  });
});

describe("spend per key", () => {
  it("/status lists every key's upstream spend in its window, by key id", async () => {
    useFakeClock();
    useFakeUpstream();
    await callProxy(uncachedSessionsPath());
    await callProxy(uncachedSessionsPath());
    await callProxy(randomMeeting(), fromIp("203.0.113.40"));
    expect((await budgetStatus()).spend_per_key).toEqual({ "local-every-scope": 2 });
  });
});
