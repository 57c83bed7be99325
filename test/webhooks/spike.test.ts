import { expect, it } from "vitest";
import { dataCentre, LIVE_V2_MEETING, useFakeClock } from "../support/proxy.ts";
import { useWebhooks } from "../support/webhooks.ts";

it("spike", async () => {
  const clock = useFakeClock();
  const { fake, proxy, vars } = await useWebhooks({ ACTIVE_SESSION_SOURCE: "live-sessions" });
  const a = await dataCentre("a", vars);
  const b = await dataCentre("b", vars);
  const path = `/meetings/${LIVE_V2_MEETING}/active-session`;
  for (const call of [a, b]) console.warn("first", (await call(path)).status);
  fake.meetings.start("0d4e6a8c-2b1f-4e3d-9c5b-7a6f8e9d0c1b");
  await fake.webhooks.settled();
  clock.advance(16_000);
  for (const call of [a, b]) {
    const r = await call(path);
    console.warn("liveness", r.status, r.headers.get("Cache-Status"));
  }
  clock.advance(5_000);
  for (const call of [a, b]) {
    const r = await call(path);
    console.warn("pushed", r.status, r.headers.get("Cache-Status"));
  }
  const before = fake.requests.length;
  fake.meetings.end(LIVE_V2_MEETING);
  await fake.webhooks.settled();
  console.warn(
    "calls after end",
    fake.requests.length - before,
    fake.requests.slice(before).map((r) => r.url),
  );
  for (const call of [a, b]) {
    const r = await call(path);
    console.warn("after end", r.status, r.headers.get("Cache-Status"));
  }
  clock.advance(5_000);
  for (const call of [a, b]) {
    const r = await call(path);
    console.warn("after TTL", r.status, r.headers.get("Cache-Status"), r.headers.get("Age"));
  }
  console.warn("calls", fake.requests.length - before);
  clock.advance(100_000);
  for (const call of [a, b]) {
    const r = await call(path);
    console.warn("100s", r.status, r.headers.get("Cache-Status"), r.headers.get("Age"));
  }
  console.warn("calls", fake.requests.length - before);
  expect(1).toBe(1);
});
