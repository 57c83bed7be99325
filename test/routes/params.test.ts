import { describe, expect, it } from "vitest";
import {
  callProxy,
  errorBody,
  LIVE_V1_MEETING,
  LIVE_V2_MEETING,
  proxyWith,
  useFakeUpstream,
} from "../support/proxy.ts";

async function expectRejected(path: string, expectedIssues: { path: string; message?: string | RegExp }[]) {
  const fake = useFakeUpstream();
  const response = await callProxy(path);
  expect(response.status).toBe(400);
  expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
  const body = await errorBody(response);
  expect(body).toMatchObject({ success: false, error: { code: 400 } });
  expect(body.error.issues).toHaveLength(expectedIssues.length);
  for (const expected of expectedIssues) {
    expect(body.error.issues).toContainEqual({
      path: expected.path,
      message: expected.message === undefined ? expect.any(String) : expect.stringMatching(expected.message),
    });
    expect(body.error.message).toContain(expected.path);
  }
  expect(fake.requests).toHaveLength(0);
}

async function expectAccepted(path: string) {
  const fake = useFakeUpstream();
  const response = await proxyWith({ SESSIONS_CACHE_TTL_SECONDS: "0" })(path);
  expect(response.status).toBe(200);
  expect(fake.requests).toHaveLength(1);
  return fake.requests[0] as Request;
}

describe("meeting ids", () => {
  it.each([
    LIVE_V2_MEETING,
    "A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D",
    "00000000-0000-0000-0000-000000000000",
    LIVE_V1_MEETING,
  ])("active-session accepts %s", async (id) => {
    const fake = useFakeUpstream();
    const response = await callProxy(`/meetings/${id}/active-session`);
    expect([200, 404]).toContain(response.status);
    expect(fake.requests).toHaveLength(1);
    // A UUID is forwarded in its canonical lower case.
    expect(new URL(fake.requests[0]?.url ?? "").pathname).toContain(`/meetings/${id.toLowerCase()}/active-session`);
  });

  it.each([
    ["a too short UUID", "6bf2b8be-04dd-4191-b602-1128921a306"],
    ["a UUID with a non-hex digit", "6bf2b8be-04dd-4191-b602-1128921a306g"],
    ["an upper-case V1 room name", "QWERTY-ASDFGH"],
    ["a V1 room name with digits", "qwert1-asdfgh"],
    ["an encoded slash", "abc%2F..%2Fsessions"],
    ["an encoded space", "qwerty%20asdfgh"],
    ["an encoded control character", "qwerty-asdfg%0A"],
    ["a UUID with an encoded query", `${LIVE_V2_MEETING}%3Fx%3D1`],
  ])("active-session rejects %s, naming meetingId", async (_, id) => {
    await expectRejected(`/meetings/${id}/active-session`, [{ path: "meetingId", message: /UUID or a V1 room name/ }]);
  });

  it("active-session rejects any query param, naming it", async () => {
    await expectRejected(`/meetings/${LIVE_V2_MEETING}/active-session?include=all`, [
      { path: "include", message: /not a known parameter/ },
    ]);
  });

  it.each([
    ["a slash inside the id", "/meetings/a/b/active-session", 404],
    ["an encoded dot-dot segment, which URL parsing resolves away", "/meetings/%2E%2E/active-session", 404],
    ["a dot-dot segment that leaves a bad id", "/meetings/a/../b/active-session", 400],
  ])("%s never reaches the upstream", async (_, path, status) => {
    const fake = useFakeUpstream();
    const response = await callProxy(path);
    expect(response.status).toBe(status);
    expect(fake.requests).toHaveLength(0);
  });
});

