import { describe, expect, it } from "vitest";
import { createFakeUpstream } from "../../dev/fake-upstream/app.ts";
import { FAKE_API_TOKEN, type Session } from "../../dev/fake-upstream/data.ts";
import { RECORDING_SECRETS } from "../../dev/fake-upstream/meeting-records.ts";
import { UPSTREAM_APP_URL } from "../support/proxy.ts";

// The fake stands in for the real API in `npm start` and every test, so it is tested too.
const fake = createFakeUpstream();

async function get(path: string, token = FAKE_API_TOKEN) {
  const response = await fake.fetch(
    new Request(`${UPSTREAM_APP_URL}${path}`, { headers: { Authorization: `Bearer ${token}` } }),
  );
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function sessions(query: string): Promise<Session[]> {
  const { status, body } = await get(`/sessions?${query}`);
  expect(status).toBe(200);
  return (body.data as { sessions: Session[] }).sessions;
}

describe("the fake upstream", () => {
  it("answers a wrong token with 401 in the Cloudflare v4 envelope", async () => {
    expect(await get("/sessions", "wrong")).toEqual({
      status: 401,
      body: { success: false, errors: [{ code: 10000, message: "Authentication error" }], messages: [], result: null },
    });
  });

  it("answers another account with 403", async () => {
    const response = await fake.fetch(
      new Request(`${UPSTREAM_APP_URL.replace(/accounts\/[0-9a-f]+/, "accounts/ffff")}/sessions`, {
        headers: { Authorization: `Bearer ${FAKE_API_TOKEN}` },
      }),
    );
    expect(response.status).toBe(403);
  });

  it("has LIVE and ENDED sessions of V1 and V2 meetings", () => {
    const statuses = new Set(fake.sessions.map((session) => session.status));
    expect(statuses).toEqual(new Set(["LIVE", "ENDED"]));
    expect(fake.sessions.some((session) => /^[a-z]{6}-[a-z]{6}$/.test(session.associated_id))).toBe(true);
    expect(fake.sessions.some((session) => /^[0-9a-f-]{36}$/i.test(session.associated_id))).toBe(true);
    expect(fake.sessions.filter((session) => session.status === "ENDED").every((session) => session.ended_at)).toBe(
      true,
    );
  });

  it("answers the documented 404 for a meeting without a live session", async () => {
    expect(await get("/meetings/zxcvbn-poiuyt/active-session")).toEqual({
      status: 404,
      body: { success: false, error: { code: 404, message: "No active session found for meeting_id zxcvbn-poiuyt" } },
    });
  });

  it("filters by associated_id and status", async () => {
    const found = await sessions("associated_id=qwerty-asdfgh&status=ENDED");
    expect(found.length).toBeGreaterThan(0);
    expect(found.every((s) => s.associated_id === "qwerty-asdfgh" && s.status === "ENDED")).toBe(true);
  });

  it("filters by a time range on created_at", async () => {
    const found = await sessions("start_time=2026-10-03T00:00:00.000Z&end_time=2026-10-05T00:00:00.000Z&per_page=100");
    const expected = fake.sessions.filter(
      (s) => s.created_at >= "2026-10-03T00:00:00.000Z" && s.created_at <= "2026-10-05T00:00:00.000Z",
    );
    expect(found.map((s) => s.id).sort()).toEqual(expected.map((s) => s.id).sort());
    expect(found.length).toBeGreaterThan(0);
  });

  it("searches meeting titles, meeting ids and session ids", async () => {
    expect(
      (await sessions("search=legacy&per_page=100")).every((s) => s.meeting_display_name.startsWith("Legacy")),
    ).toBe(true);
    expect(await sessions(`search=${fake.sessions[3]?.id}`)).toHaveLength(1);
  });

  it("filters by participants", async () => {
    const found = await sessions("participants=nobody-by-that-name");
    expect(found).toEqual([]);
    expect((await sessions("participants=ada&per_page=100")).length).toBeGreaterThan(0);
  });

  it("sorts by minutesConsumed and createdAt, both ways", async () => {
    const asc = await sessions("sort_by=minutesConsumed&sort_order=ASC&per_page=100");
    const minutes = asc.map((s) => s.minutes_consumed);
    expect(minutes).toEqual([...minutes].sort((a, b) => a - b));
    const desc = await sessions("sort_by=createdAt&sort_order=DESC&per_page=100");
    const created = desc.map((s) => s.created_at);
    expect(created).toEqual([...created].sort().reverse());
  });

  it("pages with paging offsets", async () => {
    const { body } = await get("/sessions?per_page=4&page_no=2&sort_by=createdAt&sort_order=ASC");
    expect(body.paging).toEqual({ start_offset: 4, end_offset: 8, total_count: fake.sessions.length });
    expect((body.data as { sessions: Session[] }).sessions).toHaveLength(4);
  });
});

describe("the fake upstream's meetings", () => {
  async function send(method: string, path: string, body?: unknown) {
    const upstream = createFakeUpstream();
    const response = await upstream.fetch(
      new Request(`${UPSTREAM_APP_URL}${path}`, {
        method,
        headers: { Authorization: `Bearer ${FAKE_API_TOKEN}`, "Content-Type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    );
    return { status: response.status, body: (await response.json()) as { data?: unknown; paging?: unknown } };
  }

  it("lists meetings newest first, filtered by title and status, paged", async () => {
    const { status, body } = await send("GET", "/meetings?search=LEGACY&status=ACTIVE&per_page=2&page_no=2");
    expect(status).toBe(200);
    expect((body.data as { title: string }[]).map((meeting) => meeting.title)).toEqual(["Legacy support room"]);
    expect(body.paging).toEqual({ start_offset: 2, end_offset: 3, total_count: 3 });
  });

  it("holds recording settings with storage credentials, as a real app's meetings do", async () => {
    const { body } = await send("GET", "/meetings/6BF2B8BE-04DD-4191-B602-1128921A306B");
    expect(JSON.stringify(body.data)).toContain(RECORDING_SECRETS.secret);
  });

  it("creates (201) and updates meetings; an unknown one is a 404, a wrong field type a 400", async () => {
    expect(await send("POST", "/meetings", { title: "x", persist_chat: "yes" })).toMatchObject({ status: 400 });
    const created = await send("POST", "/meetings", { title: "New" });
    expect(created).toMatchObject({ status: 201, body: { data: { title: "New", status: "ACTIVE" } } });
    expect(await send("PATCH", "/meetings/00000000-0000-4000-8000-00000000beef", { title: "x" })).toMatchObject({
      status: 404,
      body: { error: { message: "Meeting not found" } },
    });
  });

  it("kicks only from a live session: 404 without one", async () => {
    expect(await send("POST", "/meetings/zxcvbn-poiuyt/active-session/kick-all")).toMatchObject({ status: 404 });
    expect(await send("POST", "/meetings/qwerty-asdfgh/active-session/kick", {})).toMatchObject({ status: 400 });
  });
});

describe("the fake upstream's control endpoints, for trying failures from outside", () => {
  it("fails the next requests as told, and lists what the API was asked", async () => {
    const upstream = createFakeUpstream();
    const control = (path: string, init?: RequestInit) =>
      upstream.fetch(new Request(`http://127.0.0.1:8788${path}`, init));
    await control("/fake/fail-next", { method: "POST", body: JSON.stringify({ status: 502, times: 2 }) });
    const ask = () =>
      upstream.fetch(
        new Request(`${UPSTREAM_APP_URL}/meetings`, { headers: { Authorization: `Bearer ${FAKE_API_TOKEN}` } }),
      );
    expect([(await ask()).status, (await ask()).status, (await ask()).status]).toEqual([502, 502, 200]);
    const { data } = (await (await control("/fake/requests")).json()) as { data: unknown[] };
    expect(data).toEqual(Array.from({ length: 3 }, () => ({ method: "GET", path: "/meetings" })));
  });
});
