import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import Cloudflare from "cloudflare";
import { describe, expect, it, vi } from "vitest";
import { FAKE_ACCOUNT_ID, FAKE_APP_ID } from "../../dev/fake-upstream/data.ts";
import { LOCAL_SIGN_IN } from "../../dev/fake-upstream/identity.ts";
import { LOCAL_NARROW_API_KEY } from "../../dev/local-keys.ts";
import { BudgetGate } from "../../src/budget/gate.ts";
import { logger } from "../../src/log.ts";
import { MeetingParticipants } from "../../src/users/participants.ts";
import { userIdOf } from "../../src/users/user-token.ts";
import {
  API_KEY,
  callProxy,
  captureLogs,
  errorBody,
  holdUpstream,
  IDLE_V2_MEETING,
  LIVE_V2_MEETING,
  proxyWith,
  TOKEN,
  useFakeClock,
  useFakeUpstream,
} from "../support/proxy.ts";

const joinPath = (meetingId = LIVE_V2_MEETING) => `/meetings/${meetingId}/join`;
const asUser = (token: string, body?: unknown) => ({
  method: "POST",
  headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
  ...(body === undefined ? {} : { body: JSON.stringify(body) }),
});
const asKey = (body: unknown, key = API_KEY) => ({
  method: "POST",
  headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
  body: JSON.stringify(body),
});

interface JoinAnswer {
  success: true;
  data: { meeting_id: string; participant_id: string; preset_name: string; token: string; created: boolean };
}

/** What the fake upstream was asked, as `METHOD /path-after-the-meeting`. */
function upstreamCalls(fake: ReturnType<typeof useFakeUpstream>): string[] {
  return fake.requests.map((request) => {
    const path = new URL(request.url).pathname.replace(/^.*\/meetings\/[^/]+/, "");
    return `${request.method} ${path.replace(/\/participants\/[^/]+/, "/participants/:id")}`;
  });
}

