/**
 * @module `realtimekit-proxy/browser`: the proxy from a web page, polite by construction.
 * `watchActiveSession` polls a meeting's active session at the pace the proxy sets (one
 * loop per meeting in the page, one tab polling for the whole browser, none while hidden);
 * `join` gets a signed-in user's participant token, waiting out a 503's `Retry-After`.
 * No dependencies; the page's own `fetch`, timers, visibility, Web Locks and BroadcastChannel.
 */
import type { ActiveSessionEnvelope, JoinEnvelope } from "../src/routes/answers.ts";
import { JOIN_RETRIES, joinMeeting } from "./join.ts";
import { type ActiveSessionState, type PollAnswer, ProxyError, readHeaders } from "./poll.ts";
import { type Listener, MeetingWatch, type Page } from "./watch.ts";

export { type ActiveSessionState, JOIN_RETRIES, ProxyError };
export type ActiveSession = ActiveSessionEnvelope["data"];
export type JoinData = JoinEnvelope["data"];

export interface ProxyClientOptions {
  /** The proxy's origin (and path prefix, if any), e.g. `https://proxy.example.com`. */
  baseUrl: string;
  /** The signed-in user's ID token from your identity provider, for `join`; none: the public routes only. */
  getToken?: () => string | null | undefined | Promise<string | null | undefined>;
  /** Another `fetch` (tests, instrumentation); the page's by default. */
  fetch?: typeof fetch;
}

export interface ProxyClient {
  /**
   * Calls `onChange` with the meeting's active session now (once known) and whenever it
   * changes (`data: null`: no live session; `error`: the last poll failed, `data` is the
   * last known). Stops when `signal` aborts or the returned function is called.
   */
  watchActiveSession(
    meetingId: string,
    onChange: (state: ActiveSessionState<ActiveSession>) => void,
    options?: { signal?: AbortSignal },
  ): () => void;
  /** Joins the signed-in user (`getToken`): the participant token for `RealtimeKitClient.init({ authToken })`. */
  join(meetingId: string, options?: { name?: string; signal?: AbortSignal }): Promise<JoinData>;
}

/** One watch per proxy and meeting in the page, whichever client asks. */
const watches = new Map<string, MeetingWatch<ActiveSession>>();
let page: Page | undefined;

export function createProxyClient({ baseUrl, getToken, fetch: custom }: ProxyClientOptions): ProxyClient {
  // Called through a closure: the page's fetch refuses to run with another `this`.
  const send: typeof fetch = custom ?? ((input, init) => fetch(input, init));
  const base = baseUrl.replace(/\/+$/, "");
  const meetingUrl = (meetingId: string, path: string) => `${base}/meetings/${encodeURIComponent(meetingId)}/${path}`;

  async function read(response: Response): Promise<PollAnswer> {
    const body: unknown = response.status === 304 ? undefined : await response.json().catch(() => undefined);
    return { status: response.status, ...readHeaders(response.headers, Date.now()), body };
  }

  return {
    watchActiveSession(meetingId, onChange, { signal } = {}) {
      if (signal?.aborted) return () => {};
      const name = `realtimekit-proxy ${base} ${meetingId}`;
      let watch = watches.get(name);
      if (!watch) {
        const ask = async (etag: string | undefined) =>
          read(
            await send(meetingUrl(meetingId, "active-session"), {
              // The page's HTTP cache would answer 304s as 200s: the loop sends its own If-None-Match.
              cache: "no-store",
              headers: etag ? { "If-None-Match": etag } : {},
            }),
          );
        page ??= browserPage();
        watch = new MeetingWatch<ActiveSession>(name, ask, page);
        watches.set(name, watch);
      }
      const remove = watch.add(onChange as Listener<ActiveSession>);
      const stop = () => {
        remove();
        signal?.removeEventListener("abort", stop);
      };
      signal?.addEventListener("abort", stop, { once: true });
      return stop;
    },

    join(meetingId, { name, signal } = {}) {
      const url = meetingUrl(meetingId, "join");
      return joinMeeting({ url, getToken, name, signal, send, pause, now: () => Date.now() });
    },
  };
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/** The real page: its timers and clock, `document`'s visibility, Web Locks, and a BroadcastChannel. */
function browserPage(): Page {
  const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel("realtimekit-proxy") : undefined;
  const locks = typeof navigator === "object" ? navigator.locks : undefined;
  return {
    now: () => Date.now(),
    random: () => Math.random(),
    setTimeout: (run, ms) => setTimeout(run, ms),
    clearTimeout: (handle) => clearTimeout(handle as number),
    hidden: () => typeof document === "object" && document.visibilityState === "hidden",
    onVisibilityChange(listener) {
      if (typeof document !== "object") return () => {};
      document.addEventListener("visibilitychange", listener);
      return () => document.removeEventListener("visibilitychange", listener);
    },
    lead(name, signal, work) {
      // Without Web Locks every tab leads its own loop (still one per meeting in the page).
      if (!locks) return void work();
      locks.request(name, { signal }, work).catch(() => {});
    },
    channel: {
      post: (message) => channel?.postMessage(message),
      listen(listener) {
        const heard = (event: MessageEvent) => listener(event.data);
        channel?.addEventListener("message", heard);
        return () => channel?.removeEventListener("message", heard);
      },
    },
  };
}
