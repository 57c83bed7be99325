import Cloudflare from "cloudflare";
import { describe, expect, it, vi } from "vitest";
import type { FakeUpstream } from "../../dev/fake-upstream/app.ts";
import { FAKE_ACCOUNT_ID, FAKE_APP_ID } from "../../dev/fake-upstream/data.ts";
import { RECORDING_SECRETS } from "../../dev/fake-upstream/meeting-records.ts";
import { LOCAL_NARROW_API_KEY } from "../../dev/local-keys.ts";
import { logger } from "../../src/log.ts";
import { IDEMPOTENCY_KEPT_MS } from "../../src/writes/idempotency.ts";
import { IdempotencyObject } from "../../src/writes/idempotency-object.ts";
import { createKey, withKey } from "../keys/support.ts";
import {
  API_KEY,
  callProxy,
  captureLogs,
  dataCentre,
  errorBody,
  holdUpstream,
  IDLE_V2_MEETING,
  LIVE_V2_MEETING,
  type ProxyInit,
  proxyFetch,
  proxyWith,
  TOKEN,
  useFakeClock,
  useFakeUpstream,
} from "../support/proxy.ts";

const ids = { account_id: FAKE_ACCOUNT_ID, app_id: FAKE_APP_ID };
const CLIENT_V4 = `/client/v4/accounts/${FAKE_ACCOUNT_ID}/realtime/kit/${FAKE_APP_ID}`;

interface MeetingAnswer {
  success: true;
  data: { id: string; title?: string | null; status?: string; [field: string]: unknown };
}
interface MeetingsAnswer {
  success: true;
  data: MeetingAnswer["data"][];
  paging?: { total_count: number };
}

/** The official SDK against the proxy, as the README configures it. */
function sdk(apiToken = API_KEY) {
  return new Cloudflare({ apiToken, baseURL: "http://proxy.test/client/v4", maxRetries: 0, fetch: proxyFetch });
}

/** The official SDK straight at the fake upstream, with the Cloudflare token: what the real API would receive. */
function directSdk(fake: FakeUpstream) {
  return new Cloudflare({
    apiToken: TOKEN,
    baseURL: "https://api.cloudflare.com/client/v4",
    maxRetries: 0,
    fetch: (input, init) => fake.fetch(new Request(input, init)),
  });
}

/** A request as the upstream received it: method, path, query (as a sorted list) and body. */
function received(fake: FakeUpstream, index = -1) {
  const request = fake.requests.at(index);
  if (!request) throw new Error("the upstream received nothing");
  const url = new URL(request.url);
  const body = fake.bodyOf(request);
  return {
    method: request.method,
    path: url.pathname,
    query: [...url.searchParams].sort(([a], [b]) => (a < b ? -1 : 1)),
    body: body === "" ? undefined : JSON.parse(body),
  };
}

function json(method: string, body: unknown, headers: Record<string, string> = {}): ProxyInit {
  return { method, headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) };
}

const SECRETS = Object.values(RECORDING_SECRETS);

function expectNoRecordingSettings(text: string): void {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
  expect(text).not.toContain("recording_config");
  expect(text).not.toContain("ai_config");
}

