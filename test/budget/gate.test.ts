import { describe, expect, it } from "vitest";
import { BudgetGate, type PermitRequest } from "../../src/budget/gate.ts";
import type { SyncKv } from "../../src/sync-kv.ts";

/** The gate's storage as a Map (the Durable Object gives it SQLite-backed KV). */
function mapStore(): SyncKv & { entries: Map<string, unknown> } {
  const entries = new Map<string, unknown>();
  return {
    entries,
    get: <T>(key: string) => entries.get(key) as T | undefined,
    put: (key, value) => void entries.set(key, structuredClone(value)),
    delete: (key) => entries.delete(key),
    list: <T>({ prefix }: { prefix: string }) =>
      [...entries].filter(([key]) => key.startsWith(prefix)) as [string, T][],
  };
}

function gateWith(budget = "100/300", callerBudget = "1000/300") {
  const [requests = 0, seconds = 0] = budget.split("/").map(Number);
  const [callerRequests = 0, callerSeconds = 0] = callerBudget.split("/").map(Number);
  const clock = { now: 1_000_000 };
  const store = mapStore();
  const allowances = {
    budget: { requests, seconds },
    callerBudget: { requests: callerRequests, seconds: callerSeconds },
    joinShare: 0.6,
  };
  const make = () => new BudgetGate({ store, now: () => clock.now });
  const gate = make();
  const ask = (overrides: Partial<PermitRequest> = {}): PermitRequest => ({
    priority: "refresh",
    urgency: 0,
    quotaKey: "ip:192.0.2.1",
    route: "sessions",
    ...allowances,
    ...overrides,
  });
  return { gate, clock, store, ask, allowances, restart: make };
}

/** Takes permits every `everyMs` for `durationMs`; returns the times of those granted. */
function drain(setup: ReturnType<typeof gateWith>, request: PermitRequest, everyMs: number, durationMs: number) {
  const granted: number[] = [];
  const end = setup.clock.now + durationMs;
  for (; setup.clock.now < end; setup.clock.now += everyMs) {
    if (setup.gate.take(request).granted) granted.push(setup.clock.now);
  }
  return granted;
}

function maxInAnyWindow(times: number[], windowMs: number): number {
  let max = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while ((times[i] ?? 0) - (times[j] ?? 0) >= windowMs) j++;
    max = Math.max(max, i - j + 1);
  }
  return max;
}

