import { describe, expect, it } from "vitest";
import { ChangeFeed, type Coverage, concerns, FORGOTTEN_AFTER_MS, type MeetingChange } from "../../src/changes/feed.ts";
import type { SyncKv } from "../../src/sync-kv.ts";

const M = "6bf2b8be-04dd-4191-b602-1128921a306b";
const OTHER = "0d4e6a8c-2b1f-4e3d-9c5b-7a6f8e9d0c1b";
const SESSION = "5e551011-0000-4000-8000-000000000004";

function mapKv(): SyncKv & { entries: Map<string, unknown> } {
  const entries = new Map<string, unknown>();
  return {
    entries,
    get: <T>(key: string) => entries.get(key) as T | undefined,
    put: (key, value) => void entries.set(key, value),
    delete: (key) => entries.delete(key),
    list: <T>({ prefix }: { prefix: string }) =>
      [...entries].filter(([key]) => key.startsWith(prefix)) as [string, T][],
  };
}

const change = (event: MeetingChange["event"], meetingId = M): MeetingChange => ({
  event,
  meetingId,
  sessionId: SESSION,
});

describe("which stored answers a meeting's change concerns", () => {
  const cases: [string, Coverage, MeetingChange, boolean][] = [
    ["its own active session", { kind: "meeting", meetingId: M }, change("meeting.participantJoined"), true],
    ["another meeting's active session", { kind: "meeting", meetingId: OTHER }, change("meeting.started"), false],
    [
      "the live-sessions index",
      { kind: "index", meetingPath: "/meetings/:meetingId/active-session" },
      change("meeting.participantLeft"),
      true,
    ],
    ["every session of the app", { kind: "sessions" }, change("meeting.participantJoined"), true],
    ["the app's live sessions", { kind: "sessions", status: "LIVE" }, change("meeting.started"), true],
    ["the meeting's live sessions", { kind: "sessions", meetingId: M, status: "LIVE" }, change("meeting.ended"), true],
    ["another meeting's sessions", { kind: "sessions", meetingId: OTHER }, change("meeting.ended"), false],
    ["ended sessions, when one ends", { kind: "sessions", status: "ENDED" }, change("meeting.ended"), true],
    [
      "ended sessions, when someone joins",
      { kind: "sessions", status: "ENDED" },
      change("meeting.participantJoined"),
      false,
    ],
    [
      "ended sessions, when one starts",
      { kind: "sessions", meetingId: M, status: "ENDED" },
      change("meeting.started"),
      false,
    ],
    [
      "the session itself (or its participants)",
      { kind: "session", sessionId: SESSION },
      change("meeting.participantLeft"),
      true,
    ],
    [
      "another session",
      { kind: "session", sessionId: "5e551011-0000-4000-8000-000000000001" },
      change("meeting.ended"),
      false,
    ],
    ["the app's meetings, when one is created", { kind: "meetings" }, change("meeting.created"), true],
    ["the app's meetings, when one is changed", { kind: "meetings" }, change("meeting.updated"), true],
    ["the app's meetings, when someone is kicked", { kind: "meetings" }, change("meeting.kicked"), false],
    ["the app's meetings, when a session starts", { kind: "meetings" }, change("meeting.started"), false],
    ["the meeting, when it is changed", { kind: "meeting-record", meetingId: M }, change("meeting.updated"), true],
    [
      "another meeting, when one is changed",
      { kind: "meeting-record", meetingId: OTHER },
      change("meeting.updated"),
      false,
    ],
    ["the meeting, when its session ends", { kind: "meeting-record", meetingId: M }, change("meeting.ended"), false],
    [
      "its own active session, when someone is kicked",
      { kind: "meeting", meetingId: M },
      change("meeting.kicked"),
      true,
    ],
    ["its own active session, when it is renamed", { kind: "meeting", meetingId: M }, change("meeting.updated"), false],
    ["every session of the app, when a meeting is created", { kind: "sessions" }, change("meeting.created"), false],
  ];
  it.each(cases)("%s", (_name, scope, meetingChange, expected) => {
    expect(concerns(scope, meetingChange)).toBe(expected);
  });
});

describe("the change feed", () => {
  it("tells each registered key what a change asks of it: renew, patch or drop", () => {
    const feed = new ChangeFeed(mapKv(), () => 1_000);
    feed.register("active", { kind: "meeting", meetingId: M });
    feed.register("index", { kind: "index", meetingPath: "/meetings/:meetingId/active-session" });
    feed.register("list", { kind: "sessions", status: "LIVE" });
    feed.register("other", { kind: "meeting", meetingId: OTHER });
    expect(feed.changed(change("meeting.ended"))).toEqual([
      { cacheKey: "active", action: "renew", meetingId: M },
      { cacheKey: "index", action: "patch", meetingId: M },
      { cacheKey: "list", action: "drop", meetingId: M },
    ]);
    expect(feed.lastChangeAt).toBe(1_000);
  });

  it("marks the notices of the proxy's own writes, and only RealtimeKit's news counts as webhooks arriving", () => {
    const feed = new ChangeFeed(mapKv(), () => 1_000);
    feed.register("active", { kind: "meeting", meetingId: M });
    feed.register("meetings", { kind: "meetings" });
    feed.register("record", { kind: "meeting-record", meetingId: M });
    expect(feed.changed(change("meeting.kicked"))).toEqual([
      { cacheKey: "active", action: "renew", meetingId: M, fromWrite: true },
    ]);
    expect(feed.changed(change("meeting.updated"))).toEqual([
      { cacheKey: "meetings", action: "drop", meetingId: M, fromWrite: true },
      { cacheKey: "record", action: "drop", meetingId: M, fromWrite: true },
    ]);
    expect(feed.lastChangeAt).toBeUndefined();
  });

  it("keeps what it knows across a restart, and forgets keys no one registered for two hours", () => {
    let now = 0;
    const store = mapKv();
    new ChangeFeed(store, () => now).register("active", { kind: "meeting", meetingId: M });
    const restarted = new ChangeFeed(store, () => now);
    expect(restarted.changed(change("meeting.started")).map(({ cacheKey }) => cacheKey)).toEqual(["active"]);
    now = FORGOTTEN_AFTER_MS + 1;
    expect(restarted.changed(change("meeting.started"))).toEqual([]);
    expect([...store.entries.keys()]).toEqual(["last-change-at"]);
  });
});