describe("the six official SDK calls against the proxy make the SDK's own requests upstream", () => {
  /** Runs the call straight at the fake and through the proxy: the upstream must receive the same request. */
  async function sameRequest<T>(call: (client: Cloudflare) => Promise<T>): Promise<T> {
    const fake = useFakeUpstream();
    await call(directSdk(fake));
    const direct = received(fake);
    const answer = await call(sdk());
    expect(received(fake)).toEqual(direct);
    expect(fake.requests).toHaveLength(2);
    return answer;
  }

  it("meetings.create", async () => {
    useFakeClock();
    const answer = await sameRequest((client) =>
      client.realtimeKit.meetings.create(FAKE_APP_ID, {
        account_id: FAKE_ACCOUNT_ID,
        title: "Quarterly review",
        persist_chat: true,
        session_keep_alive_time_in_secs: 120,
      }),
    );
    expect(answer.data).toMatchObject({ title: "Quarterly review", persist_chat: true, status: "ACTIVE" });
    expect(answer.data).not.toHaveProperty("recording_config");
  });

  it("meetings.get with every filter", async () => {
    const answer = await sameRequest((client) =>
      client.realtimeKit.meetings.get(FAKE_APP_ID, {
        account_id: FAKE_ACCOUNT_ID,
        page_no: 1,
        per_page: 5,
        search: "legacy",
        status: "ACTIVE",
        start_time: "2026-01-01T00:00:00.000Z",
        end_time: "2026-12-31T00:00:00.000Z",
      }),
    );
    expect(answer.data.map((meeting) => meeting.title)).toEqual([
      "Legacy all-hands",
      "Legacy standup",
      "Legacy support room",
    ]);
    expect(answer.paging).toEqual({ start_offset: 0, end_offset: 3, total_count: 3 });
  });

  it("meetings.getMeetingByID", async () => {
    const answer = await sameRequest((client) => client.realtimeKit.meetings.getMeetingByID(LIVE_V2_MEETING, ids));
    expect(answer.data).toMatchObject({ id: LIVE_V2_MEETING, title: "Weekly engineering sync" });
    expect(answer.data).not.toHaveProperty("ai_config");
  });

  it("meetings.updateMeetingByID", async () => {
    const answer = await sameRequest((client) =>
      client.realtimeKit.meetings.updateMeetingByID(LIVE_V2_MEETING, { ...ids, title: "Renamed", status: "INACTIVE" }),
    );
    expect(answer.data).toMatchObject({ title: "Renamed", status: "INACTIVE" });
  });

  it("activeSession.kickParticipants", async () => {
    const answer = await sameRequest((client) =>
      client.realtimeKit.activeSession.kickParticipants(LIVE_V2_MEETING, {
        ...ids,
        custom_participant_ids: ["someone-not-in-the-call"],
        participant_ids: ["9a7e0000-0001-4000-8000-000000000000"],
      }),
    );
    expect(answer).toEqual({ success: true, data: { action: "kick", participants: [] } });
  });

  it("activeSession.kickAllParticipants", async () => {
    const answer = await sameRequest((client) =>
      client.realtimeKit.activeSession.kickAllParticipants(LIVE_V2_MEETING, ids),
    );
    expect(answer).toEqual({ success: true, data: { action: "kick_all", kicked_participants_count: 0 } });
  });

  it("the SDK's errors: an unknown meeting is its NotFoundError, a narrowed field its BadRequestError", async () => {
    const fake = useFakeUpstream();
    const unknown = sdk().realtimeKit.meetings.updateMeetingByID("00000000-0000-4000-8000-00000000beef", {
      ...ids,
      title: "x",
    });
    await expect(unknown).rejects.toBeInstanceOf(Cloudflare.NotFoundError);
    const before = fake.requests.length;
    const narrowed = sdk().realtimeKit.meetings.create(FAKE_APP_ID, {
      account_id: FAKE_ACCOUNT_ID,
      title: "x",
      recording_config: { max_seconds: 60 },
    });
    await expect(narrowed).rejects.toBeInstanceOf(Cloudflare.BadRequestError);
    expect(fake.requests).toHaveLength(before);
  });
});

describe("scopes: meetings:read, meetings:write, sessions:moderate", () => {
  const CALLS: [string, string, ProxyInit?][] = [
    ["meetings", "/meetings"],
    ["meeting", `/meetings/${LIVE_V2_MEETING}`],
    ["create-meeting", "/meetings", json("POST", { title: "x" })],
    ["update-meeting", `/meetings/${LIVE_V2_MEETING}`, json("PATCH", { title: "x" })],
    ["kick", `/meetings/${LIVE_V2_MEETING}/active-session/kick`, json("POST", { custom_participant_ids: ["a"] })],
    ["kick-all", `/meetings/${LIVE_V2_MEETING}/active-session/kick-all`, { method: "POST" }],
  ];

  it.each(CALLS)(
    "%s: no key is a 401, a key without the scope a 403 naming it, and neither asks the upstream",
    async (_, path, init = {}) => {
      const fake = useFakeUpstream();
      expect((await callProxy(path, { ...init, anonymous: true })).status).toBe(401);
      const narrow = await callProxy(path, withKey(LOCAL_NARROW_API_KEY, init));
      expect(narrow.status).toBe(403);
      expect((await errorBody(narrow)).error.message).toMatch(/meetings:read|meetings:write|sessions:moderate/);
      expect(fake.requests).toHaveLength(0);
    },
  );

  it("a team's managed key does exactly what its scopes say", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const reader = await createKey({ name: "Reports", owner: "team-reports", scopes: ["meetings:read"] });
    const moderator = await createKey({ name: "Support desk", owner: "team-support", scopes: ["sessions:moderate"] });
    const status = async (secret: string, [, path, init]: (typeof CALLS)[number]) =>
      (await callProxy(path, withKey(secret, init ?? {}))).status;
    expect(await Promise.all(CALLS.map((call) => status(reader.secret, call)))).toEqual([200, 200, 403, 403, 403, 403]);
    expect(await Promise.all(CALLS.map((call) => status(moderator.secret, call)))).toEqual([
      403, 403, 403, 403, 200, 200,
    ]);
    expect(fake.requests.map((request) => request.method)).toEqual(["GET", "GET", "POST", "POST"]);
  });
});

