import { describe, expect, it } from "vitest";
import { JOIN_RETRIES, type JoinRequest, joinMeeting } from "../../browser/join.ts";
import { ProxyError } from "../../browser/poll.ts";
import { LIVE_V2_MEETING, proxyWith, useFakeClock, useFakeUpstream } from "../support/proxy.ts";

const JOIN_URL = `http://proxy.test/meetings/${LIVE_V2_MEETING}/join`;

/** A join whose pauses are recorded (and move the fake clock, when one is given). */
function request(send: typeof fetch, options: Partial<JoinRequest> & { advance?: (ms: number) => void } = {}) {
  const pauses: number[] = [];
  const join: JoinRequest = {
    url: JOIN_URL,
    getToken: undefined,
    name: undefined,
    signal: undefined,
    send,
    now: () => Date.now(),
    pause: async (ms) => {
      pauses.push(ms);
      options.advance?.(ms);
    },
    ...options,
  };
  return { join, pauses };
}

function answering(...statuses: (number | "network")[]) {
  const sent: RequestInit[] = [];
  const send = (async (_input: RequestInfo | URL, init?: RequestInit) => {
    sent.push(init ?? {});
    const status = statuses.length > 1 ? statuses.shift() : statuses[0];
    if (status === "network") throw new TypeError("Failed to fetch");
    const body = { success: false, error: { code: status, type: "upstream_budget", message: "budget" } };
    return new Response(JSON.stringify(body), { status, headers: { "Retry-After": "2" } });
  }) as typeof fetch;
  return { send, sent };
}

describe("the browser client's join", () => {
  it("through the proxy: the user's token as a bearer, the name in the body; the data with the participant token", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const call = proxyWith();
    const send = ((input: RequestInfo | URL, init?: RequestInit) =>
      call(new URL(String(input)).pathname, { ...init, anonymous: true })) as typeof fetch;
    const token = await fake.identity.signIn({ sub: "ada", role: "host" });
    const { join } = request(send, { getToken: async () => token, name: "Ada L." });
    const data = await joinMeeting(join);
    expect(data).toMatchObject({ meeting_id: LIVE_V2_MEETING, preset_name: "group_call_host", created: true });
    expect(data.token).toMatch(/^eyJ/);
    expect(fake.participants.of(LIVE_V2_MEETING)).toEqual([expect.objectContaining({ name: "Ada L." })]);
  });

  it("through the proxy: a 503 (the joins' share spent) is waited out by its Retry-After, then joins", async () => {
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    const call = proxyWith({ UPSTREAM_BUDGET: "10/300", JOIN_BUDGET_SHARE: "0.1" });
    const send = ((input: RequestInfo | URL, init?: RequestInit) =>
      call(new URL(String(input)).pathname, { ...init, anonymous: true })) as typeof fetch;
    const first = await fake.identity.signIn({ sub: "first" });
    await joinMeeting(request(send, { getToken: () => first }).join);
    const second = await fake.identity.signIn({ sub: "second" });
    const { join, pauses } = request(send, { getToken: () => second, advance: (ms) => clock.advance(ms) });
    const data = await joinMeeting(join);
    expect(data.created).toBe(true);
    expect(pauses).toHaveLength(1);
    expect(pauses[0]).toBeGreaterThan(0);
    expect(fake.participants.of(LIVE_V2_MEETING)).toHaveLength(2);
  });

  it(`retries a 503 at most ${JOIN_RETRIES} times, each after its Retry-After`, async () => {
    const { send, sent } = answering(503);
    const { join, pauses } = request(send);
    await expect(joinMeeting(join)).rejects.toMatchObject({ status: 503, type: "upstream_budget", retryAfter: 2 });
    expect(sent).toHaveLength(JOIN_RETRIES + 1);
    expect(pauses).toEqual([2_000, 2_000, 2_000]);
  });

  it.each([[401], [403], [429], [502], [504], ["network" as const]])(
    "never retries anything else (%s): the proxy makes a join safe, the page does not repeat it",
    async (status) => {
      const { send, sent } = answering(status, 200);
      const { join, pauses } = request(send);
      const failure = joinMeeting(join);
      await expect(failure).rejects.toBeInstanceOf(ProxyError);
      await expect(failure).rejects.toMatchObject({ status: status === "network" ? 0 : status });
      expect(sent).toHaveLength(1);
      expect(pauses).toEqual([]);
    },
  );

  it("asks for the user's token on every attempt (an identity provider renews one about to expire)", async () => {
    const { send, sent } = answering(503, 503, 200);
    let asked = 0;
    const { join } = request(send, { getToken: () => `token-${++asked}` });
    await joinMeeting(join).catch(() => undefined);
    expect(sent.map((init) => new Headers(init.headers).get("Authorization"))).toEqual([
      "Bearer token-1",
      "Bearer token-2",
      "Bearer token-3",
    ]);
  });
});