describe("POST /meetings/:meetingId/join as a signed-in user", () => {
  it("adds the user as a participant, with the preset of their role, and answers a token that is never stored", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const token = await fake.identity.signIn({ sub: "alice", role: "host", name: "Alice" });
    const response = await callProxy(joinPath(LIVE_V2_MEETING.toUpperCase()), asUser(token));
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    expect(response.headers.has("ETag")).toBe(false);
    const answer = (await response.json()) as JoinAnswer;
    const [participant] = fake.participants.of(LIVE_V2_MEETING);
    expect(answer).toEqual({
      success: true,
      data: {
        meeting_id: LIVE_V2_MEETING,
        participant_id: participant?.id,
        preset_name: "group_call_host",
        token: expect.stringMatching(/^eyJ/),
        created: true,
      },
    });
    expect(participant).toMatchObject({
      custom_participant_id: `rkp-user-${await userIdOf(LOCAL_SIGN_IN.issuer, "alice")}`,
      preset_name: "group_call_host",
      name: "Alice",
    });
  });

  it('a user without a listed role joins with the "*" preset; the name can come from the body', async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const token = await fake.identity.signIn({ sub: "bob", role: "student", preferred_username: "bobby" });
    const answer = (await (await callProxy(joinPath(), asUser(token, { name: "Bob B." }))).json()) as JoinAnswer;
    expect(answer.data.preset_name).toBe("group_call_participant");
    expect(fake.participants.of(LIVE_V2_MEETING)[0]?.name).toBe("Bob B.");
  });

  it("joining again while the token is good hands back the same token, without an upstream call", async () => {
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    const token = await fake.identity.signIn({ sub: "alice", role: "host" });
    const first = (await (await callProxy(joinPath(), asUser(token))).json()) as JoinAnswer;
    // A page reload, a reconnect, ten minutes later: the same participant and token, free.
    clock.advance(600_000);
    const again = (await (await callProxy(joinPath(), asUser(token))).json()) as JoinAnswer;
    expect(again.data).toEqual({ ...first.data, created: false });
    expect(upstreamCalls(fake)).toEqual(["POST /participants"]);
  });

  it("past JOIN_TOKEN_REUSE_SECONDS a join refreshes the token, once; 0 refreshes on every join", async () => {
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    const token = await fake.identity.signIn({ sub: "alice", role: "host" });
    const first = (await (await callProxy(joinPath(), asUser(token))).json()) as JoinAnswer;
    clock.advance(3_600_000);
    const refreshed = (await (await callProxy(joinPath(), asUser(token))).json()) as JoinAnswer;
    expect(refreshed.data).toMatchObject({ participant_id: first.data.participant_id, created: false });
    expect(refreshed.data.token).not.toBe(first.data.token);
    expect(((await (await callProxy(joinPath(), asUser(token))).json()) as JoinAnswer).data.token).toBe(
      refreshed.data.token,
    );
    const everyTime = proxyWith({ JOIN_TOKEN_REUSE_SECONDS: "0" });
    await everyTime(joinPath(), asUser(token));
    await everyTime(joinPath(), asUser(token));
    expect(upstreamCalls(fake)).toEqual([
      "POST /participants",
      "POST /participants/:id/token",
      "POST /participants/:id/token",
      "POST /participants/:id/token",
    ]);
  });

  it("a token with half its lifetime gone is not handed out again, however long the reuse may be", async () => {
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    const call = proxyWith({ JOIN_TOKEN_REUSE_SECONDS: "86400" });
    const token = await fake.identity.signIn({ sub: "alice", role: "host" });
    // The fake's participant tokens last 24 hours, as their exp says.
    const first = (await (await call(joinPath(), asUser(token))).json()) as JoinAnswer;
    clock.advance(11 * 3_600_000);
    const fresh = await fake.identity.signIn({ sub: "alice", role: "host" });
    expect(((await (await call(joinPath(), asUser(fresh))).json()) as JoinAnswer).data.token).toBe(first.data.token);
    clock.advance(2 * 3_600_000);
    const later = await fake.identity.signIn({ sub: "alice", role: "host" });
    expect(((await (await call(joinPath(), asUser(later))).json()) as JoinAnswer).data.token).not.toBe(
      first.data.token,
    );
    expect(upstreamCalls(fake)).toEqual(["POST /participants", "POST /participants/:id/token"]);
  });

  it("the token handed out is kept in the meeting's object only: not in any log line or /status", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const logs = captureLogs();
    const answer = (await (
      await callProxy(joinPath(), asUser(await fake.identity.signIn({ sub: "alice" })))
    ).json()) as JoinAnswer;
    const kept = await runInDurableObject(env.MEETING_PARTICIPANTS.getByName(LIVE_V2_MEETING), async (_, state) =>
      JSON.stringify([...state.storage.kv.list()]),
    );
    expect(kept).toContain(answer.data.token);
    expect(await (await callProxy("/status")).text()).not.toContain(answer.data.token);
    for (const line of logs) expect(line).not.toContain(answer.data.token);
  });

  it("a changed role edits the participant's preset before answering", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    await callProxy(joinPath(), asUser(await fake.identity.signIn({ sub: "alice", role: "guest" })));
    const promoted = await callProxy(joinPath(), asUser(await fake.identity.signIn({ sub: "alice", role: "host" })));
    expect(((await promoted.json()) as JoinAnswer).data).toMatchObject({
      preset_name: "group_call_host",
      created: false,
    });
    expect(upstreamCalls(fake)).toEqual(["POST /participants", "PATCH /participants/:id"]);
    expect(fake.participants.of(LIVE_V2_MEETING)[0]?.preset_name).toBe("group_call_host");
  });

  it("a participant removed upstream is added again once its token is refreshed", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const call = proxyWith({ JOIN_TOKEN_REUSE_SECONDS: "0" });
    const token = await fake.identity.signIn({ sub: "alice", role: "host" });
    const first = (await (await call(joinPath(), asUser(token))).json()) as JoinAnswer;
    fake.participants.remove(LIVE_V2_MEETING, first.data.participant_id);
    const again = (await (await call(joinPath(), asUser(token))).json()) as JoinAnswer;
    expect(again.data.created).toBe(true);
    expect(again.data.participant_id).not.toBe(first.data.participant_id);
    expect(upstreamCalls(fake)).toEqual(["POST /participants", "POST /participants/:id/token", "POST /participants"]);
  });

  it("ten concurrent first joins of one user make one add", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const token = await fake.identity.signIn({ sub: "alice", role: "host" });
    const held = holdUpstream(fake, vi.spyOn(MeetingParticipants.prototype, "join"));
    const pending = Promise.all(Array.from({ length: 10 }, () => callProxy(joinPath(), asUser(token))));
    await held.releaseWhen(10);
    const answers = (await Promise.all((await pending).map((response) => response.json()))) as JoinAnswer[];
    expect(new Set(answers.map((answer) => answer.data.participant_id)).size).toBe(1);
    expect(upstreamCalls(fake)).toEqual(["POST /participants"]);
  });

  it("an upstream 5xx on add is one attempt, never retried: a retry could make a second participant", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    fake.failNext({ status: 503 }, { status: 503 }, { status: 503 });
    const response = await callProxy(joinPath(), asUser(await fake.identity.signIn({ sub: "alice" })));
    expect(response.status).toBe(502);
    expect(fake.requests).toHaveLength(1);
  });

  it("after an add that may have arrived unanswered, the next join finds that participant instead of adding another", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const token = await fake.identity.signIn({ sub: "alice", role: "host" });
    // The upstream makes the participant, but its answer is lost (the proxy sees a 504-like failure).
    const lost = fake.fetch;
    let dropped = false;
    vi.mocked(globalThis.fetch).mockImplementation(async (input, init) => {
      const request = new Request(input, init);
      const answer = await lost(request);
      if (!dropped && request.method === "POST" && new URL(request.url).pathname.endsWith("/participants")) {
        dropped = true;
        throw new TypeError("Network connection lost.");
      }
      return answer;
    });
    expect((await callProxy(joinPath(), asUser(token))).status).toBe(502);
    const again = (await (await callProxy(joinPath(), asUser(token))).json()) as JoinAnswer;
    expect(fake.participants.of(LIVE_V2_MEETING)).toHaveLength(1);
    expect(again.data).toMatchObject({ participant_id: fake.participants.of(LIVE_V2_MEETING)[0]?.id, created: false });
    expect(upstreamCalls(fake)).toEqual(["POST /participants", "GET /participants", "POST /participants/:id/token"]);
  });

  it("with JOIN_MEETINGS_CLAIM, a meeting the user's claim does not list is a 403", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const call = proxyWith({ JOIN_MEETINGS_CLAIM: "meetings" });
    const token = await fake.identity.signIn({ sub: "alice", meetings: [LIVE_V2_MEETING.toUpperCase()] });
    expect((await call(joinPath(), asUser(token))).status).toBe(200);
    const elsewhere = await call(joinPath(IDLE_V2_MEETING), asUser(token));
    expect(await errorBody(elsewhere)).toMatchObject({
      error: { code: 403, message: expect.stringContaining(IDLE_V2_MEETING) },
    });
    expect(upstreamCalls(fake)).toEqual(["POST /participants"]);
  });

  it('no preset for the user\'s role (and no "*") is a 403', async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const call = proxyWith({ JOIN_PRESETS: '{"claim":"role","presets":{"host":"group_call_host"}}' });
    const response = await call(joinPath(), asUser(await fake.identity.signIn({ sub: "eve", role: "guest" })));
    expect(await errorBody(response)).toMatchObject({
      error: { code: 403, message: expect.stringContaining("no preset") },
    });
    expect(fake.requests).toHaveLength(0);
  });

  it("a preset the upstream does not know is a 502 saying so, and an operator error line", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const call = proxyWith({ JOIN_PRESETS: '{"claim":"role","presets":{"*":"no_such_preset"}}' });
    const response = await call(joinPath(), asUser(await fake.identity.signIn({ sub: "alice" })));
    expect(await errorBody(response)).toMatchObject({
      error: { code: 502, message: "join preset no_such_preset is not configured upstream" },
    });
    const operatorLine = vi
      .mocked(logger.write)
      .mock.calls.find(([level, entry]) => level === "error" && entry.kind === "join_preset_unknown");
    expect(operatorLine?.[1]).toMatchObject({ hint: expect.stringContaining("JOIN_PRESETS") });
  });

  it("an unknown meeting is the upstream's 404", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const response = await callProxy(
      joinPath("11111111-2222-4333-8444-555555555555"),
      asUser(await fake.identity.signIn({ sub: "a" })),
    );
    expect(await errorBody(response)).toMatchObject({ error: { code: 404, message: "Meeting not found" } });
  });

  it("the picture claim is passed on only as an https URL", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    await callProxy(
      joinPath(),
      asUser(await fake.identity.signIn({ sub: "a", picture: "https://cdn.example.com/a.png" })),
    );
    await callProxy(joinPath(), asUser(await fake.identity.signIn({ sub: "b", picture: "javascript:alert(1)" })));
    expect(fake.participants.of(LIVE_V2_MEETING).map((participant) => participant.picture)).toEqual([
      "https://cdn.example.com/a.png",
      null,
    ]);
  });
});

