import Cloudflare from "cloudflare";
import { describe, expect, it } from "vitest";
import { FAKE_ACCOUNT_ID, FAKE_APP_ID } from "../../dev/fake-upstream/data.ts";
import { LOCAL_NARROW_API_KEY } from "../../dev/local-keys.ts";
import {
  API_KEY,
  callProxy,
  IDLE_V2_MEETING,
  LIVE_V1_MEETING,
  LIVE_V2_MEETING,
  proxyFetch,
  proxyWith,
  TOKEN,
  useFakeUpstream,
} from "../support/proxy.ts";

/**
 * The official SDK, changed in the two settings the README gives: baseURL is the proxy's
 * /client/v4 and apiToken is a proxy API key (sent, as always, as Authorization: Bearer).
 */
function sdk(apiToken = API_KEY) {
  return new Cloudflare({ apiToken, baseURL: "http://proxy.test/client/v4", maxRetries: 0, fetch: proxyFetch });
}

const ids = { account_id: FAKE_ACCOUNT_ID, app_id: FAKE_APP_ID };

async function shortPath(path: string) {
  return (await callProxy(path)).json();
}

describe("the official cloudflare SDK against the proxy", () => {
  it.each([LIVE_V2_MEETING, LIVE_V1_MEETING])(
    "activeSession.getActiveSession(%s) equals the short path",
    async (meetingId) => {
      useFakeUpstream();
      const answer = await sdk().realtimeKit.activeSession.getActiveSession(meetingId, ids);
      expect(answer).toEqual(await shortPath(`/meetings/${meetingId}/active-session`));
    },
  );

  it("a meeting without a live session is the SDK's NotFoundError, with the upstream's message", async () => {
    useFakeUpstream();
    const call = sdk().realtimeKit.activeSession.getActiveSession(IDLE_V2_MEETING, ids);
    await expect(call).rejects.toBeInstanceOf(Cloudflare.NotFoundError);
    await expect(call).rejects.toMatchObject({ status: 404 });
  });

  it("sessions.getSessions with a query equals the short path", async () => {
    useFakeUpstream();
    const answer = await sdk().realtimeKit.sessions.getSessions(FAKE_APP_ID, {
      account_id: FAKE_ACCOUNT_ID,
      status: "LIVE",
      per_page: 2,
      sort_by: "createdAt",
      sort_order: "DESC",
    });
    expect(answer).toEqual(await shortPath("/sessions?status=LIVE&per_page=2&sort_by=createdAt&sort_order=DESC"));
  });

  it("sessions.getSessionDetails and getSessionParticipants equal the short paths", async () => {
    const fake = useFakeUpstream();
    const id = fake.sessions[0]?.id ?? "";
    const details = await sdk().realtimeKit.sessions.getSessionDetails(id, { ...ids, include_breakout_rooms: true });
    expect(details).toEqual(await shortPath(`/sessions/${id}?include_breakout_rooms=true`));
    const participants = await sdk().realtimeKit.sessions.getSessionParticipants(id, {
      ...ids,
      view: "consolidated",
      per_page: 10,
    });
    expect(participants).toEqual(await shortPath(`/sessions/${id}/participants?view=consolidated&per_page=10`));
  });

  it("an invalid query is the SDK's BadRequestError, and the upstream is never called", async () => {
    const fake = useFakeUpstream();
    const call = sdk().realtimeKit.sessions.getSessions(FAKE_APP_ID, { account_id: FAKE_ACCOUNT_ID, per_page: 0 });
    await expect(call).rejects.toBeInstanceOf(Cloudflare.BadRequestError);
    expect(fake.requests).toHaveLength(0);
  });

  it("the SDK with the wrong key is an AuthenticationError", async () => {
    useFakeUpstream();
    const wrong = sdk("rkp_not_a_key_of_this_proxy_0000000000000000");
    await expect(
      wrong.realtimeKit.sessions.getSessions(FAKE_APP_ID, { account_id: FAKE_ACCOUNT_ID }),
    ).rejects.toBeInstanceOf(Cloudflare.AuthenticationError);
  });

  it("CORS allows every header the SDK sends, so it works from a browser page too", async () => {
    useFakeUpstream();
    const sent = new Set<string>();
    const recording = new Cloudflare({
      apiToken: API_KEY,
      baseURL: "http://proxy.test/client/v4",
      maxRetries: 0,
      fetch: (input, init) => {
        for (const [name] of new Headers(init?.headers)) sent.add(name.toLowerCase());
        return proxyFetch(input, init);
      },
    });
    await recording.realtimeKit.activeSession.getActiveSession(LIVE_V2_MEETING, ids);
    const browserSetsThese = new Set(["accept", "user-agent", "content-length"]);
    const preflight = await proxyWith({ ALLOWED_ORIGINS: "https://app.example.com" })("/sessions", {
      method: "OPTIONS",
      anonymous: true,
      headers: { Origin: "https://app.example.com", "Access-Control-Request-Method": "GET" },
    });
    const allowed = (preflight.headers.get("Access-Control-Allow-Headers") ?? "").toLowerCase().split(",");
    expect([...sent].filter((name) => !browserSetsThese.has(name) && !allowed.includes(name))).toEqual([]);
  });
});

