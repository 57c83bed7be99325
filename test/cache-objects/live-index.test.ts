import { describe, expect, it } from "vitest";
import { generatedMeetingId, MEETINGS } from "../../dev/fake-upstream/data.ts";
import { toStoredAnswer } from "../../src/cache/answer.ts";
import { LiveSessionsView } from "../../src/cache-objects/live-index.ts";
import { dataCentre, errorBody, proxyWith, useFakeClock, useFakeUpstream } from "../support/proxy.ts";

const FROM_INDEX = { ACTIVE_SESSION_SOURCE: "live-sessions" };
const activeSession = (meetingId: string) => `/meetings/${meetingId}/active-session`;

async function answer(response: Response) {
  return { status: response.status, body: await response.json() };
}

describe("ACTIVE_SESSION_SOURCE=live-sessions", () => {
  it("answers every meeting of the fake exactly as the upstream's active-session route does, V1 rooms included", async () => {
    useFakeUpstream();
    const fromIndex = proxyWith(FROM_INDEX);
    const fromMeeting = proxyWith();
    for (const meeting of MEETINGS) {
      const expected = await answer(await fromMeeting(activeSession(meeting.id)));
      expect(await answer(await fromIndex(activeSession(meeting.id))), meeting.title).toEqual(expected);
      expect(expected.status).toBe(meeting.live ? 200 : 404);
    }
  });

  it("a meeting asked for with its UUID in upper case gets the same answer from both sources", async () => {
    useFakeUpstream();
    const fromIndex = proxyWith(FROM_INDEX);
    const fromMeeting = proxyWith();
    for (const meeting of MEETINGS.filter(({ id }) => /^[0-9a-f-]{36}$/i.test(id))) {
      const upper = activeSession(meeting.id.toUpperCase());
      const expected = await answer(await fromMeeting(activeSession(meeting.id.toLowerCase())));
      expect(await answer(await fromIndex(upper)), meeting.title).toEqual(expected);
      expect(await answer(await fromMeeting(upper)), meeting.title).toEqual(expected);
    }
  });

  it("a meeting with no live session gets the upstream's 404 envelope and message", async () => {
    useFakeUpstream();
    const response = await proxyWith(FROM_INDEX)(activeSession("0d4e6a8c-2b1f-4e3d-9c5b-7a6f8e9d0c1b"));
    expect(response.status).toBe(404);
    expect(await errorBody(response)).toEqual({
      success: false,
      error: {
        code: 404,
        type: "not_found",
        message: "No active session found for meeting_id 0d4e6a8c-2b1f-4e3d-9c5b-7a6f8e9d0c1b",
      },
    });
  });

  it("fetches every page of the index once per TTL for all data centres and all meetings", async () => {
    const clock = useFakeClock();
    const fake = useFakeUpstream({ extraLiveMeetings: 250 });
    const centres = await Promise.all(["a", "b", "c"].map((name) => dataCentre(name, FROM_INDEX)));
    const meetings = Array.from({ length: 250 }, (_, n) => generatedMeetingId(n));
    for (const call of centres) {
      for (const meeting of meetings.slice(0, 40)) expect((await call(activeSession(meeting))).status).toBe(200);
    }
    // 253 live sessions, 100 a page: three pages, fetched once.
    expect(fake.requests.map((r) => new URL(r.url).search)).toEqual([
      "?status=LIVE&page_no=1&per_page=100",
      "?status=LIVE&page_no=2&per_page=100",
      "?status=LIVE&page_no=3&per_page=100",
    ]);
    const last = await centres[2]?.(activeSession(meetings[249] ?? ""));
    expect(last?.status).toBe(200);
    expect(fake.requests).toHaveLength(3);
    clock.advance(5_000);
    for (const call of centres) await call(activeSession(meetings[0] ?? ""));
    expect(fake.requests).toHaveLength(6);
  });

  it("Age, Cache-Status and ETag are the index's age and each meeting's own body", async () => {
    const clock = useFakeClock();
    useFakeUpstream();
    const call = proxyWith(FROM_INDEX);
    const v2 = await call(activeSession("6bf2b8be-04dd-4191-b602-1128921a306b"));
    clock.advance(3_000);
    const v1 = await call(activeSession("qwerty-asdfgh"));
    expect(v2.headers.get("Cache-Status")).toBe("realtimekit-proxy; fwd=miss; stored");
    expect(v1.headers.get("Cache-Status")).toBe("realtimekit-proxy; hit; ttl=2");
    expect(v1.headers.get("Age")).toBe("3");
    expect(v1.headers.get("ETag")).not.toBe(v2.headers.get("ETag"));
    const again = await call(activeSession("qwerty-asdfgh"), {
      headers: { "If-None-Match": v1.headers.get("ETag") ?? "" },
    });
    expect(again.status).toBe(304);
  });

  it("the index's pages are budgeted like every upstream call", async () => {
    useFakeUpstream({ extraLiveMeetings: 150 });
    const call = proxyWith(FROM_INDEX);
    await call(activeSession(generatedMeetingId(0)));
    const status = (await (await call("/status")).json()) as { data: { spend_per_route: Record<string, number> } };
    expect(status.data.spend_per_route).toEqual({ "live-sessions-index": 2 });
  });

  it("a load begun is finished: its later pages come from the budget, not from the share of the caller who started it", async () => {
    useFakeClock();
    const fake = useFakeUpstream({ extraLiveMeetings: 250 });
    // One upstream call per caller: enough to start a load of three pages, not to pay for all three.
    const proxy = proxyWith({ ...FROM_INDEX, CALLER_MISS_BUDGET: "1/300" });
    const response = await proxy(activeSession(generatedMeetingId(249)), {
      headers: { "CF-Connecting-IP": "198.51.100.9" },
    });
    expect(response.status).toBe(200);
    expect(fake.requests.map((request) => new URL(request.url).searchParams.get("page_no"))).toEqual(["1", "2", "3"]);
  });

  it("rejects an unknown source as a misconfiguration", async () => {
    useFakeUpstream();
    const response = await proxyWith({ ACTIVE_SESSION_SOURCE: "index" })("/health");
    expect(await errorBody(response)).toMatchObject({
      error: { code: 500, message: expect.stringContaining("ACTIVE_SESSION_SOURCE must be meeting or live-sessions") },
    });
  });
});

describe("LiveSessionsView", () => {
  it("picks the session started last when a meeting has several live ones, as the upstream does", async () => {
    const session = (id: string, startedAt: string) => ({ id, associated_id: "qwerty-asdfgh", started_at: startedAt });
    const sessions = [session("older", "2026-11-30T08:00:00Z"), session("newer", "2026-11-30T09:00:00Z")];
    const index = await toStoredAnswer({
      status: 200,
      body: JSON.stringify({ success: true, data: { sessions } }),
      producedAt: 0,
    });
    const answer = await new LiveSessionsView().answerFor(index, "qwerty-asdfgh");
    expect(JSON.parse(answer.body)).toEqual({ success: true, data: sessions[1] });
  });
});