describe("BudgetGate", () => {
  it("never grants more than the budget in any window, however hard it is asked", () => {
    const setup = gateWith("100/300");
    const granted = drain(setup, setup.ask(), 50, 1_800_000);
    expect(maxInAnyWindow(granted, 300_000)).toBeLessThanOrEqual(100);
    // ...while spending nearly all of it over half an hour.
    expect(granted.length).toBeGreaterThanOrEqual(560);
  });

  it("paces permits under overload instead of spending a window's budget at once", () => {
    const setup = gateWith("100/300");
    const granted = drain(setup, setup.ask({ urgency: 1 }), 10, 300_000);
    // A twentieth of the budget may go at once; the rest comes evenly, 95 over the window.
    expect(granted.filter((at) => at - (granted[0] ?? 0) < 1_000)).toHaveLength(5);
    const gaps = granted.slice(6).map((at, i) => at - (granted[i + 5] ?? 0));
    expect(Math.max(...gaps)).toBeLessThanOrEqual(3_170);
  });

  it("gives scarce permits to the most urgent loads: the oldest answers first", () => {
    const setup = gateWith("100/300");
    drain(setup, setup.ask({ urgency: 1 }), 10, 60_000);
    const young = setup.gate.take(setup.ask({ urgency: 0.1 }));
    const old = setup.gate.take(setup.ask({ urgency: 1 }));
    expect(young).toMatchObject({ granted: false, reason: "budget" });
    setup.clock.now += 3_200;
    expect(old.granted || setup.gate.take(setup.ask({ urgency: 1 })).granted).toBe(true);
  });

  it("a cold key asked for long enough may reach past half the window; a new one may not", () => {
    const setup = gateWith("100/300");
    const refreshes = drain(setup, setup.ask({ urgency: 1 }), 100, 160_000);
    expect(refreshes.length).toBeGreaterThan(50);
    setup.clock.now += 5_000;
    expect(setup.gate.take(setup.ask({ priority: "cold", urgency: 0 }))).toMatchObject({ granted: false });
    expect(setup.gate.take(setup.ask({ priority: "cold", urgency: 1 })).granted).toBe(true);
  });

  it("gives cold misses at most half the window; refreshes may still use the rest", () => {
    const setup = gateWith("100/300");
    const cold = drain(setup, setup.ask({ priority: "cold", quotaKey: "ip:attacker" }), 100, 300_000);
    expect(cold.length).toBeLessThanOrEqual(50);
    setup.clock.now += 30_000;
    const refreshes = drain(setup, setup.ask({ quotaKey: "ip:user" }), 100, 60_000);
    expect(refreshes.length).toBeGreaterThan(10);
  });

  it("refuses cold misses before refreshes when the bucket runs low", () => {
    const setup = gateWith("100/300");
    drain(setup, setup.ask({ urgency: 1 }), 1, 3);
    const cold = setup.gate.take(setup.ask({ priority: "cold" }));
    const refresh = setup.gate.take(setup.ask({ urgency: 0.5 }));
    expect(cold).toMatchObject({ granted: false, reason: "budget" });
    expect(refresh.granted).toBe(true);
  });

  it("a load of several pages begins only with room for all of them, and its later pages are never refused for pacing", () => {
    const setup = gateWith("100/300");
    const { gate, ask, clock } = setup;
    // 95 of the window's 100 spent (joins may borrow from pacing), then the pacing bucket refills a little.
    expect(drain(setup, ask({ priority: "join", joinShare: 1 }), 10, 95 * 10)).toHaveLength(95);
    clock.now += 25_000;
    expect(gate.take(ask({ urgency: 1, pages: 11 }))).toMatchObject({ granted: false, reason: "budget" });
    expect(gate.take(ask({ urgency: 1, pages: 5 })).granted).toBe(true);
    // The load's four other pages, back to back: the bucket is empty, the window has room.
    const later = [1, 2, 3, 4].map(() => gate.take(ask({ priority: "continuation", urgency: 1 })).granted);
    expect(later).toEqual([true, true, true, true]);
    expect(gate.take(ask({ priority: "continuation", urgency: 1 })).granted).toBe(false);
  });

  it("the proxy's own quota keys spend the deployment's budget and no caller's share", () => {
    const { gate, ask } = gateWith("100/300", "2/300");
    const own = [1, 2, 3, 4].map(() => gate.take(ask({ urgency: 1, quotaKey: "proxy:webhooks" })).granted);
    expect(own).toEqual([true, true, true, true]);
    expect(gate.status(gateWith().allowances).callers_over_share).toEqual([]);
  });

  it("a refusal says when a permit will be there", () => {
    const setup = gateWith("100/300");
    drain(setup, setup.ask(), 0.01, 0.1);
    const refusal = setup.gate.take(setup.ask());
    expect(refusal).toMatchObject({ granted: false, reason: "budget" });
    if (refusal.granted) return;
    setup.clock.now += refusal.retryAfterMs;
    expect(setup.gate.take(setup.ask()).granted).toBe(true);
  });

  it("limits each caller to its share, and leaves other callers alone", () => {
    const setup = gateWith("1000/300", "5/300");
    const one = setup.ask({ quotaKey: "ip:198.51.100.7" });
    const results = Array.from({ length: 6 }, () => setup.gate.take(one));
    expect(results.filter((r) => r.granted)).toHaveLength(5);
    expect(results[5]).toMatchObject({ granted: false, reason: "caller" });
    expect(setup.gate.take(setup.ask({ quotaKey: "ip:198.51.100.8" })).granted).toBe(true);
    expect(setup.gate.status(setup.allowances).callers_over_share).toEqual([{ caller: "ip:198.51.100.7", refused: 1 }]);
  });

  it("a caller's share comes back as its window slides", () => {
    const setup = gateWith("1000/300", "5/300");
    const one = setup.ask({ quotaKey: "key:team-a" });
    for (let i = 0; i < 5; i++) setup.gate.take(one);
    const refusal = setup.gate.take(one);
    expect(refusal.granted).toBe(false);
    if (refusal.granted) return;
    expect(refusal.retryAfterMs).toBeGreaterThan(0);
    setup.clock.now += refusal.retryAfterMs;
    expect(setup.gate.take(one).granted).toBe(true);
  });

  it("a pause refuses everything until it ends; a shorter pause does not shorten it", () => {
    const setup = gateWith();
    setup.gate.pause(setup.clock.now + 120_000);
    setup.gate.pause(setup.clock.now + 10_000);
    expect(setup.gate.take(setup.ask())).toMatchObject({ granted: false, reason: "paused", retryAfterMs: 120_000 });
    expect(setup.gate.status(setup.allowances).paused_until).toBe(new Date(setup.clock.now + 120_000).toISOString());
    setup.clock.now += 120_000;
    expect(setup.gate.take(setup.ask()).granted).toBe(true);
    expect(setup.gate.status(setup.allowances).paused_until).toBeNull();
  });

  it("keeps its state in its store: a restarted gate remembers grants, callers and the pause", () => {
    const setup = gateWith("100/300", "3/300");
    for (let i = 0; i < 3; i++) setup.gate.take(setup.ask({ quotaKey: "ip:a" }));
    setup.gate.pause(setup.clock.now + 60_000);
    const restarted = setup.restart();
    const status = restarted.status(setup.allowances);
    expect(status.budget.available).toBe(97);
    expect(status.paused_until).not.toBeNull();
    setup.clock.now += 60_000;
    expect(restarted.take(setup.ask({ quotaKey: "ip:a" }))).toMatchObject({ granted: false, reason: "caller" });
  });

  it("status counts spend per route and what is left", () => {
    const setup = gateWith("100/300");
    setup.gate.take(setup.ask({ route: "sessions" }));
    setup.gate.take(setup.ask({ route: "active-session" }));
    setup.gate.take(setup.ask({ route: "active-session" }));
    expect(setup.gate.status(setup.allowances)).toMatchObject({
      budget: { limit: 100, window_seconds: 300, available: 97, cold_available: 47 },
      spend_per_route: { sessions: 1, "active-session": 2 },
    });
    setup.clock.now += 300_000;
    expect(setup.gate.status(setup.allowances).budget.available).toBe(100);
  });
});
