import { exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { logger } from "../src/log.ts";
import { API_KEY, LIVE_V1_MEETING, useFakeUpstream } from "./support/proxy.ts";

// The Worker as the platform calls it (the integration's `exports.default`), with the
// env and Durable Objects of wrangler.toml's [env.test]. Every other suite uses
// test/support/proxy.ts, which calls the same entry with a fresh env per test.
const callEntry = (path: string, init?: RequestInit) =>
  exports.default.fetch(new Request(`http://proxy.test${path}`, init));

describe("the Worker through the platform's entry", () => {
  it("answers /health without the upstream", async () => {
    const fake = useFakeUpstream();
    const health = await callEntry("/health");
    expect(await health.json()).toMatchObject({ status: "ok" });
    expect(fake.requests).toHaveLength(0);
  });

  it("answers a proxied route from the upstream, once, then from the cache", async () => {
    const fake = useFakeUpstream();
    const path = `/meetings/${LIVE_V1_MEETING}/active-session`;
    const first = await callEntry(path);
    expect(first.status).toBe(200);
    expect(first.headers.get("Cache-Status")).toBe("realtimekit-proxy; fwd=miss; stored");
    const second = await callEntry(path);
    expect(second.headers.get("Cache-Status")).toMatch(/^realtimekit-proxy; hit; /);
    expect(fake.requests).toHaveLength(1);
  });

  it("answers the operator's /status from the budget gate, without the upstream", async () => {
    const fake = useFakeUpstream();
    const status = await callEntry("/status", { headers: { Authorization: `Bearer ${API_KEY}` } });
    expect(await status.json()).toMatchObject({ success: true, data: { budget: { limit: 1000, available: 1000 } } });
    expect(fake.requests).toHaveLength(0);
  });

  it("writes through separate requests each reach the budget gate (no Durable Object stub outlives its request)", async () => {
    const fake = useFakeUpstream();
    const write = (method: string, path: string, body: unknown) =>
      callEntry(path, {
        method,
        headers: { Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    const statuses = [
      (await write("POST", "/meetings", { title: "one" })).status,
      (await write("POST", "/meetings", { title: "two" })).status,
      (await write("PATCH", `/meetings/${LIVE_V1_MEETING}`, { title: "renamed" })).status,
    ];
    expect(statuses).toEqual([201, 201, 200]);
    const gateDown = vi.mocked(logger.write).mock.calls.filter(([, line]) => line.event === "budget_gate_unreachable");
    expect(gateDown).toEqual([]);
    expect(fake.requests).toHaveLength(3);
  });
});
