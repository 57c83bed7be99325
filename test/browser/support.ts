/**
 * A fake browser for the browser client's loop: a clock and timers that move only when
 * told, and tabs that share a lock manager and a broadcast channel as a real browser's tabs
 * share Web Locks and BroadcastChannel. Each tab is a `Page` (browser/watch.ts).
 */
import type { PollAnswer } from "../../browser/poll.ts";
import type { Page } from "../../browser/watch.ts";

interface Timer {
  id: number;
  at: number;
  run: () => void;
}

interface Waiting {
  signal: AbortSignal;
  work: () => Promise<void>;
}

/** Lets the promises a fired timer started settle (an answer read, the next timer set). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

export function fakeBrowser(random = 0.5) {
  let now = 0;
  let nextId = 1;
  let timers: Timer[] = [];
  const held = new Set<string>();
  const queues = new Map<string, Waiting[]>();
  const listeners = new Set<{ tab: number; listener: (message: unknown) => void }>();
  let tabs = 0;

  function grant(name: string): void {
    if (held.has(name)) return;
    const queue = queues.get(name) ?? [];
    let next = queue.shift();
    while (next?.signal.aborted) next = queue.shift();
    if (!next) return;
    held.add(name);
    void next.work().finally(() => {
      held.delete(name);
      grant(name);
    });
  }

  /** A tab of this browser: visible unless told otherwise. */
  function tab(options: { hidden?: boolean } = {}) {
    const id = ++tabs;
    let hidden = options.hidden ?? false;
    const visibility = new Set<() => void>();
    const page: Page = {
      now: () => now,
      random: () => random,
      setTimeout(run, ms) {
        const timer = { id: nextId++, at: now + ms, run };
        timers.push(timer);
        return timer.id;
      },
      clearTimeout(handle) {
        timers = timers.filter((timer) => timer.id !== handle);
      },
      hidden: () => hidden,
      onVisibilityChange(listener) {
        visibility.add(listener);
        return () => visibility.delete(listener);
      },
      lead(name, signal, work) {
        const queue = queues.get(name) ?? [];
        queues.set(name, queue);
        queue.push({ signal, work });
        signal.addEventListener("abort", () =>
          queues.set(
            name,
            (queues.get(name) ?? []).filter((w) => w.work !== work),
          ),
        );
        grant(name);
      },
      channel: {
        post(message) {
          const copy = structuredClone(message);
          for (const { tab: other, listener } of listeners) if (other !== id) queueMicrotask(() => listener(copy));
        },
        listen(listener) {
          const entry = { tab: id, listener };
          listeners.add(entry);
          return () => listeners.delete(entry);
        },
      },
    };
    return {
      page,
      async setHidden(value: boolean) {
        hidden = value;
        for (const listener of [...visibility]) listener();
        await settle();
      },
    };
  }

  return {
    tab,
    get now() {
      return now;
    },
    /** Moves the clock `ms` on, firing every timer due on the way, in order. */
    async advance(ms: number) {
      const until = now + ms;
      await settle();
      for (;;) {
        const due = timers.filter((timer) => timer.at <= until).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        timers = timers.filter((timer) => timer !== due);
        now = Math.max(now, due.at);
        due.run();
        await settle();
      }
      now = until;
    },
    settle,
  };
}

/** A fake proxy's active-session answers, in order (the last repeats), and when each request came. */
export function fakeAnswers(browser: { now: number }, ...answers: PollAnswer[]) {
  const requests: { at: number; etag: string | undefined }[] = [];
  return {
    requests,
    ask: async (etag: string | undefined): Promise<PollAnswer> => {
      requests.push({ at: browser.now, etag });
      return answers.length > 1 ? (answers.shift() as PollAnswer) : (answers[0] as PollAnswer);
    },
  };
}

export const session = (etag: string, maxAge = 5, liveParticipants = 1): PollAnswer => ({
  status: 200,
  etag,
  maxAge,
  body: { success: true, data: { id: etag, live_participants: liveParticipants } },
});
