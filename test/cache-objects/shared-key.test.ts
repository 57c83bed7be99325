import { describe, expect, it } from "vitest";
import type { Demand } from "../../src/budget/gate.ts";
import { type StoredAnswer, toStoredAnswer } from "../../src/cache/answer.ts";
import { pagesOf } from "../../src/cache-objects/live-index.ts";
import {
  type EntryLoaders,
  SharedKey,
  type SharedRequest,
  type SharedResult,
} from "../../src/cache-objects/shared-key.ts";
import { FORGOTTEN_AFTER_MS, REGISTRATION_MS } from "../../src/changes/feed.ts";
import { ApiError } from "../../src/errors.ts";

const INDEX_REQUEST: SharedRequest = {
  cacheKey: "index",
  label: "live-sessions-index",
  quotaKey: "ip:192.0.2.1",
  upstream: { path: "/sessions", query: "status=LIVE", everyPage: 100 },
  settings: {} as SharedRequest["settings"],
  ttlSeconds: 5,
  knownProducedAt: undefined,
  staleIfErrorSeconds: 300,
  staleIfSlowMs: 1_000,
  coverage: { kind: "index", meetingPath: "/meetings/:meetingId/active-session" },
  // Pushed: the copy is kept past the TTL, and changes are what renew it.
  pushedTtlSeconds: 300,
};

const registered = async () => true;

/** An index of `sessions` live sessions (100 a page), and loaders that count what they are asked for. */
function countingLoaders(now: () => number, sessions: number) {
  const calls = { whole: 0, patches: [] as string[] };
  const listed = Array.from({ length: sessions }, (_, n) => ({ associated_id: `meeting-${n}` }));
  const index = () =>
    toStoredAnswer({
      status: 200,
      body: JSON.stringify({ success: true, data: { sessions: listed } }),
      producedAt: now(),
    });
  const loaders: EntryLoaders = {
    async load() {
      calls.whole++;
      return index();
    },
    async patch(_request, meetingId) {
      calls.patches.push(meetingId);
      return async (copy: StoredAnswer) => copy;
    },
    wholeLoadCost: (request, copy) => pagesOf(copy, request.upstream.everyPage ?? 1),
  };
  return { calls, loaders };
}

describe("the live-sessions index's key, told of changes", () => {
  it("patches one meeting per change, but never spends more per TTL than loading the index whole would", async () => {
    let now = 0;
    const entry = new SharedKey({ now: () => now, register: registered });
    const { calls, loaders } = countingLoaders(() => now, 50);
    await entry.answer(INDEX_REQUEST, loaders);
    expect(calls.whole).toBe(1);

    now = 10_000;
    await entry.notice({ cacheKey: "index", action: "patch", meetingId: "a" }, loaders);
    expect(calls.patches).toEqual(["a"]);

    // More changes within the TTL: patching them would cost more than the index's one page.
    await entry.notice({ cacheKey: "index", action: "patch", meetingId: "b" }, loaders);
    now = 11_000;
    await entry.notice({ cacheKey: "index", action: "patch", meetingId: "c" }, loaders);
    expect(calls).toEqual({ whole: 1, patches: ["a"] });

    // A TTL after the last call, one whole load covers both.
    now = 15_000;
    await entry.answer(INDEX_REQUEST, loaders);
    expect(calls).toEqual({ whole: 2, patches: ["a"] });
    now = 20_000;
    await entry.answer(INDEX_REQUEST, loaders);
    expect(calls).toEqual({ whole: 2, patches: ["a"] });
  });

  it("patches the proxy's own write in at once, even past the TTL's spending and within 2 s", async () => {
    let now = 0;
    const entry = new SharedKey({ now: () => now, register: registered });
    const { calls, loaders } = countingLoaders(() => now, 50);
    await entry.answer(INDEX_REQUEST, loaders);
    now = 100;
    await entry.notice({ cacheKey: "index", action: "patch", meetingId: "a", fromWrite: true }, loaders);
    now = 200;
    await entry.notice({ cacheKey: "index", action: "patch", meetingId: "a", fromWrite: true }, loaders);
    expect(calls).toEqual({ whole: 1, patches: ["a", "a"] });
    // A webhook's change at the same moment waits for the next TTL, as before.
    await entry.notice({ cacheKey: "index", action: "patch", meetingId: "b" }, loaders);
    expect(calls.patches).toEqual(["a", "a"]);
  });

  it("patches a meeting at most once every 2 s, however many changes arrive", async () => {
    let now = 0;
    const entry = new SharedKey({ now: () => now, register: registered });
    const { calls, loaders } = countingLoaders(() => now, 250);
    await entry.answer(INDEX_REQUEST, loaders);
    now = 10_000;
    await entry.notice({ cacheKey: "index", action: "patch", meetingId: "a" }, loaders);
    now = 11_000;
    await entry.notice({ cacheKey: "index", action: "patch", meetingId: "a" }, loaders);
    expect(calls.patches).toEqual(["a"]);
    now = 12_000;
    await entry.answer(INDEX_REQUEST, loaders);
    expect(calls).toEqual({ whole: 1, patches: ["a", "a"] });
  });
});

