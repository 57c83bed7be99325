import { hc } from "hono/client";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { ActiveSessionEnvelope, AppType, SessionsEnvelope } from "../src/client.ts";
import { API_KEY, LIVE_V2_MEETING, proxyFetch, useFakeUpstream } from "./support/proxy.ts";

// The typed client a frontend uses, pointed at the Worker's real entry.
const client = hc<AppType>("http://proxy.test", { fetch: proxyFetch });

describe("the typed client (hono/client)", () => {
  it("calls active-session with a typed path param and gets a typed body", async () => {
    useFakeUpstream();
    const response = await client.meetings[":meetingId"]["active-session"].$get({
      param: { meetingId: LIVE_V2_MEETING },
    });
    expect(response.status).toBe(200);
    const body = await response.json();
    expectTypeOf(body).toEqualTypeOf<ActiveSessionEnvelope>();
    expect(body.data.associated_id).toBe(LIVE_V2_MEETING);
  });

  it("calls /sessions with typed query params (strings, as on the wire) and a key", async () => {
    useFakeUpstream();
    const response = await client.sessions.$get(
      { query: { status: "LIVE", per_page: "2" } },
      { headers: { Authorization: `Bearer ${API_KEY}` } },
    );
    expect(response.status).toBe(200);
    const body = await response.json();
    expectTypeOf(body).toEqualTypeOf<SessionsEnvelope>();
    expect(body.data.sessions.every((session) => session.status === "LIVE")).toBe(true);
  });

  it("/health is typed too", async () => {
    const response = await client.health.$get();
    const body = await response.json();
    expectTypeOf(body).toEqualTypeOf<{ status: "ok"; version: string }>();
    expect(body.status).toBe("ok");
  });
});
