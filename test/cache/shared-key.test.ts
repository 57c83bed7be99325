import { describe, expect, it } from "vitest";
import { type StoredAnswer, toStoredAnswer } from "../../src/cache/answer.ts";
import { type KeyLoaders, SharedKey, type SharedRequest } from "../../src/cache/shared-key.ts";
import { pagesOf } from "../../src/reads/live-index.ts";

const INDEX_REQUEST: SharedRequest = {
  key: "index",
  label: "live-sessions-index",
  quotaKey: "ip:192.0.2.1",
  upstream: { path: "/sessions", query: "status=LIVE", everyPage: 100 },
  settings: {} as SharedRequest["settings"],
  ttlSeconds: 5,
  knownProducedAt: undefined,
  staleIfErrorSeconds: 300,
  staleIfSlowMs: 1_000,
  scope: { kind: "index", meetingPath: "/meetings/:meetingId/active-session" },
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
  const loaders: KeyLoaders = {
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
    const key = new SharedKey({ now: () => now, register: registered });
    const { calls, loaders } = countingLoaders(() => now, 50);
    await key.answer(INDEX_REQUEST, loaders);
    expect(calls.whole).toBe(1);

    now = 10_000;
    await key.notice({ key: "index", action: "patch", meetingId: "a" }, loaders);
    expect(calls.patches).toEqual(["a"]);

    // More changes within the TTL: patching them would cost more than the index's one page.
    await key.notice({ key: "index", action: "patch", meetingId: "b" }, loaders);
    now = 11_000;
    await key.notice({ key: "index", action: "patch", meetingId: "c" }, loaders);
    expect(calls).toEqual({ whole: 1, patches: ["a"] });

    // A TTL after the last call, one whole load covers both.
    now = 15_000;
    await key.answer(INDEX_REQUEST, loaders);
    expect(calls).toEqual({ whole: 2, patches: ["a"] });
    now = 20_000;
    await key.answer(INDEX_REQUEST, loaders);
    expect(calls).toEqual({ whole: 2, patches: ["a"] });
  });

  it("patches a meeting at most once every 2 s, however many changes arrive", async () => {
    let now = 0;
    const key = new SharedKey({ now: () => now, register: registered });
    const { calls, loaders } = countingLoaders(() => now, 250);
    await key.answer(INDEX_REQUEST, loaders);
    now = 10_000;
    await key.notice({ key: "index", action: "patch", meetingId: "a" }, loaders);
    now = 11_000;
    await key.notice({ key: "index", action: "patch", meetingId: "a" }, loaders);
    expect(calls.patches).toEqual(["a"]);
    now = 12_000;
    await key.answer(INDEX_REQUEST, loaders);
    expect(calls).toEqual({ whole: 1, patches: ["a", "a"] });
  });
});