const MEETING_REQUEST: SharedRequest = {
  ...INDEX_REQUEST,
  cacheKey: "meeting",
  label: "active-session",
  upstream: { path: "/meetings/qwerty-asdfgh/active-session", query: "" },
  coverage: { kind: "meeting", meetingId: "qwerty-asdfgh" },
};

/** Loaders of one meeting's answer that count loads, record each demand, and fail when told to. */
function meetingLoaders(now: () => number) {
  const state = { loads: 0, demands: [] as Demand[], failNext: false };
  const loaders: EntryLoaders = {
    async load(_request, demand) {
      state.loads++;
      state.demands.push(demand);
      if (state.failNext) {
        state.failNext = false;
        throw new ApiError("upstream_unavailable", "upstream failed with status 503");
      }
      const body = JSON.stringify({ success: true, data: { id: `session-${state.loads}` } });
      return toStoredAnswer({ status: 200, body, producedAt: now() });
    },
    patch: () => Promise.reject(new Error("a meeting's answer is never patched")),
    wholeLoadCost: () => 1,
  };
  return { state, loaders };
}

/** The answer of a result that must be one. */
function answerOf(result: SharedResult): StoredAnswer {
  if (result.kind !== "answer") throw new Error(`expected an answer, got ${result.failure.kind}`);
  return result.answer;
}