describe("/sessions query: accepted values", () => {
  it.each([
    ["associated_id", "associated_id=6BF2B8BE-04DD-4191-B602-1128921A306B"],
    ["associated_id", "associated_id=qwerty-asdfgh"],
    ["start_time", "start_time=2026-10-01T00:00:00Z"],
    ["start_time", "start_time=2026-10-01T00:00:00.123456%2B05:30"],
    ["end_time", "end_time=2026-10-01T00:00:00-08:00"],
    ["page_no", "page_no=0"],
    ["page_no", "page_no=007"],
    ["per_page", "per_page=1"],
    ["per_page", "per_page=100"],
    ["sort_by", "sort_by=minutesConsumed"],
    ["sort_by", "sort_by=createdAt"],
    ["sort_order", "sort_order=ASC"],
    ["sort_order", "sort_order=DESC"],
    ["status", "status=LIVE"],
    ["status", "status=ENDED"],
    ["search", "search=Weekly%20sync%20%E2%9C%93"],
    ["search", `search=${"x".repeat(200)}`],
    ["participants", "participants=Ada"],
  ])("accepts a valid %s (%s)", async (_, query) => {
    await expectAccepted(`/sessions?${query}`);
  });

  it("accepts a time range whose start equals its end", async () => {
    await expectAccepted("/sessions?start_time=2026-10-01T00:00:00Z&end_time=2026-10-01T02:00:00%2B02:00");
  });
});

describe("/sessions query: rejected values", () => {
  it.each([
    ["associated_id", "associated_id=not-a-meeting", /UUID or a V1 room name/],
    ["associated_id", "associated_id=abc%2F..%2Fx", /UUID or a V1 room name/],
    ["start_time", "start_time=2026-10-01", /ISO 8601/],
    ["start_time", "start_time=2026-10-01T00:00:00", /ISO 8601/],
    ["start_time", "start_time=2026-02-30T00:00:00Z", /ISO 8601/],
    ["start_time", "start_time=yesterday", /ISO 8601/],
    ["end_time", "end_time=1767225600", /ISO 8601/],
    ["page_no", "page_no=-1", /digits only/],
    ["page_no", "page_no=%2B1", /digits only/],
    ["page_no", "page_no=1e3", /digits only/],
    ["page_no", "page_no=0x10", /digits only/],
    ["page_no", "page_no=1.5", /digits only/],
    ["page_no", "page_no=%201", /digits only/],
    ["page_no", "page_no=99999999999", /from 0 to/],
    ["per_page", "per_page=0", /from 1 to 100/],
    ["per_page", "per_page=101", /from 1 to 100/],
    ["sort_by", "sort_by=created_at", /one of minutesConsumed, createdAt/],
    ["sort_order", "sort_order=asc", /one of ASC, DESC/],
    ["status", "status=live", /one of LIVE, ENDED/],
    ["search", `search=${"x".repeat(201)}`, /at most 200/],
    ["search", "search=a%00b", /control characters/],
    ["participants", "participants=line%0Abreak", /control characters/],
    ["participants", `participants=${"y".repeat(201)}`, /at most 200/],
  ])("rejects a bad %s (%s)", async (name, query, message) => {
    await expectRejected(`/sessions?${query}`, [{ path: name, message }]);
  });

  it("rejects an unknown param, naming it", async () => {
    await expectRejected("/sessions?limit=10", [{ path: "limit", message: /not a known parameter/ }]);
  });

  it("rejects a repeated param, naming it", async () => {
    await expectRejected("/sessions?status=LIVE&status=ENDED", [{ path: "status", message: /more than once/ }]);
  });

  it.each(["status=", "status"])("rejects an empty value (%s), naming it", async (query) => {
    await expectRejected(`/sessions?${query}`, [{ path: "status", message: /must not be empty/ }]);
  });

  it("rejects a time range whose start is after its end, on start_time", async () => {
    await expectRejected("/sessions?start_time=2026-10-02T00:00:00Z&end_time=2026-10-02T01:00:00%2B02:00", [
      { path: "start_time", message: /after end_time/ },
    ]);
  });

  it("lists every problem at once", async () => {
    await expectRejected("/sessions?per_page=0&status=live&colour=red&page_no=x&page_no=y&search=", [
      { path: "per_page" },
      { path: "status" },
      { path: "colour" },
      { path: "page_no" },
      { path: "search" },
    ]);
  });
});
