import { describe, expect, it } from "vitest";
import { BACKOFF_CAP_MS, IDLE_SECONDS, type PollAnswer, readHeaders } from "../../browser/poll.ts";
import { type Ask, MeetingWatch, type Page } from "../../browser/watch.ts";
import { fakeAnswers, fakeBrowser, session } from "./support.ts";

const NAME = "realtimekit-proxy http://proxy.test 6bf2b8be-04dd-4191-b602-1128921a306b";

/** One tab watching with `listeners` watchers: every state each was told. */
function watching(page: Page, ask: Ask, listeners = 1) {
  const watch = new MeetingWatch(NAME, ask, page);
  const told = Array.from({ length: listeners }, () => [] as unknown[]);
  const removals = told.map((states) => watch.add((state) => states.push(state)));
  return {
    told,
    stop: () => {
      for (const remove of removals) remove();
    },
  };
}

describe("the active session's poll loop", () => {
  it("polls at each answer's max-age, never faster; sends If-None-Match; a 304 tells nobody", async () => {
    const browser = fakeBrowser();
    const proxy = fakeAnswers(
      browser,
      session("a", 5),
      { status: 304, maxAge: 5 },
      session("b", 3),
      { status: 200, etag: "c", maxAge: 0, body: { data: { id: "c" } } },
      { status: 304, maxAge: 0 },
    );
    const { told } = watching(browser.tab().page, proxy.ask);
    await browser.advance(0);
    expect(proxy.requests).toEqual([{ at: 0, etag: undefined }]);
    await browser.advance(4_999);
    expect(proxy.requests).toHaveLength(1);
    await browser.advance(1);
    await browser.advance(5_000);
    await browser.advance(3_000);
    await browser.advance(2_000);
    // max-age=0 is polled a second on, not at once.
    expect(proxy.requests).toEqual([
      { at: 0, etag: undefined },
      { at: 5_000, etag: "a" },
      { at: 10_000, etag: "a" },
      { at: 13_000, etag: "b" },
      { at: 14_000, etag: "c" },
      { at: 15_000, etag: "c" },
    ]);
    expect(told[0]?.map((state) => (state as { data: { id: string } }).data.id)).toEqual(["a", "b", "c"]);
  });

  it("a meeting without a live session is data null, asked again at the idle pace; its return is news", async () => {
    const browser = fakeBrowser();
    const none: PollAnswer = { status: 404, body: { success: false, error: { type: "not_found" } } };
    const proxy = fakeAnswers(browser, none, none, session("a"));
    const { told } = watching(browser.tab().page, proxy.ask);
    await browser.advance(2 * IDLE_SECONDS * 1000);
    expect(proxy.requests.map(({ at }) => at)).toEqual([0, 5_000, 10_000]);
    expect(told[0]).toEqual([
      { data: null, live: false, error: null },
      { data: { id: "a", live_participants: 1 }, live: true, error: null },
    ]);
  });

  it("waits out Retry-After on a 503 or 429 (spread by at most a tenth), keeping the last data, the error told once", async () => {
    const browser = fakeBrowser(1);
    const busy: PollAnswer = {
      status: 503,
      retryAfter: 20,
      body: { error: { type: "upstream_budget", message: "x" } },
    };
    const proxy = fakeAnswers(browser, session("a"), busy, busy, session("a"));
    const { told } = watching(browser.tab().page, proxy.ask);
    await browser.advance(60_000);
    expect(proxy.requests.slice(0, 4).map(({ at }) => at)).toEqual([0, 5_000, 27_000, 49_000]);
    expect(told[0]).toEqual([
      { data: { id: "a", live_participants: 1 }, live: true, error: null },
      {
        data: { id: "a", live_participants: 1 },
        live: true,
        error: expect.objectContaining({ status: 503, type: "upstream_budget", retryAfter: 20 }),
      },
      { data: { id: "a", live_participants: 1 }, live: true, error: null },
    ]);
  });

  it("backs off on other failures: doubling from 2 s, capped at a minute, each wait within its upper half", async () => {
    for (const [random, first] of [
      [0, 1_000],
      [1, 2_000],
    ] as const) {
      const browser = fakeBrowser(random);
      const proxy = fakeAnswers(browser, { status: 502, body: { error: { type: "upstream_unavailable" } } });
      watching(browser.tab().page, proxy.ask);
      await browser.advance(10 * BACKOFF_CAP_MS);
      const waits = proxy.requests.slice(1).map(({ at }, n) => at - (proxy.requests[n]?.at ?? 0));
      const ceilings = [2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000];
      expect(waits.slice(0, 7)).toEqual(ceilings.map((ceiling) => (random === 0 ? ceiling / 2 : ceiling)));
      expect(waits[0]).toBe(first);
    }
  });

  it("a network failure is a failure like any other: told as status 0, retried with backoff", async () => {
    const browser = fakeBrowser();
    let calls = 0;
    const { told } = watching(browser.tab().page, async () => {
      calls++;
      throw new TypeError("Failed to fetch");
    });
    await browser.advance(5_000);
    expect(calls).toBe(3);
    expect(told[0]).toEqual([
      { data: null, live: false, error: expect.objectContaining({ status: 0, type: "network" }) },
    ]);
  });

  it("ten watchers in a page share one loop; the last one gone, it stops", async () => {
    const browser = fakeBrowser();
    const proxy = fakeAnswers(browser, session("a"));
    const { told, stop } = watching(browser.tab().page, proxy.ask, 10);
    await browser.advance(30_000);
    expect(proxy.requests).toHaveLength(7);
    expect(told.every((states) => states.length === 1)).toBe(true);
    stop();
    await browser.advance(60_000);
    expect(proxy.requests).toHaveLength(7);
  });
});