describe("the official SDK joins people through the proxy (a key with participants:write)", () => {
  it("meetings.addParticipant adds once per custom id, and answers in the upstream's shape with a token", async () => {
    const fake = useFakeUpstream();
    const params = { ...ids, custom_participant_id: "crm-7", preset_name: "group_call_participant", name: "Ada" };
    const added = await sdk().realtimeKit.meetings.addParticipant(LIVE_V2_MEETING, params);
    expect(added).toMatchObject({
      success: true,
      data: {
        id: expect.any(String),
        token: expect.stringMatching(/^eyJ/),
        custom_participant_id: "crm-7",
        preset_name: "group_call_participant",
        name: "Ada",
        created_at: expect.any(String),
        updated_at: expect.any(String),
      },
    });
    const again = await sdk().realtimeKit.meetings.addParticipant(LIVE_V2_MEETING, params);
    expect(again.data?.id).toBe(added.data?.id);
    expect(fake.participants.of(LIVE_V2_MEETING)).toHaveLength(1);
  });

  it("meetings.refreshParticipantToken answers a fresh token", async () => {
    useFakeUpstream();
    const params = { ...ids, custom_participant_id: "crm-8", preset_name: "group_call_host" };
    const added = await sdk().realtimeKit.meetings.addParticipant(LIVE_V2_MEETING, params);
    const refreshed = await sdk().realtimeKit.meetings.refreshParticipantToken(added.data?.id ?? "", {
      ...ids,
      meeting_id: LIVE_V2_MEETING,
    });
    expect(refreshed).toEqual({ success: true, data: { token: expect.stringMatching(/^eyJ/) } });
    expect(refreshed.data.token).not.toBe(added.data?.token);
  });

  it("a preset outside JOIN_PRESETS is the SDK's PermissionDeniedError, without the upstream", async () => {
    const fake = useFakeUpstream();
    const call = sdk().realtimeKit.meetings.addParticipant(LIVE_V2_MEETING, {
      ...ids,
      custom_participant_id: "crm-9",
      preset_name: "webinar_presenter",
    });
    await expect(call).rejects.toBeInstanceOf(Cloudflare.PermissionDeniedError);
    expect(fake.requests).toHaveLength(0);
  });

  it("refreshing a participant of a preset JOIN_PRESETS does not allow is a 403: a key cannot mint a host outside the list", async () => {
    const fake = useFakeUpstream();
    // Someone made a presenter directly upstream (not through the proxy).
    const upstream = await fake.fetch(
      new Request(
        `https://api.cloudflare.com/client/v4/accounts/${FAKE_ACCOUNT_ID}/realtime/kit/${FAKE_APP_ID}/meetings/${LIVE_V2_MEETING}/participants`,
        {
          method: "POST",
          headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
          body: JSON.stringify({ custom_participant_id: "vip", preset_name: "webinar_presenter" }),
        },
      ),
    );
    const presenter = ((await upstream.json()) as { data: { id: string } }).data.id;
    const call = sdk().realtimeKit.meetings.refreshParticipantToken(presenter, { ...ids, meeting_id: LIVE_V2_MEETING });
    await expect(call).rejects.toBeInstanceOf(Cloudflare.PermissionDeniedError);
  });

  it("a key without participants:write cannot add", async () => {
    useFakeUpstream();
    const call = sdk(LOCAL_NARROW_API_KEY).realtimeKit.meetings.addParticipant(LIVE_V2_MEETING, {
      ...ids,
      custom_participant_id: "x",
      preset_name: "group_call_host",
    });
    await expect(call).rejects.toBeInstanceOf(Cloudflare.PermissionDeniedError);
  });
});