describe("the join body", () => {
  it.each([
    ["an unknown field", { name: "A", role: "host" }, "role", 400],
    ["a preset asked for by a user", { preset_name: "group_call_host" }, "preset_name", 400],
    ["a name of the wrong type", { name: 42 }, "name", 400],
    ["an empty name", { name: "" }, "name", 400],
    ["a name with a control character", { name: "A\u0007" }, "name", 400],
    ["a name with a bidirectional override", { name: "Alice\u202Eecila" }, "name", 400],
    ["a name with a zero-width space", { name: "Al\u200Bice" }, "name", 400],
    ["a name of whitespace only", { name: " \u00A0\u3000 " }, "name", 400],
  ])("%s is a 400 naming it, without the upstream", async (_, body, path, status) => {
    useFakeClock();
    const fake = useFakeUpstream();
    const response = await callProxy(joinPath(), asUser(await fake.identity.signIn({ sub: "a" }), body));
    expect(await errorBody(response)).toMatchObject({
      error: { code: status, issues: [expect.objectContaining({ path })] },
    });
    expect(fake.requests).toHaveLength(0);
  });

  it("a body over 4 KiB is a 400, and another Content-Type a 415, without the upstream", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const token = await fake.identity.signIn({ sub: "a" });
    const large = await callProxy(joinPath(), asUser(token, { name: "x".repeat(5000) }));
    expect(await errorBody(large)).toMatchObject({
      error: { code: 400, message: expect.stringContaining("4096 bytes") },
    });
    const text = await callProxy(joinPath(), {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "text/plain" },
      body: '{"name":"A"}',
    });
    expect(text.status).toBe(415);
    expect(fake.requests).toHaveLength(0);
  });

  it("without JOIN_PRESETS (and so without sign-in), there is no join route", async () => {
    useFakeUpstream();
    const response = await proxyWith({ AUTH_JWKS_URL: "", JOIN_PRESETS: "" })(
      joinPath(),
      asKey({ custom_participant_id: "x", preset_name: "group_call_host" }),
    );
    expect(await errorBody(response)).toMatchObject({ error: { code: 404 } });
  });
});

