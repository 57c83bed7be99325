import { describe, expect, it } from "vitest";
import { callProxy, errorBody, proxyWith, useFakeClock, useFakeUpstream } from "../support/proxy.ts";
import { createKey, TEAM, withKey } from "./support.ts";

describe("a key's own limits apply in place of the defaults", () => {
  it("rate_limit: a key of the 10-a-minute tier gets 429 on its 11th request of the minute; other keys do not", async () => {
    useFakeClock();
    useFakeUpstream();
    const slow = await createKey({ ...TEAM, rate_limit: 10 });
    const other = await createKey(TEAM);
    const call = proxyWith();
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await call("/sessions?search=slow", withKey(slow.secret))).status);
    expect(statuses).toEqual([...Array(10).fill(200), 429]);
    expect((await call("/sessions?search=slow", withKey(other.secret))).status).toBe(200);
  });

  it("upstream_share: a key's upstream calls are limited by its own share, with its own window", async () => {
    useFakeClock();
    useFakeUpstream();
    const frugal = await createKey({ ...TEAM, upstream_share: "2/60" });
    const call = proxyWith();
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await call(`/sessions?search=share-${i}`, withKey(frugal.secret)));
    expect(answers.map((response) => response.status)).toEqual([200, 200, 429]);
    expect(await errorBody(answers[2] as Response)).toMatchObject({ error: { type: "caller_budget" } });
    // Its own 60 s window (a sliding estimate over two of them), not the default 300 s one.
    expect(Number(answers[2]?.headers.get("Retry-After"))).toBe(90);
    // The default share (200 per 5 minutes) still holds for everyone else.
    expect((await callProxy("/sessions?search=share-others")).status).toBe(200);
  });
});
