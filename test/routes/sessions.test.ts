import { describe, expect, it } from "vitest";
import { LOCAL_NARROW_API_KEY } from "../../dev/local-keys.ts";
import { callProxy, errorBody, proxyWith, useFakeClock, useFakeUpstream } from "../support/proxy.ts";

const narrow = { headers: { Authorization: `Bearer ${LOCAL_NARROW_API_KEY}` } };

/** A live session with ten or more peak participants (so it has breakout rooms in the fake). */
function sessionWithRooms(fake: ReturnType<typeof useFakeUpstream>) {
  const session = fake.sessions.find((s) => s.max_concurrent_participants >= 10);
  if (!session) throw new Error("the fake has no session with breakout rooms");
  return session;
}

describe("GET /sessions/:sessionId", () => {
  it("is the upstream's session envelope, unchanged, and cached", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const [session] = fake.sessions;
    const first = await callProxy(`/sessions/${session?.id}`);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ success: true, data: session });
    const second = await callProxy(`/sessions/${session?.id}`);
    expect(second.headers.get("Cache-Status")).toBe("realtimekit-proxy; hit; ttl=10");
    expect(fake.requests).toHaveLength(1);
  });

  it("forwards include_breakout_rooms, and it is part of the cache key", async () => {
    const fake = useFakeUpstream();
    const session = sessionWithRooms(fake);
    const withRooms = (await (await callProxy(`/sessions/${session.id}?include_breakout_rooms=true`)).json()) as {
      data: { breakout_rooms?: unknown[] };
    };
    const without = (await (await callProxy(`/sessions/${session.id}?include_breakout_rooms=false`)).json()) as {
      data: { breakout_rooms?: unknown[] };
    };
    expect(withRooms.data.breakout_rooms?.length).toBeGreaterThan(0);
    expect(without.data.breakout_rooms).toBeUndefined();
    expect(fake.requests.map((r) => new URL(r.url).search)).toEqual([
      "?include_breakout_rooms=true",
      "?include_breakout_rooms=false",
    ]);
  });

  it("an unknown session is the upstream's 404, stored for the TTL", async () => {
    const fake = useFakeUpstream();
    const id = "5e551011-0000-4000-8000-0000000fffff";
    for (let i = 0; i < 2; i++) {
      const response = await callProxy(`/sessions/${id}`);
      expect(response.status).toBe(404);
      expect(await errorBody(response)).toMatchObject({ error: { message: `No session found for session_id ${id}` } });
    }
    expect(fake.requests).toHaveLength(1);
  });

  it.each([
    ["not-a-uuid", "", "sessionId", "must be a UUID"],
    ["qwerty-asdfgh", "", "sessionId", "must be a UUID"],
    [
      "5e551011-0000-4000-8000-000000000001",
      "?include_breakout_rooms=yes",
      "include_breakout_rooms",
      "must be one of true, false",
    ],
    ["5e551011-0000-4000-8000-000000000001", "?include_breakout_rooms=", "include_breakout_rooms", "must not be empty"],
    ["5e551011-0000-4000-8000-000000000001", "?page_no=1", "page_no", "is not a known parameter"],
  ])("/sessions/%s%s is a 400 naming %s, without the upstream", async (id, query, path, message) => {
    const fake = useFakeUpstream();
    const response = await callProxy(`/sessions/${id}${query}`);
    expect(response.status).toBe(400);
    expect(await errorBody(response)).toMatchObject({ error: { issues: [{ path, message }] } });
    expect(fake.requests).toHaveLength(0);
  });

  it("needs a key with sessions:read", async () => {
    const fake = useFakeUpstream();
    const path = `/sessions/${fake.sessions[0]?.id}`;
    expect((await callProxy(path, { anonymous: true })).status).toBe(401);
    expect((await callProxy(path, narrow)).status).toBe(403);
    expect(fake.requests).toHaveLength(0);
  });
});

describe("GET /sessions/:sessionId/participants", () => {
  it("lists the session's participants, as the upstream does", async () => {
    const fake = useFakeUpstream();
    const [session] = fake.sessions;
    const response = await callProxy(`/sessions/${session?.id}/participants`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      data: { participants: { display_name: string; peer_events?: unknown }[] };
    };
    expect(body.data.participants.length).toBeGreaterThan(0);
    expect(body.data.participants.every((p) => p.peer_events === undefined)).toBe(true);
  });

  it("forwards every validated param in a fixed order", async () => {
    const fake = useFakeUpstream();
    const id = fake.sessions[0]?.id;
    const query =
      "view=consolidated&sort_by=duration&sort_order=DESC&include_peer_events=true&search=Ada&per_page=05&page_no=1";
    expect((await callProxy(`/sessions/${id}/participants?${query}`)).status).toBe(200);
    expect(new URL(fake.requests[0]?.url ?? "").search).toBe(
      "?include_peer_events=true&page_no=1&per_page=5&search=Ada&sort_by=duration&sort_order=DESC&view=consolidated",
    );
  });

  it("consolidated lists each person once; raw lists every join", async () => {
    const fake = useFakeUpstream();
    const id = fake.sessions.find((s) => s.status === "ENDED")?.id;
    const names = async (view: string) =>
      (
        (await (await callProxy(`/sessions/${id}/participants?view=${view}&per_page=100`)).json()) as {
          data: { participants: { user_id: string }[] };
        }
      ).data.participants.map((p) => p.user_id);
    const consolidated = await names("consolidated");
    expect(new Set(consolidated).size).toBe(consolidated.length);
    expect((await names("raw")).length).toBeGreaterThanOrEqual(consolidated.length);
  });

  it.each([
    ["?view=summary", "view", "must be one of raw, consolidated"],
    ["?sort_by=name", "sort_by", "must be one of joinedAt, duration"],
    ["?include_peer_events=1", "include_peer_events", "must be one of true, false"],
    ["?per_page=0", "per_page", "must be from 1 to 100"],
    ["?search=a%00b", "search", "must not contain control characters"],
    ["?status=LIVE", "status", "is not a known parameter"],
    ["?view=raw&view=raw", "view", "is given more than once; give it once"],
  ])("%s is a 400 naming %s, without the upstream", async (query, path, message) => {
    const fake = useFakeUpstream();
    const response = await callProxy(`/sessions/${fake.sessions[0]?.id}/participants${query}`);
    expect(response.status).toBe(400);
    expect(await errorBody(response)).toMatchObject({ error: { issues: [{ path, message }] } });
    expect(fake.requests).toHaveLength(0);
  });

  it("needs a key with participants:read, and can never be made public", async () => {
    const fake = useFakeUpstream();
    const path = `/sessions/${fake.sessions[0]?.id}/participants`;
    expect((await callProxy(path, { anonymous: true })).status).toBe(401);
    const forbidden = await callProxy(path, narrow);
    expect(forbidden.status).toBe(403);
    expect(await errorBody(forbidden)).toMatchObject({
      error: { message: "this API key lacks the scope participants:read" },
    });
    const misconfigured = await proxyWith({ PUBLIC_ROUTES: "health,session-participants" })("/health");
    expect(await errorBody(misconfigured)).toMatchObject({
      error: { code: 500, message: expect.stringContaining("PUBLIC_ROUTES must not name session-participants") },
    });
    expect(fake.requests).toHaveLength(0);
  });
});