describe("joins from backends (a key with participants:write)", () => {
  it("join anyone with a preset JOIN_PRESETS gives: one participant per custom id", async () => {
    useFakeClock();
    useFakeUpstream();
    const body = { custom_participant_id: "crm-42", preset_name: "group_call_participant", name: "Grace" };
    const first = (await (await callProxy(joinPath(), asKey(body))).json()) as JoinAnswer;
    const second = (await (await callProxy(joinPath(), asKey(body))).json()) as JoinAnswer;
    expect(first.data).toMatchObject({ created: true, preset_name: "group_call_participant" });
    expect(second.data).toMatchObject({ created: false, participant_id: first.data.participant_id });
  });

  it("a preset outside JOIN_PRESETS is a 403, and a key without the scope a 403, without the upstream", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const outside = await callProxy(
      joinPath(),
      asKey({ custom_participant_id: "x", preset_name: "webinar_presenter" }),
    );
    expect(await errorBody(outside)).toMatchObject({
      error: { code: 403, message: expect.stringContaining("webinar_presenter") },
    });
    const narrow = await callProxy(
      joinPath(),
      asKey({ custom_participant_id: "x", preset_name: "group_call_host" }, LOCAL_NARROW_API_KEY),
    );
    expect(await errorBody(narrow)).toMatchObject({
      error: { code: 403, message: expect.stringContaining("participants:write") },
    });
    expect(fake.requests).toHaveLength(0);
  });

  it("join can never be made public", async () => {
    const response = await proxyWith({ PUBLIC_ROUTES: "health,join" })("/health");
    expect(await errorBody(response)).toMatchObject({
      error: { code: 500, message: expect.stringContaining("must not name join") },
    });
  });
});