describe("narrowed bodies: only what a team needs; recording and AI settings stay with the Cloudflare token", () => {
  it.each([
    ["create: ai_config", "POST", "/meetings", { title: "x", ai_config: { summarization: {} } }, "ai_config"],
    ["create: recording_config", "POST", "/meetings", { recording_config: { storage_config: {} } }, "recording_config"],
    ["create: a field meetings do not have", "POST", "/meetings", { title: "x", owner: "me" }, "owner"],
    ["create: status (a new meeting is active)", "POST", "/meetings", { status: "INACTIVE" }, "status"],
    ["create: an empty title", "POST", "/meetings", { title: "" }, "title"],
    ["create: a title over 200 characters", "POST", "/meetings", { title: "x".repeat(201) }, "title"],
    ["create: a title with a control character", "POST", "/meetings", { title: "a\u0007b" }, "title"],
    [
      "create: keep-alive under 60 s",
      "POST",
      "/meetings",
      { session_keep_alive_time_in_secs: 30 },
      "session_keep_alive_time_in_secs",
    ],
    [
      "create: keep-alive over 600 s",
      "POST",
      "/meetings",
      { session_keep_alive_time_in_secs: 601 },
      "session_keep_alive_time_in_secs",
    ],
    ["create: a flag that is no boolean", "POST", "/meetings", { persist_chat: "yes" }, "persist_chat"],
    ["update: nothing to change", "PATCH", `/meetings/${LIVE_V2_MEETING}`, {}, "body"],
    ["update: a status that is none", "PATCH", `/meetings/${LIVE_V2_MEETING}`, { status: "ENDED" }, "status"],
    ["update: recording_config", "PATCH", `/meetings/${LIVE_V2_MEETING}`, { recording_config: {} }, "recording_config"],
    ["kick: no list", "POST", `/meetings/${LIVE_V2_MEETING}/active-session/kick`, {}, "body"],
    [
      "kick: an empty list",
      "POST",
      `/meetings/${LIVE_V2_MEETING}/active-session/kick`,
      { participant_ids: [] },
      "participant_ids",
    ],
    [
      "kick: over 100 ids",
      "POST",
      `/meetings/${LIVE_V2_MEETING}/active-session/kick`,
      { custom_participant_ids: Array.from({ length: 101 }, (_, n) => `user-${n}`) },
      "custom_participant_ids",
    ],
    [
      "kick-all: a body it does not take",
      "POST",
      `/meetings/${LIVE_V2_MEETING}/active-session/kick-all`,
      { all: true },
      "all",
    ],
  ])("%s is a 400 naming it, without the upstream", async (_, method, path, body, named) => {
    const fake = useFakeUpstream();
    const response = await callProxy(path, json(method, body));
    expect(response.status).toBe(400);
    const { error } = await errorBody(response);
    expect(error.type).toBe("bad_request");
    expect(error.message).toContain(named);
    expect(fake.requests).toHaveLength(0);
  });

  it("a meeting id that is none, a body that is no JSON, or not sent as JSON: 400, 400, 415, without the upstream", async () => {
    const fake = useFakeUpstream();
    expect((await callProxy("/meetings/not-a-meeting", json("PATCH", { title: "x" }))).status).toBe(400);
    expect(
      (await callProxy("/meetings", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{" }))
        .status,
    ).toBe(400);
    expect((await callProxy("/meetings", { method: "POST", body: '{"title":"x"}' })).status).toBe(415);
    expect(fake.requests).toHaveLength(0);
  });

  it("the upstream-shaped path of another account or app is a 404, without the upstream", async () => {
    const fake = useFakeUpstream();
    const other = `/client/v4/accounts/ffffffffffffffffffffffffffffffff/realtime/kit/${FAKE_APP_ID}/meetings`;
    expect((await callProxy(other, json("POST", { title: "x" }))).status).toBe(404);
    expect(fake.requests).toHaveLength(0);
  });
});

describe("GET /meetings and /meetings/:meetingId: validated, cached, their recording settings withheld", () => {
  it.each([
    ["status=live", "status"],
    ["per_page=0", "per_page"],
    ["page_no=-1", "page_no"],
    ["start_time=yesterday", "start_time"],
    ["start_time=2026-06-01T00:00:00Z&end_time=2026-01-01T00:00:00Z", "start_time"],
    ["search=a%00b", "search"],
    ["sort_by=title", "sort_by"],
  ])("?%s is a 400 naming %s, without the upstream", async (query, named) => {
    const fake = useFakeUpstream();
    const response = await callProxy(`/meetings?${query}`);
    expect(response.status).toBe(400);
    expect((await errorBody(response)).error.message).toContain(named);
    expect(fake.requests).toHaveLength(0);
  });

  it("one upstream call answers a list asked again, in any parameter order, at either path", async () => {
    const fake = useFakeUpstream();
    const first = await callProxy("/meetings?status=ACTIVE&per_page=5");
    expect(first.status).toBe(200);
    expect(first.headers.get("Cache-Control")).toMatch(/private/);
    await callProxy("/meetings?per_page=5&status=ACTIVE");
    await callProxy(`${CLIENT_V4}/meetings?per_page=5&status=ACTIVE`);
    expect(fake.requests).toHaveLength(1);
  });

  it("recording and AI settings, storage credentials and stream keys, never reach an answer, a log line or a stored copy", async () => {
    const fake = useFakeUpstream();
    const logs = captureLogs();
    for (const path of ["/meetings?per_page=50", `/meetings/${LIVE_V2_MEETING}`]) {
      for (let time = 0; time < 2; time++) expectNoRecordingSettings(await (await callProxy(path)).text());
    }
    const created = await callProxy("/meetings", json("POST", { title: "New" }));
    const { data } = (await created.clone().json()) as MeetingAnswer;
    expectNoRecordingSettings(await created.text());
    expectNoRecordingSettings(
      await (await callProxy(`/meetings/${data.id}`, json("PATCH", { title: "Newer" }))).text(),
    );
    // The fake's answers held them all along.
    expect(JSON.stringify(fake.records.find(data.id))).toContain(RECORDING_SECRETS.secret);
    // A stored copy: another data centre answers from the shared tier, and that copy has none either.
    expectNoRecordingSettings(await (await (await dataCentre("elsewhere"))(`/meetings/${LIVE_V2_MEETING}`)).text());
    expectNoRecordingSettings(logs.join("\n"));
  });

  it("an unknown meeting is the upstream's 404, its message kept", async () => {
    useFakeUpstream();
    const response = await callProxy("/meetings/00000000-0000-4000-8000-00000000beef");
    expect(await errorBody(response)).toMatchObject({
      error: { code: 404, message: expect.stringContaining("Meeting not found") },
    });
  });
});

describe("writes keep reads true", () => {
  it("a create drops the stored lists: here and in a data centre that had none, the next list has the new meeting", async () => {
    const fake = useFakeUpstream();
    const elsewhere = await dataCentre("b");
    const list = "/meetings?per_page=100";
    const count = async (call: typeof callProxy) => ((await (await call(list)).json()) as MeetingsAnswer).data.length;
    const before = await count(callProxy);
    expect(await count(elsewhere)).toBe(before);
    expect(fake.requests).toHaveLength(1);
    const created = await callProxy("/meetings", json("POST", { title: "Fresh" }));
    expect(created.status).toBe(201);
    expect(created.headers.get("Cache-Control")).toBe("no-store");
    expect(await count(callProxy)).toBe(before + 1);
    // A third data centre asks the shared tier, which the create emptied: the list is asked again, once.
    expect(await count(await dataCentre("c"))).toBe(before + 1);
    expect(fake.requests.map((request) => request.method)).toEqual(["GET", "POST", "GET"]);
  });

  it("an update drops that meeting's stored answer and the lists, not other meetings' answers", async () => {
    const fake = useFakeUpstream();
    const meeting = `/meetings/${LIVE_V2_MEETING}`;
    const other = `/meetings/${IDLE_V2_MEETING}`;
    await callProxy(meeting);
    await callProxy(other);
    await callProxy("/meetings");
    const changed = await callProxy(meeting, json("PATCH", { title: "Renamed" }));
    expect(changed.status).toBe(200);
    expect(((await (await callProxy(meeting)).json()) as MeetingAnswer).data.title).toBe("Renamed");
    expect(((await (await (await dataCentre("b"))(meeting)).json()) as MeetingAnswer).data.title).toBe("Renamed");
    const listed = (await (await callProxy("/meetings")).json()) as MeetingsAnswer;
    expect(listed.data.find((one) => one.id === LIVE_V2_MEETING)?.title).toBe("Renamed");
    await callProxy(other);
    const paths = fake.requests.map(
      (request) =>
        `${request.method} ${new URL(request.url).pathname.split("/kit/")[1]?.split("/").slice(1).join("/")}`,
    );
    expect(paths).toEqual([
      `GET meetings/${LIVE_V2_MEETING}`,
      `GET meetings/${IDLE_V2_MEETING}`,
      "GET meetings",
      `PATCH meetings/${LIVE_V2_MEETING}`,
      `GET meetings/${LIVE_V2_MEETING}`,
      "GET meetings",
    ]);
  });

  it.each([["meeting"], ["live-sessions"]])(
    "a kick renews the meeting's stored active session (ACTIVE_SESSION_SOURCE=%s): the next read shows them gone",
    async (source) => {
      useFakeClock();
      useFakeUpstream();
      const vars = { ACTIVE_SESSION_SOURCE: source };
      const call = proxyWith(vars);
      const activeSession = `/meetings/${LIVE_V2_MEETING}/active-session`;
      const join = json("POST", { custom_participant_id: "crm-42", preset_name: "group_call_participant" });
      expect((await call(`/meetings/${LIVE_V2_MEETING}/join`, join)).status).toBe(200);
      const live = async (proxy: typeof callProxy) =>
        ((await (await proxy(activeSession)).json()) as { data: { live_participants: number } }).data.live_participants;
      const elsewhere = await dataCentre("b", vars);
      const before = await live(call);
      expect(await live(elsewhere)).toBe(before);
      const kicked = await call(
        `/meetings/${LIVE_V2_MEETING}/active-session/kick`,
        json("POST", { custom_participant_ids: ["crm-42"] }),
      );
      const { data } = (await kicked.json()) as { data: { participants: { custom_participant_id: string }[] } };
      expect(data.participants).toEqual([expect.objectContaining({ custom_participant_id: "crm-42" })]);
      expect(await live(call)).toBe(before - 1);
      expect(await live(await dataCentre("c", vars))).toBe(before - 1);
    },
  );

  it("a failed write drops nothing", async () => {
    const fake = useFakeUpstream();
    await callProxy("/meetings");
    fake.failNext({
      status: 404,
      body: JSON.stringify({ success: false, error: { code: 404, message: "Meeting not found" } }),
    });
    expect((await callProxy(`/meetings/${LIVE_V2_MEETING}`, json("PATCH", { title: "x" }))).status).toBe(404);
    await callProxy("/meetings");
    expect(fake.requests.map((request) => request.method)).toEqual(["GET", "PATCH"]);
  });
});

describe("creating: never retried; an Idempotency-Key makes repeats safe", () => {
  const create = (body: unknown, key?: string, secret = API_KEY) =>
    callProxy("/meetings", withKey(secret, json("POST", body, key ? { "Idempotency-Key": key } : {})));

  it("an upstream 5xx or a lost connection is one attempt, and the caller is told the meeting may exist", async () => {
    const fake = useFakeUpstream();
    fake.failNext({ status: 503 }, { status: 503 }, { status: 503 });
    const failed = await create({ title: "x" });
    expect(failed.status).toBe(502);
    expect(failed.headers.get("X-Should-Retry")).toBe("false");
    expect((await errorBody(failed)).error.message).toContain("Idempotency-Key");
    expect(fake.requests).toHaveLength(1);
    fake.failNext({ network: true }, { network: true });
    expect((await create({ title: "x" })).status).toBe(502);
    expect(fake.requests).toHaveLength(2);
  });

  it("the official SDK's own retries (twice by default) never send a create again once it may have been made", async () => {
    const fake = useFakeUpstream();
    fake.failNext({ status: 503 }, { status: 503 }, { status: 503 });
    const retrying = new Cloudflare({ apiToken: API_KEY, baseURL: "http://proxy.test/client/v4", fetch: proxyFetch });
    const call = retrying.realtimeKit.meetings.create(FAKE_APP_ID, { account_id: FAKE_ACCOUNT_ID, title: "Once" });
    await expect(call).rejects.toMatchObject({ status: 502 });
    expect(fake.requests).toHaveLength(1);
  });

  it("an update is retried after an upstream 5xx (it changes nothing twice)", async () => {
    const fake = useFakeUpstream();
    fake.failNext({ status: 503 });
    expect((await callProxy(`/meetings/${LIVE_V2_MEETING}`, json("PATCH", { title: "x" }))).status).toBe(200);
    expect(fake.requests).toHaveLength(2);
  });

  it("a repeat with the same key and body is the first answer again, without the upstream, marked Idempotent-Replayed", async () => {
    const fake = useFakeUpstream();
    const first = await create({ title: "Once", persist_chat: true }, "order-7");
    const again = await create({ persist_chat: true, title: "Once" }, "order-7");
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(first.headers.get("Idempotent-Replayed")).toBeNull();
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await again.json()).toEqual(await first.json());
    expect(fake.requests).toHaveLength(1);
  });

  it("a repeat while the first is in flight waits for it, and gets its answer", async () => {
    const fake = useFakeUpstream();
    const held = holdUpstream(fake, vi.spyOn(IdempotencyObject.prototype, "create"));
    const both = Promise.all([create({ title: "Held" }, "held-1"), create({ title: "Held" }, "held-1")]);
    await held.releaseWhen(2);
    const answers = (await Promise.all((await both).map((response) => response.json()))) as MeetingAnswer[];
    expect(answers[0]?.data.id).toBe(answers[1]?.data.id);
    expect(fake.requests).toHaveLength(1);
  });

  it("the same key with another body is a 409, without the upstream", async () => {
    const fake = useFakeUpstream();
    await create({ title: "One" }, "key-1");
    const other = await create({ title: "Two" }, "key-1");
    expect(await errorBody(other)).toMatchObject({
      error: { code: 409, type: "conflict", message: expect.stringContaining("Idempotency-Key") },
    });
    expect(fake.requests).toHaveLength(1);
  });

  it("keys are per caller, and kept 24 hours", async () => {
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    const team = await createKey({ name: "Team", owner: "team", scopes: ["meetings:write"] });
    const mine = (await (await create({ title: "Same" }, "shared-key")).json()) as MeetingAnswer;
    const theirs = (await (await create({ title: "Same" }, "shared-key", team.secret)).json()) as MeetingAnswer;
    expect(theirs.data.id).not.toBe(mine.data.id);
    clock.advance(IDEMPOTENCY_KEPT_MS - 1_000);
    expect(((await (await create({ title: "Same" }, "shared-key")).json()) as MeetingAnswer).data.id).toBe(
      mine.data.id,
    );
    clock.advance(2_000);
    expect(((await (await create({ title: "Same" }, "shared-key")).json()) as MeetingAnswer).data.id).not.toBe(
      mine.data.id,
    );
    expect(fake.requests.filter((request) => request.method === "POST")).toHaveLength(3);
  });

  it("a failure the upstream answered is kept too: the repeat gets it, and never makes a second meeting", async () => {
    const fake = useFakeUpstream();
    fake.failNext({ status: 503 });
    expect((await create({ title: "x" }, "flaky")).status).toBe(502);
    const again = await create({ title: "x" }, "flaky");
    expect(again.status).toBe(502);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(fake.requests).toHaveLength(1);
  });

  it("a refusal before the upstream is not kept: the repeat is a first request", async () => {
    const fake = useFakeUpstream();
    const frugal = await createKey({
      name: "Frugal",
      owner: "team",
      scopes: ["meetings:write"],
      upstream_share: "1/60",
    });
    expect((await create({ title: "a" }, "k-a", frugal.secret)).status).toBe(201);
    const refused = await create({ title: "b" }, "k-b", frugal.secret);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("Retry-After")).toMatch(/^[1-9][0-9]*$/);
    expect(fake.requests).toHaveLength(1);
  });

  it.each([
    ["empty", ""],
    ["over 255 characters", "k".repeat(256)],
    ["with a control character", "a\tb"],
  ])("an Idempotency-Key %s is a 400 naming it, without the upstream", async (_, key) => {
    const fake = useFakeUpstream();
    const response = await callProxy("/meetings", json("POST", { title: "x" }, { "Idempotency-Key": key }));
    expect(response.status).toBe(400);
    expect((await errorBody(response)).error.message).toContain("Idempotency-Key");
    expect(fake.requests).toHaveLength(0);
  });
});

describe("accounting: writes take a person's permits, count against the caller, and are audited", () => {
  it("each write is in /status under its route and the key's spend, and is one audit line without the body", async () => {
    useFakeClock();
    useFakeUpstream();
    const team = await createKey({ name: "Team", owner: "team", scopes: ["meetings:write", "sessions:moderate"] });
    await callProxy("/meetings", withKey(team.secret, json("POST", { title: "Secret plans" })));
    await callProxy(`/meetings/${LIVE_V2_MEETING}`, withKey(team.secret, json("PATCH", { title: "Renamed" })));
    await callProxy(`/meetings/${LIVE_V2_MEETING}/active-session/kick-all`, withKey(team.secret, { method: "POST" }));
    const status = (await (await callProxy("/status")).json()) as {
      data: { spend_per_route: Record<string, number>; spend_per_key: Record<string, number> };
    };
    expect(status.data.spend_per_route).toMatchObject({ "create-meeting": 1, "update-meeting": 1, "kick-all": 1 });
    expect(status.data.spend_per_key[team.id]).toBe(3);
    const audits = vi
      .mocked(logger.write)
      .mock.calls.filter(([, line]) => line.event === "write_audit")
      .map(([, line]) => line);
    expect(audits).toEqual([
      {
        event: "write_audit",
        route: "create-meeting",
        caller: team.id,
        meetingId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      },
      { event: "write_audit", route: "update-meeting", caller: team.id, meetingId: LIVE_V2_MEETING },
      { event: "write_audit", route: "kick-all", caller: team.id, meetingId: LIVE_V2_MEETING },
    ]);
    expect(JSON.stringify(vi.mocked(logger.write).mock.calls)).not.toContain("Secret plans");
  });

  it("writes share the joins' part of the budget, so reads keep the rest", async () => {
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    // 40 calls in 5 minutes, of which joins and writes may take 4.
    const call = proxyWith({ UPSTREAM_BUDGET: "40/300", JOIN_BUDGET_SHARE: "0.1" });
    for (let n = 0; n < 4; n++) expect((await call("/meetings", json("POST", { title: `m${n}` }))).status).toBe(201);
    clock.advance(60_000);
    const fifth = await call("/meetings", json("POST", { title: "m4" }));
    expect(await errorBody(fifth)).toMatchObject({ error: { code: 503, type: "upstream_budget" } });
    expect(Number(fifth.headers.get("Retry-After"))).toBeGreaterThan(0);
    const read = await call("/meetings?per_page=3");
    expect(read.status, await read.clone().text()).toBe(200);
    expect(fake.requests.map((request) => request.method)).toEqual(["POST", "POST", "POST", "POST", "GET"]);
  });
});