describe("visibility: no request while the page is hidden", () => {
  it("a hidden page makes none; shown again, it asks once at once, then at the pace", async () => {
    const browser = fakeBrowser();
    const proxy = fakeAnswers(browser, session("a"));
    const tab = browser.tab({ hidden: true });
    watching(tab.page, proxy.ask);
    await browser.advance(30_000);
    expect(proxy.requests).toHaveLength(0);
    await tab.setHidden(false);
    await browser.advance(0);
    expect(proxy.requests.map(({ at }) => at)).toEqual([30_000]);
    await tab.setHidden(true);
    await browser.advance(60_000);
    expect(proxy.requests).toHaveLength(1);
  });

  it("hidden and shown again within max-age, it waits for the answer to expire", async () => {
    const browser = fakeBrowser();
    const proxy = fakeAnswers(browser, session("a", 5));
    const tab = browser.tab();
    watching(tab.page, proxy.ask);
    await browser.advance(1_000);
    await tab.setHidden(true);
    await browser.advance(1_000);
    await tab.setHidden(false);
    await browser.advance(2_999);
    expect(proxy.requests.map(({ at }) => at)).toEqual([0]);
    await browser.advance(1);
    expect(proxy.requests.map(({ at }) => at)).toEqual([0, 5_000]);
  });
});

describe("tabs: one of them polls for all", () => {
  it("two visible tabs make the requests of one, and both are told", async () => {
    const browser = fakeBrowser();
    const proxy = fakeAnswers(browser, session("a"), session("a"), session("b"));
    const first = watching(browser.tab().page, proxy.ask);
    const second = watching(browser.tab().page, proxy.ask);
    await browser.advance(30_000);
    expect(proxy.requests).toHaveLength(7);
    for (const { told } of [first, second]) {
      expect(told[0]?.map((state) => (state as { data: { id: string } }).data.id)).toEqual(["a", "b"]);
    }
  });

  it("a tab that opens later is told the state at once, by the tab that polls, without a request", async () => {
    const browser = fakeBrowser();
    const proxy = fakeAnswers(browser, session("a"));
    watching(browser.tab().page, proxy.ask);
    await browser.advance(1_000);
    const later = watching(browser.tab().page, proxy.ask);
    await browser.settle();
    expect(later.told[0]).toEqual([{ data: { id: "a", live_participants: 1 }, live: true, error: null }]);
    expect(proxy.requests).toHaveLength(1);
  });

  it("the polling tab hidden, a visible one takes over at the same pace; a hidden tab never polls", async () => {
    const browser = fakeBrowser();
    const proxy = fakeAnswers(browser, session("a"));
    const leader = browser.tab();
    watching(leader.page, proxy.ask);
    const follower = browser.tab();
    watching(follower.page, proxy.ask);
    const background = browser.tab({ hidden: true });
    watching(background.page, proxy.ask);
    await browser.advance(2_000);
    await leader.setHidden(true);
    await browser.advance(12_999);
    // The follower asks when the leader's last answer expires (5 s), then every 5 s.
    expect(proxy.requests.map(({ at }) => at)).toEqual([0, 5_000, 10_000]);
    await follower.setHidden(true);
    await browser.advance(60_000);
    expect(proxy.requests).toHaveLength(3);
  });
});

describe("reading an answer's headers", () => {
  it("takes max-age among other directives, Retry-After in seconds or as a date, and the ETag", () => {
    const headers = new Headers({
      "Cache-Control": "private, max-age=4, stale-while-revalidate=30",
      "Retry-After": new Date(20_000).toUTCString(),
      ETag: '"abc"',
    });
    expect(readHeaders(headers, 10_000)).toEqual({ etag: '"abc"', maxAge: 4, retryAfter: 10 });
    expect(readHeaders(new Headers({ "Retry-After": "7", "Cache-Control": "no-store" }), 0)).toEqual({
      etag: undefined,
      maxAge: undefined,
      retryAfter: 7,
    });
  });
});