describe("joins and the budget", () => {
  it("take their permits as joins, ahead of reads, counted against the user's share", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const take = vi.spyOn(BudgetGate.prototype, "take");
    const token = await fake.identity.signIn({ sub: "alice" });
    const call = proxyWith({ CALLER_MISS_BUDGET: "1/300", JOIN_TOKEN_REUSE_SECONDS: "0" });
    expect((await call(joinPath(), asUser(token))).status).toBe(200);
    const id = await userIdOf(LOCAL_SIGN_IN.issuer, "alice");
    expect(take).toHaveBeenCalledWith(expect.objectContaining({ priority: "join", quotaKey: `user:${id}` }));
    // The user's share (1 call) is spent: the next join is refused as theirs, not everyone's.
    expect(await errorBody(await call(joinPath(), asUser(token)))).toMatchObject({ error: { code: 429 } });
  });

  it("a join gets its permit even when the pacing bucket turns reads away", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const call = proxyWith({ UPSTREAM_BUDGET: "40/300" });
    let refusedRead: Response | undefined;
    for (let i = 0; i < 40 && !refusedRead; i++) {
      const read = await call(`/meetings/${crypto.randomUUID()}/active-session`, {
        anonymous: true,
        headers: { "CF-Connecting-IP": `198.51.100.${i}` },
      });
      if (read.status === 503) refusedRead = read;
    }
    expect(refusedRead).toBeDefined();
    expect((await call(joinPath(), asUser(await fake.identity.signIn({ sub: "alice" })))).status).toBe(200);
  });
});

describe("no secret leaks through joins", () => {
  it("participant tokens, user tokens and the API token are in no log line and not in /status", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const logs = captureLogs();
    const userToken = await fake.identity.signIn({ sub: "alice", role: "host" });
    const tokens: string[] = [];
    for (let i = 0; i < 3; i++) {
      tokens.push(((await (await callProxy(joinPath(), asUser(userToken))).json()) as JoinAnswer).data.token);
    }
    fake.failNext({ status: 500, body: JSON.stringify({ success: false, error: { message: `bad ${TOKEN}` } }) });
    await callProxy(joinPath(), asUser(await fake.identity.signIn({ sub: "bob" })));
    await callProxy(joinPath(), asUser(`${userToken}x`));
    const status = await (await callProxy("/status")).text();
    for (const secret of [TOKEN, userToken, ...tokens]) {
      for (const line of logs) expect(line).not.toContain(secret);
      expect(status).not.toContain(secret);
    }
    expect(logs.length).toBeGreaterThan(5);
  });
});

describe("names from the user's token", () => {
  it("a name claim with format characters or only whitespace is not used: the next claim is, or none", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const claims = { role: "host", name: "Mallory\u202E", preferred_username: "mallory" };
    await callProxy(joinPath(), asUser(await fake.identity.signIn({ sub: "m", ...claims })));
    await callProxy(joinPath(), asUser(await fake.identity.signIn({ sub: "w", name: "   " })));
    expect(fake.participants.of(LIVE_V2_MEETING).map((participant) => participant.name)).toEqual(["mallory", null]);
  });
});

