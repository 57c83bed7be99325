import { describe, expect, it } from "vitest";
import type { FakeUpstream } from "../../dev/fake-upstream/app.ts";
import { FAKE_APP_ID } from "../../dev/fake-upstream/data.ts";
import { MIN_RENEWAL_GAP_MS } from "../../src/changes/feed.ts";
import { LIVENESS_CHECK_MS } from "../../src/reads/pushed.ts";
import { dataCentre, IDLE_V2_MEETING, LIVE_V2_MEETING, useFakeClock } from "../support/proxy.ts";
import { useWebhooks } from "../support/webhooks.ts";

const OTHER_IDLE_MEETING = "3c2b1a09-8f7e-4d6c-9b5a-4e3d2c1b0a9f";
const activeSession = (meetingId: string) => `/meetings/${meetingId}/active-session`;
const SOURCES = [["meeting"], ["live-sessions"]] as const;

type Call = (path: string) => Promise<Response>;
type Clock = ReturnType<typeof useFakeClock>;

/** Two data centres configured with the fake's webhook key, the given source. */
async function twoDataCentres(source: string) {
  const clock = useFakeClock();
  const setup = await useWebhooks({ ACTIVE_SESSION_SOURCE: source });
  const centres = [await dataCentre("a", setup.vars), await dataCentre("b", setup.vars)];
  return { ...setup, clock, centres };
}

/**
 * Webhooks arriving, as the data centres see it: a change of another meeting is delivered,
 * each data centre has asked the change feed since (in the background of a request), and
 * has renewed its copy of `path` since (pushed now).
 */
async function webhooksArriving(fake: FakeUpstream, centres: Call[], clock: Clock, path: string) {
  fake.meetings.start(OTHER_IDLE_MEETING);
  await fake.webhooks.settled();
  clock.advance(LIVENESS_CHECK_MS);
  for (const call of centres) await call(path);
  clock.advance(5_000);
  for (const call of centres) await call(path);
  clock.advance(MIN_RENEWAL_GAP_MS);
}

async function statuses(centres: Call[], path: string): Promise<number[]> {
  return Promise.all(centres.map(async (call) => (await call(path)).status));
}

describe.each(SOURCES)("ACTIVE_SESSION_SOURCE=%s, with webhooks", (source) => {
  it("a meeting ends: both data centres answer 404 within the local TTL, with one upstream call between them", async () => {
    const { fake, clock, centres } = await twoDataCentres(source);
    const path = activeSession(LIVE_V2_MEETING);
    expect(await statuses(centres, path)).toEqual([200, 200]);
    await webhooksArriving(fake, centres, clock, path);
    clock.advance(5_000);
    expect(await statuses(centres, path)).toEqual([200, 200]);
    const before = fake.requests.length;

    fake.meetings.end(LIVE_V2_MEETING);
    await fake.webhooks.settled();
    expect(fake.requests.slice(before).map((request) => new URL(request.url).pathname)).toEqual([
      expect.stringMatching(new RegExp(`/meetings/${LIVE_V2_MEETING}/active-session$`)),
    ]);
    clock.advance(5_000);
    expect(await statuses(centres, path)).toEqual([404, 404]);
    expect(fake.requests).toHaveLength(before + 1);
  });

  it("between changes polling costs no upstream call: the shared tier keeps the answer for PUSHED_TTL_SECONDS", async () => {
    const { fake, clock, centres } = await twoDataCentres(source);
    const path = activeSession(LIVE_V2_MEETING);
    await statuses(centres, path);
    await webhooksArriving(fake, centres, clock, path);
    const before = fake.requests.length;
    const cacheStatuses: string[] = [];
    for (let second = 0; second < 120; second += 5) {
      clock.advance(5_000);
      for (const call of centres) {
        const response = await call(path);
        expect(response.status).toBe(200);
        cacheStatuses.push(response.headers.get("Cache-Status") ?? "");
      }
    }
    expect(fake.requests).toHaveLength(before);
    // Each data centre still keeps its copy only for its own TTL: it asks the shared tier, not the upstream.
    expect(cacheStatuses.filter((status) => status.includes("detail=shared")).length).toBeGreaterThan(20);
  });

  it("a meeting starts: both data centres answer with its session within the local TTL", async () => {
    const { fake, clock, centres } = await twoDataCentres(source);
    const path = activeSession(IDLE_V2_MEETING);
    expect(await statuses(centres, path)).toEqual([404, 404]);
    await webhooksArriving(fake, centres, clock, path);
    fake.meetings.start(IDLE_V2_MEETING);
    await fake.webhooks.settled();
    clock.advance(5_000);
    const answers = await Promise.all(centres.map(async (call) => (await call(path)).json()));
    const live = fake.meetings.liveSession(IDLE_V2_MEETING);
    expect(answers).toEqual([
      { success: true, data: live },
      { success: true, data: live },
    ]);
  });

  it("when no change has arrived for PUSHED_TTL_SECONDS, answers go back to their TTL", async () => {
    const { fake, clock, centres } = await twoDataCentres(source);
    const [centre] = centres;
    if (!centre) throw new Error("a data centre");
    const path = activeSession(LIVE_V2_MEETING);
    await centre(path);
    await webhooksArriving(fake, [centre], clock, path);
    clock.advance(300_000);
    await centre(path); // the change feed is asked again: the last change is 5 minutes old
    const before = fake.requests.length;
    clock.advance(10_000);
    expect((await centre(path)).status).toBe(200);
    expect(fake.requests.length).toBeGreaterThan(before);
  });
});