describe("one shared-tier entry, on its own", () => {
  it("loads once for concurrent askers, then answers from its copy while fresh", async () => {
    let now = 1_000;
    const entry = new SharedKey({ now: () => now });
    const { state, loaders } = meetingLoaders(() => now);
    const request = { ...MEETING_REQUEST, coverage: undefined, pushedTtlSeconds: undefined };
    const [first, second] = await Promise.all([entry.answer(request, loaders), entry.answer(request, loaders)]);
    expect(state.loads).toBe(1);
    expect(answerOf(first).etag).toBe(answerOf(second).etag);
    now += 4_000;
    expect(await entry.answer(request, loaders)).toMatchObject({ kind: "answer", fetched: false });
    now += 1_000;
    expect(await entry.answer(request, loaders)).toMatchObject({ kind: "answer", fetched: true });
    expect(state.loads).toBe(2);
  });

  it("a first load is cold; once answered, the entry's loads are refreshes, even asked as if new", async () => {
    let now = 1_000;
    const entry = new SharedKey({ now: () => now });
    const { state, loaders } = meetingLoaders(() => now);
    const request = { ...MEETING_REQUEST, coverage: undefined, pushedTtlSeconds: undefined };
    await entry.answer(request, loaders);
    now += 6_000;
    await entry.answer({ ...request, knownProducedAt: undefined }, loaders);
    expect(state.demands.map((demand) => demand.priority)).toEqual(["cold", "refresh"]);
  });

  it("a failed load hands back the entry's copy, so the data centre can serve it stale", async () => {
    let now = 1_000;
    const entry = new SharedKey({ now: () => now });
    const { state, loaders } = meetingLoaders(() => now);
    const request = { ...MEETING_REQUEST, coverage: undefined, pushedTtlSeconds: undefined };
    const copy = answerOf(await entry.answer(request, loaders));
    now += 60_000;
    state.failNext = true;
    const failed = await entry.answer(request, loaders);
    expect(failed).toMatchObject({ kind: "failure", failure: { kind: "upstream_unavailable" }, copy });
  });

  it("vouches for its copy only while registered with the change feed and pushed", async () => {
    let now = 1_000;
    const { loaders } = meetingLoaders(() => now);
    const pushed = new SharedKey({ now: () => now, register: registered });
    await pushed.answer(MEETING_REQUEST, loaders);
    now += 60_000;
    // Within the pushed TTL (300 s): answered from the copy, vouched current as of now.
    expect(answerOf(await pushed.answer(MEETING_REQUEST, loaders)).currentAt).toBe(now);

    const unregistered = new SharedKey({ now: () => now, register: async () => false });
    await unregistered.answer(MEETING_REQUEST, loaders);
    now += 6_000;
    // Not registered: nothing would tell it of a change, so its copy keeps the plain TTL and is never vouched for.
    const answer = await unregistered.answer(MEETING_REQUEST, loaders);
    expect(answer).toMatchObject({ kind: "answer", fetched: true });
    expect(answerOf(answer).currentAt).toBeUndefined();
  });

  it("after the feed forgot it (a lapse), a copy loaded before registering again is not vouched for", async () => {
    let now = 1_000;
    const { state, loaders } = meetingLoaders(() => now);
    let feedUp = true;
    const entry = new SharedKey({ now: () => now, register: async () => feedUp });
    await entry.answer(MEETING_REQUEST, loaders);
    // The feed is down when the hourly registration falls due, and stays down past the time it forgets entries.
    feedUp = false;
    now += REGISTRATION_MS;
    await entry.answer(MEETING_REQUEST, loaders);
    now += FORGOTTEN_AFTER_MS;
    feedUp = true;
    const loadsBefore = state.loads;
    const answer = answerOf(await entry.answer(MEETING_REQUEST, loaders));
    // Changes may have been missed meanwhile: the copy is renewed, not vouched for as it was.
    expect(state.loads).toBe(loadsBefore + 1);
    expect(answer.producedAt).toBe(now);
  });

  it("a change renews the copy at once, but never twice within 2 s; the outdated copy is not vouched for meanwhile", async () => {
    let now = 1_000;
    const { state, loaders } = meetingLoaders(() => now);
    const entry = new SharedKey({ now: () => now, register: registered });
    await entry.answer(MEETING_REQUEST, loaders);
    now += 30_000;
    const renew = { cacheKey: "meeting", action: "renew", meetingId: "qwerty-asdfgh" } as const;
    await entry.notice(renew, loaders);
    expect(state.loads).toBe(2);
    expect(state.demands[1]).toMatchObject({ priority: "refresh", urgency: 0.9 });
    now += 500;
    await entry.notice(renew, loaders);
    expect(state.loads).toBe(2);
    // Outdated by the second change, within the gap: served as it is, not vouched for.
    const within = answerOf(await entry.answer(MEETING_REQUEST, loaders));
    expect(within.currentAt).toBe(within.producedAt);
    expect(state.loads).toBe(2);
    now += 1_600;
    // Past the gap, the next ask renews it.
    expect(await entry.answer(MEETING_REQUEST, loaders)).toMatchObject({ kind: "answer", fetched: true });
    expect(state.loads).toBe(3);
  });

  it("a write through the proxy renews at once, even within 2 s of the last load: its caller reads next", async () => {
    let now = 1_000;
    const { state, loaders } = meetingLoaders(() => now);
    const entry = new SharedKey({ now: () => now, register: registered });
    await entry.answer(MEETING_REQUEST, loaders);
    now += 100;
    const kicked = { cacheKey: "meeting", action: "renew", meetingId: "qwerty-asdfgh", fromWrite: true } as const;
    await entry.notice(kicked, loaders);
    expect(state.loads).toBe(2);
    now += 100;
    await entry.notice({ cacheKey: "meeting", action: "drop", meetingId: "qwerty-asdfgh", fromWrite: true }, loaders);
    expect(answerOf(await entry.answer(MEETING_REQUEST, loaders)).body).toContain("session-3");
  });

  it("after a write, a load that began before it is not the answer: a new one begins once it settles", async () => {
    let now = 1_000;
    const { state, loaders } = meetingLoaders(() => now);
    const entry = new SharedKey({ now: () => now, register: registered });
    await entry.answer(MEETING_REQUEST, loaders);
    // Past every window: a refresh is waited for, never answered by the old copy.
    now += 400_000;
    let release = () => {};
    let began = () => {};
    const loading = new Promise<void>((resolve) => (began = resolve));
    const held: EntryLoaders = {
      ...loaders,
      load: async (request, demand, trace) => {
        const answered = new Promise<void>((resolve) => (release = resolve));
        began();
        await answered;
        return loaders.load(request, demand, trace);
      },
    };
    // A refresh is under way (the copy expired) when the write's drop arrives.
    const before = entry.answer(MEETING_REQUEST, held);
    await loading;
    await entry.notice({ cacheKey: "meeting", action: "drop", meetingId: "qwerty-asdfgh", fromWrite: true }, loaders);
    const after = entry.answer(MEETING_REQUEST, loaders);
    release();
    expect(answerOf(await before).body).toContain("session-2");
    expect(answerOf(await after).body).toContain("session-3");
    expect(state.loads).toBe(3);
  });

  it("a drop makes the copy outdated until next asked for, without loading at once", async () => {
    let now = 1_000;
    const { state, loaders } = meetingLoaders(() => now);
    const entry = new SharedKey({ now: () => now, register: registered });
    await entry.answer(MEETING_REQUEST, loaders);
    now += 10_000;
    await entry.notice({ cacheKey: "meeting", action: "drop", meetingId: "qwerty-asdfgh" }, loaders);
    expect(state.loads).toBe(1);
    await entry.answer(MEETING_REQUEST, loaders);
    expect(state.loads).toBe(2);
  });
});
