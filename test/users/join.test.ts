import { describe, expect, it, vi } from "vitest";
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
      custom_participant_id: await userIdOf(LOCAL_SIGN_IN.issuer, "alice"),
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

  it("joining twice makes one add, then one token refresh, for the same participant", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const token = await fake.identity.signIn({ sub: "alice", role: "host" });
    const first = (await (await callProxy(joinPath(), asUser(token))).json()) as JoinAnswer;
    const second = (await (await callProxy(joinPath(), asUser(token))).json()) as JoinAnswer;
    expect(second.data).toMatchObject({ participant_id: first.data.participant_id, created: false });
    expect(second.data.token).not.toBe(first.data.token);
    expect(upstreamCalls(fake)).toEqual(["POST /participants", "POST /participants/:id/token"]);
    expect(fake.participants.of(LIVE_V2_MEETING)).toHaveLength(1);
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

  it("a participant removed upstream is added again", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const token = await fake.identity.signIn({ sub: "alice", role: "host" });
    const first = (await (await callProxy(joinPath(), asUser(token))).json()) as JoinAnswer;
    fake.participants.remove(LIVE_V2_MEETING, first.data.participant_id);
    const again = (await (await callProxy(joinPath(), asUser(token))).json()) as JoinAnswer;
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
    const call = proxyWith({ CALLER_MISS_BUDGET: "1/300" });
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
