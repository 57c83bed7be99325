import { describe, expect, it } from "vitest";
import { BudgetGate, type PermitRequest } from "../../src/budget/gate.ts";
import { PROBES_PER_CALLER } from "../../src/budget/join-queue.ts";
import type { SyncKv } from "../../src/sync-kv.ts";

function mapStore(): SyncKv {
  const entries = new Map<string, unknown>();
  return {
    get: <T>(key: string) => entries.get(key) as T | undefined,
    put: (key, value) => void entries.set(key, structuredClone(value)),
    delete: (key) => entries.delete(key),
    list: <T>({ prefix }: { prefix: string }) =>
      [...entries].filter(([key]) => key.startsWith(prefix)) as [string, T][],
  };
}

/** A gate of `requests` per 300 s with the given joins' share, and a clock that moves only when told. */
function gateWith(requests: number, joinShare: number) {
  const clock = { now: 5_000_000 };
  const store = mapStore();
  const gate = new BudgetGate({ store, now: () => clock.now });
  const join = (quotaKey: string, extra: Partial<PermitRequest> = {}): PermitRequest => ({
    priority: "join",
    urgency: 1,
    quotaKey,
    route: "join",
    budget: { requests, seconds: 300 },
    callerBudget: { requests: 1_000, seconds: 300 },
    joinShare,
    ...extra,
  });
  return { gate, clock, join, restart: () => new BudgetGate({ store, now: () => clock.now }) };
}

describe("the joins' share", () => {
  it("joins take at most JOIN_BUDGET_SHARE of the window; reads keep the rest", () => {
    const { gate, clock, join } = gateWith(100, 0.6);
    const joins = Array.from({ length: 80 }, (_, i) => gate.take(join(`user:${i}`)).granted);
    expect(joins.filter(Boolean)).toHaveLength(60);
    // Over the rest of the window, reads get the other 40 (paced), joins none.
    const read = { ...join("ip:192.0.2.1"), priority: "refresh" as const, urgency: 1 };
    let reads = 0;
    for (let second = 0; second < 290; second++, clock.now += 1_000) {
      if (gate.take(read).granted) reads++;
      expect(gate.take(join(`user:later-${second}`)).granted).toBe(false);
    }
    expect(reads).toBe(40);
  });

  it("refused joins get turns in the order they came, each when a join of the window leaves it", () => {
    const { gate, clock, join } = gateWith(100, 0.1);
    const start = clock.now;
    for (let i = 0; i < 10; i++) {
      expect(gate.take(join(`user:early-${i}`)).granted).toBe(true);
      clock.now += 1_000;
    }
    const turns = ["late-a", "late-b", "late-c"].map((name) => {
      const decision = gate.take(join(`user:${name}`));
      if (decision.granted) throw new Error("the share is taken: this join must wait");
      return clock.now + decision.retryAfterMs;
    });
    // The first three joins leave the window at 300, 301 and 302 s: those are the three turns.
    expect(turns.map((at) => (at - start) / 1000)).toEqual([300, 301, 302]);
  });

  it("asking again before its turn tells the same turn; at its turn the caller goes ahead of newcomers", () => {
    const { gate, clock, join } = gateWith(20, 0.1);
    gate.take(join("user:a"));
    clock.now += 1_000;
    gate.take(join("user:b"));
    const refused = gate.take(join("user:c"));
    if (refused.granted) throw new Error("the share is taken");
    const turn = clock.now + refused.retryAfterMs;
    clock.now += 60_000;
    const again = gate.take(join("user:c"));
    expect(again).toMatchObject({ granted: false, retryAfterMs: turn - clock.now });
    clock.now = turn;
    expect(gate.take(join("user:newcomer")).granted).toBe(false);
    expect(gate.take(join("user:c")).granted).toBe(true);
  });

  it("a turn not taken within a minute is spent: its caller queues again at the back", () => {
    const { gate, clock, join } = gateWith(10, 0.1);
    gate.take(join("user:a"));
    const refused = gate.take(join("user:late"));
    if (refused.granted) throw new Error("the share is taken");
    clock.now += refused.retryAfterMs + 61_000;
    const back = gate.take(join("user:late"));
    expect(back).toMatchObject({ granted: false, reason: "budget" });
  });

  it("turns survive a restart of the gate's object", () => {
    const { gate, clock, join, restart } = gateWith(10, 0.1);
    gate.take(join("user:a"));
    const refused = gate.take(join("user:b"));
    if (refused.granted) throw new Error("the share is taken");
    clock.now += refused.retryAfterMs;
    const restarted = restart();
    expect(restarted.take(join("user:newcomer")).granted).toBe(false);
    expect(restarted.take(join("user:b")).granted).toBe(true);
  });

  it("a join's further calls follow it without a turn of their own", () => {
    const { gate, join } = gateWith(10, 0.1);
    expect(gate.take(join("user:a")).granted).toBe(true);
    expect(gate.take(join("user:a", { followUp: true })).granted).toBe(true);
    expect(gate.take(join("user:b")).granted).toBe(false);
  });
});

describe("joins of meetings the proxy does not know (probes)", () => {
  it(`at most ${PROBES_PER_CALLER} per caller per window, then refused as that caller's, with the wait`, () => {
    const { gate, clock, join } = gateWith(1_000, 0.6);
    for (let i = 0; i < PROBES_PER_CALLER; i++)
      expect(gate.take(join("user:scanner", { probe: true })).granted).toBe(true);
    const refused = gate.take(join("user:scanner", { probe: true }));
    expect(refused).toMatchObject({ granted: false, reason: "probes" });
    // Joins of meetings it knows are not probes, and others' probes are theirs.
    expect(gate.take(join("user:scanner")).granted).toBe(true);
    expect(gate.take(join("user:other", { probe: true })).granted).toBe(true);
    clock.now += 300_000;
    expect(gate.take(join("user:scanner", { probe: true })).granted).toBe(true);
  });

  it("and 5% of the budget for the whole deployment, however many callers probe", () => {
    const { gate, join } = gateWith(1_000, 0.6);
    const granted = Array.from({ length: 100 }, (_, i) => gate.take(join(`user:${i}`, { probe: true })).granted);
    expect(granted.filter(Boolean)).toHaveLength(50);
    expect(gate.take(join("user:late", { probe: true }))).toMatchObject({ granted: false, reason: "budget" });
    expect(gate.take(join("user:late")).granted).toBe(true);
  });
});
