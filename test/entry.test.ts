import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { API_KEY, LIVE_V1_MEETING, useFakeUpstream } from "./support/proxy.ts";

// The Worker as the platform calls it (the integration's `exports.default`), with the
// env and Durable Objects of wrangler.toml's [env.test]. Every other test uses
// test/support/proxy.ts, which calls the same entry with a fresh env per test.
describe("the Worker through the platform's entry", () => {
  it("serves /health, a proxied route and the operator's /status", async () => {
    const fake = useFakeUpstream();
    const health = await exports.default.fetch(new Request("http://proxy.test/health"));
    expect(await health.json()).toMatchObject({ status: "ok" });
    const active = await exports.default.fetch(
      new Request(`http://proxy.test/meetings/${LIVE_V1_MEETING}/active-session`),
    );
    expect(active.status).toBe(200);
    expect(active.headers.get("Cache-Status")).toMatch(/^realtimekit-proxy; /);
    const status = await exports.default.fetch(
      new Request("http://proxy.test/status", { headers: { Authorization: `Bearer ${API_KEY}` } }),
    );
    expect(await status.json()).toMatchObject({ success: true, data: { budget: { limit: 1000 } } });
    expect(fake.requests.length).toBeLessThanOrEqual(1);
  });
});