describe("joins of meetings the app does not have cost next to nothing", () => {
  it("300 joins of random ids by 5 users make at most 30 upstream requests, at most 10 a user, per 5 minutes", {
    timeout: 120_000,
  }, async () => {
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    const users = await Promise.all(["u1", "u2", "u3", "u4", "u5"].map((sub) => fake.identity.signIn({ sub })));
    const statuses = new Map<number, number>();
    for (let i = 0; i < 300; i++) {
      const response = await callProxy(joinPath(crypto.randomUUID()), asUser(users[i % 5] ?? ""));
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      await response.body?.cancel();
      clock.advance(1_000);
    }
    const byUser = new Map<string, number>();
    for (const request of fake.requests) {
      const body = JSON.parse(fake.bodyOf(request)) as { custom_participant_id: string };
      byUser.set(body.custom_participant_id, (byUser.get(body.custom_participant_id) ?? 0) + 1);
    }
    expect(fake.requests.length).toBeLessThanOrEqual(30);
    expect(Math.max(...byUser.values())).toBeLessThanOrEqual(10);
    // Each user's few probes were answered 404; the rest were refused at the proxy, with Retry-After.
    expect(statuses.get(404)).toBe(fake.requests.length);
    expect(statuses.get(429)).toBe(300 - fake.requests.length);
    // A real meeting still joins at once, for all of them.
    expect((await callProxy(joinPath(), asUser(users[0] ?? ""))).status).toBe(200);
  });

  it("the upstream's 404 for a meeting is believed for a minute: joins meanwhile ask nothing; then it is asked again", async () => {
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    const missing = "11111111-2222-4333-8444-555555555555";
    for (const sub of ["a", "b", "c"]) {
      const response = await callProxy(joinPath(missing), asUser(await fake.identity.signIn({ sub })));
      expect(await errorBody(response)).toMatchObject({ error: { code: 404, message: "Meeting not found" } });
    }
    expect(fake.requests).toHaveLength(1);
    clock.advance(61_000);
    await callProxy(joinPath(missing), asUser(await fake.identity.signIn({ sub: "d" })));
    expect(fake.requests).toHaveLength(2);
  });

  it("a user's sixth join of unknown meetings within the window is a 429 with Retry-After, without the upstream", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const token = await fake.identity.signIn({ sub: "scanner" });
    for (let i = 0; i < 5; i++)
      expect((await callProxy(joinPath(crypto.randomUUID()), asUser(token))).status).toBe(404);
    const sixth = await callProxy(joinPath(crypto.randomUUID()), asUser(token));
    expect(await errorBody(sixth)).toMatchObject({
      error: { code: 429, type: "caller_budget", message: expect.stringContaining("does not know yet") },
    });
    expect(Number(sixth.headers.get("Retry-After"))).toBeGreaterThan(200);
    expect(fake.requests).toHaveLength(5);
  });
});

describe("joins take at most JOIN_BUDGET_SHARE of the budget", () => {
  it("past the share a join is a 503 whose Retry-After is its turn: turns spread, in arrival order; reads keep theirs", async () => {
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    const call = proxyWith({ UPSTREAM_BUDGET: "50/300", JOIN_BUDGET_SHARE: "0.1" });
    const answers: Response[] = [];
    for (let i = 0; i < 8; i++) {
      answers.push(await call(joinPath(), asUser(await fake.identity.signIn({ sub: `fan-${i}` }))));
      clock.advance(1_000);
    }
    expect(answers.map((response) => response.status)).toEqual([200, 200, 200, 200, 200, 503, 503, 503]);
    // Each refused join's turn (when it came, plus its Retry-After): one after another, as they came.
    const turns = answers.slice(5).map((response, i) => 5 + i + Number(response.headers.get("Retry-After")));
    expect(turns).toEqual([300, 301, 302]);
    expect(await errorBody(answers[5] as Response)).toMatchObject({ error: { type: "upstream_budget" } });
    // Reads keep the rest of the window (once the pacing the joins borrowed from has refilled, in seconds).
    clock.advance(30_000);
    expect((await call("/sessions?search=after-joins")).status).toBe(200);
    expect(fake.requests.filter((request) => request.method === "POST")).toHaveLength(5);
  });

  it("a user back at its turn is admitted ahead of anyone who arrives then", async () => {
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    const call = proxyWith({ UPSTREAM_BUDGET: "4/300", JOIN_BUDGET_SHARE: "0.5" });
    for (const sub of ["a", "b"]) {
      await call(joinPath(), asUser(await fake.identity.signIn({ sub })));
      clock.advance(1_000);
    }
    const waiting = await fake.identity.signIn({ sub: "c" });
    const refused = await call(joinPath(), asUser(waiting));
    expect(refused.status).toBe(503);
    clock.advance(Number(refused.headers.get("Retry-After")) * 1000);
    const newcomer = await call(joinPath(), asUser(await fake.identity.signIn({ sub: "d" })));
    expect(newcomer.status).toBe(503);
    expect((await call(joinPath(), asUser(await fake.identity.signIn({ sub: "c" })))).status).toBe(200);
  });
});