describe("what a change renews, and how often", () => {
  it("a burst of events renews a meeting once; a change after 2 s renews it when next asked for", async () => {
    const { fake, clock, centres, delivery, proxy } = await twoDataCentres("meeting");
    const path = activeSession(LIVE_V2_MEETING);
    await statuses(centres, path);
    await webhooksArriving(fake, centres, clock, path);
    const before = fake.requests.length;
    for (let person = 0; person < 5; person++) {
      fake.meetings.join(LIVE_V2_MEETING, { id: `p${person}`, customParticipantId: `c${person}`, name: null });
    }
    const live = fake.meetings.liveSession(LIVE_V2_MEETING);
    for (let person = 0; person < 5; person++) {
      const joined = {
        event: "meeting.participantJoined",
        meeting: { id: LIVE_V2_MEETING, sessionId: live?.id, organizedBy: { id: FAKE_APP_ID, name: "Local app" } },
        participant: { joinedAt: new Date(Date.UTC(2026, 10, 22, 12, 0, 20 + person)).toISOString() },
      };
      const response = await proxy("/webhooks/realtimekit", {
        method: "POST",
        anonymous: true,
        ...(await delivery(joined).then(async (request) => ({ headers: request.headers, body: await request.text() }))),
      });
      expect(response.status).toBe(200);
    }
    expect(fake.requests).toHaveLength(before + 1);
    clock.advance(5_000);
    const answers = await Promise.all(centres.map(async (call) => (await call(path)).json()));
    // The last events came after the one renewal began: the next ask renews it again, once.
    expect(fake.requests).toHaveLength(before + 2);
    expect(answers).toEqual([
      { success: true, data: live },
      { success: true, data: live },
    ]);
  });

  it("someone joining through the proxy is delivered as a join: the idle meeting is live everywhere within the TTL", async () => {
    const { fake, clock, centres, proxy } = await twoDataCentres("live-sessions");
    const path = activeSession(IDLE_V2_MEETING);
    expect(await statuses(centres, path)).toEqual([404, 404]);
    await webhooksArriving(fake, centres, clock, path);
    const joined = await proxy(`/meetings/${IDLE_V2_MEETING}/join`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ custom_participant_id: "crm-1", preset_name: "group_call_host", name: "Ada" }),
    });
    expect(joined.status).toBe(200);
    await fake.webhooks.settled();
    // Deliveries are sent side by side: their order is not RealtimeKit's promise either.
    expect(fake.webhooks.sent.map(({ event, status }) => `${event} ${status}`).sort()).toEqual([
      "meeting.participantJoined 200",
      "meeting.started 200",
      "meeting.started 200",
    ]);
    clock.advance(5_000);
    expect(await statuses(centres, path)).toEqual([200, 200]);
  });

  it("stored /sessions lists that can show the meeting are dropped: their next load shows the change", async () => {
    const { fake, clock, centres } = await twoDataCentres("meeting");
    const [a, b] = centres;
    if (!a || !b) throw new Error("two data centres");
    const live = `/sessions?status=LIVE&associated_id=${LIVE_V2_MEETING}`;
    const ended = `/sessions?status=ENDED&associated_id=${LIVE_V2_MEETING}`;
    const otherMeeting = `/sessions?associated_id=${IDLE_V2_MEETING}`;
    const count = async (call: Call, path: string) =>
      ((await (await call(path)).json()) as { data: { sessions: unknown[] } }).data.sessions.length;
    await webhooksArriving(fake, [a], clock, live);
    // Every list is fresh in the shared tier when the meeting ends.
    expect(await count(a, live)).toBe(1);
    const endedBefore = await count(a, ended);
    await count(a, otherMeeting);
    fake.meetings.end(LIVE_V2_MEETING);
    await fake.webhooks.settled();
    // A list loaded less than 2 s before the change is renewed 2 s after its load, not at once.
    clock.advance(MIN_RENEWAL_GAP_MS);
    const before = fake.requests.length;
    // A data centre with no copy of its own gets the new lists: the shared copies were dropped.
    expect(await count(b, live)).toBe(0);
    expect(await count(b, ended)).toBe(endedBefore + 1);
    await count(b, otherMeeting);
    expect(fake.requests.length - before).toBe(2);
  });
});
