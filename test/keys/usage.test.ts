import { describe, expect, it, vi } from "vitest";
import { ManagedKeyObject } from "../../src/keys/key-object.ts";
import { USAGE_FLUSH_MS } from "../../src/keys/usage.ts";
import { callProxy, errorBody, IDLE_V2_MEETING, proxyWith, useFakeClock, useFakeUpstream } from "../support/proxy.ts";
import { asAdmin, createKey, TEAM, withKey } from "./support.ts";

interface Usage {
  window: string;
  requests: number;
  by_route: Record<string, { total: number; by_status: Record<string, number> }>;
  cache_hits: number;
  upstream_calls: number;
  last_used_at: string | null;
}

async function usageOf(id: string, window = "1h", call = callProxy, key?: string): Promise<Usage> {
  const response = await call(`/keys/${id}/usage?window=${window}`, key ? withKey(key) : asAdmin("GET"));
  if (response.status !== 200) throw new Error(`usage answered ${response.status}`);
  return ((await response.json()) as { data: Usage }).data;
}

describe("GET /keys/:keyId/usage", () => {
  it("is exact: requests by route and status, cache hits, upstream calls and the last use", async () => {
    const clock = useFakeClock();
    useFakeUpstream();
    const key = await createKey({ ...TEAM, scopes: ["sessions:read", "active-session:read"] });
    const call = proxyWith({ PUBLIC_ROUTES: "health" });
    await call("/sessions?search=usage", withKey(key.secret)); // a miss: one upstream call
    await call("/sessions?search=usage", withKey(key.secret)); // a hit
    await call(`/meetings/${IDLE_V2_MEETING}/active-session`, withKey(key.secret)); // the upstream's 404
    await call("/sessions?per_page=0", withKey(key.secret)); // a 400
    clock.advance(30_000);
    expect(await usageOf(key.id, "1h", call)).toEqual({
      window: "1h",
      from: "2026-11-22T11:00:00.000Z",
      to: "2026-11-22T12:00:30.000Z",
      requests: 4,
      by_route: {
        sessions: { total: 3, by_status: { "200": 2, "400": 1 } },
        "active-session": { total: 1, by_status: { "404": 1 } },
      },
      cache_hits: 1,
      upstream_calls: 2,
      last_used_at: "2026-11-22T12:00:00.000Z",
    });
  });

  it("an isolate sends a key's counts at most once a minute, however many requests it serves", async () => {
    const clock = useFakeClock();
    useFakeUpstream();
    const key = await createKey(TEAM);
    const record = vi.spyOn(ManagedKeyObject.prototype, "record");
    const call = proxyWith();
    for (let second = 0; second < 150; second++) {
      await call("/sessions?search=flush", withKey(key.secret));
      clock.advance(1_000);
    }
    // 150 s of requests: sent at 60 s and at 120 s, no more.
    expect(record).toHaveBeenCalledTimes(2);
    expect(USAGE_FLUSH_MS).toBe(60_000);
  });

  it("counts from every isolate add up; the asking isolate's are sent at once", async () => {
    const clock = useFakeClock();
    useFakeUpstream();
    const key = await createKey(TEAM);
    const [one, two] = [proxyWith(), proxyWith()];
    for (let i = 0; i < 3; i++) await one("/sessions?search=a", withKey(key.secret));
    clock.advance(USAGE_FLUSH_MS);
    await one("/sessions?search=a", withKey(key.secret)); // due: the isolate sends its 4
    for (let i = 0; i < 2; i++) await two("/sessions?search=b", withKey(key.secret));
    expect((await usageOf(key.id, "1h", two)).requests).toBe(6);
  });

  it("a key may read its own usage without keys:admin, and no other key's", async () => {
    useFakeClock();
    useFakeUpstream();
    const mine = await createKey(TEAM);
    const other = await createKey(TEAM);
    await callProxy("/sessions?search=own", withKey(mine.secret));
    expect((await usageOf(mine.id, "24h", callProxy, mine.secret)).requests).toBe(1);
    const refused = await callProxy(`/keys/${other.id}/usage`, withKey(mine.secret));
    expect(await errorBody(refused)).toMatchObject({ error: { code: 403 } });
  });

  it("config keys' usage is kept too; windows are 1h, 24h or 7d", async () => {
    useFakeClock();
    useFakeUpstream();
    await callProxy("/sessions?search=config-usage");
    expect((await usageOf("local-every-scope", "7d")).by_route.sessions).toEqual({
      total: 1,
      by_status: { "200": 1 },
    });
    const bad = await callProxy("/keys/local-every-scope/usage?window=30d", asAdmin("GET"));
    expect(await errorBody(bad)).toMatchObject({ error: { code: 400, issues: [{ path: "window" }] } });
  });

  it("usage outside the window is not counted", async () => {
    const clock = useFakeClock();
    useFakeUpstream();
    const key = await createKey(TEAM);
    await callProxy("/sessions?search=old", withKey(key.secret));
    clock.advance(2 * 3_600_000);
    await callProxy("/sessions?search=new", withKey(key.secret));
    expect((await usageOf(key.id, "1h")).requests).toBe(1);
    expect((await usageOf(key.id, "24h")).requests).toBe(2);
  });
});

describe("Workers Analytics Engine", () => {
  it("with USAGE bound, every request writes one data point: caller, route, status; never a secret", async () => {
    useFakeClock();
    useFakeUpstream();
    const points: unknown[] = [];
    const call = proxyWith({ USAGE: { writeDataPoint: (point: unknown) => points.push(point) } });
    const key = await createKey(TEAM, call);
    await call("/sessions?search=analytics", withKey(key.secret));
    await call("/health", { anonymous: true });
    expect(points).toEqual([
      {
        indexes: ["local-every-scope"],
        blobs: ["local-every-scope", "create-key", "200", "", "POST"],
        doubles: [1, 0, 0],
      },
      { indexes: [key.id], blobs: [key.id, "sessions", "200", "fwd=miss", "GET"], doubles: [1, 1, expect.any(Number)] },
      { indexes: ["public"], blobs: ["public", "health", "200", "", "GET"], doubles: [1, 0, expect.any(Number)] },
    ]);
    expect(JSON.stringify(points)).not.toContain(key.secret);
  });
});