describe("keys and users never share a participant", () => {
  it("a key's custom_participant_id in signed-in users' form is a 403, without the upstream", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const userId = await userIdOf(LOCAL_SIGN_IN.issuer, "alice");
    for (const id of [`rkp-user-${userId}`, `RKP-USER-${userId.toUpperCase()}`]) {
      const response = await callProxy(
        joinPath(),
        asKey({ custom_participant_id: id, preset_name: "group_call_host" }),
      );
      expect(await errorBody(response)).toMatchObject({
        error: { code: 403, message: expect.stringContaining("reserved for signed-in users") },
      });
    }
    expect(fake.requests).toHaveLength(0);
  });

  it("a key cannot refresh the token of a signed-in user's participant", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const joined = (await (
      await callProxy(joinPath(), asUser(await fake.identity.signIn({ sub: "alice", role: "host" })))
    ).json()) as JoinAnswer;
    const refresh = `/client/v4/accounts/${FAKE_ACCOUNT_ID}/realtime/kit/${FAKE_APP_ID}/meetings/${LIVE_V2_MEETING}/participants/${joined.data.participant_id}/token`;
    const response = await callProxy(refresh, { method: "POST" });
    expect(await errorBody(response)).toMatchObject({
      error: { code: 403, message: expect.stringContaining("signed-in user's") },
    });
    expect(upstreamCalls(fake)).toEqual(["POST /participants"]);
  });
});

describe("exactly the participant goes upstream", () => {
  /** The body the official SDK sends for a call, captured on its way (to nowhere). */
  async function sdkBody(call: (client: Cloudflare) => Promise<unknown>): Promise<string> {
    let body = "";
    const client = new Cloudflare({
      apiToken: TOKEN,
      maxRetries: 0,
      fetch: async (_input, init) => {
        body = String(init?.body ?? "");
        return Response.json({ success: true, data: {} });
      },
    });
    await call(client).catch(() => undefined);
    return body;
  }

  it("the add and edit bodies are byte for byte what the official SDK sends for the same call", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const ids = { account_id: FAKE_ACCOUNT_ID, app_id: FAKE_APP_ID };
    const participant = { custom_participant_id: "crm-42", preset_name: "group_call_participant", name: "Grace" };
    await callProxy(joinPath(), asKey(participant));
    const promoted = { ...participant, preset_name: "group_call_host", name: "Grace H." };
    await callProxy(joinPath(), asKey(promoted));
    const [add, edit] = fake.requests.map(fake.bodyOf);
    expect(add).toBe(
      await sdkBody((client) =>
        client.realtimeKit.meetings.addParticipant(LIVE_V2_MEETING, { ...ids, ...participant }),
      ),
    );
    expect(edit).toBe(
      await sdkBody((client) =>
        client.realtimeKit.meetings.editParticipant("p", {
          ...ids,
          meeting_id: LIVE_V2_MEETING,
          name: promoted.name,
          preset_name: promoted.preset_name,
        }),
      ),
    );
    expect(add).not.toMatch(/settings|quotaKey|meetingId|reuse/);
  });
});
