/**
 * @module The poll loop of one meeting's active session, as pure logic: what one answer
 * means (changed, unchanged, none, failed) and how long to wait before the next request.
 * Its clock, randomness and requests are injected, so the browser runs it and the tests
 * run it with a fake clock. It asks at the pace the proxy sets (each answer's `max-age`,
 * `Retry-After` on 429 and 503) and never faster; on other failures it backs off, capped,
 * with jitter, so browsers that failed together do not come back together.
 */

/** The proxy's error envelope, as an Error: `status` is the HTTP status (0: no answer at all). */
export class ProxyError extends Error {
  readonly status: number;
  readonly type: string;
  /** Seconds the proxy asked to wait (`Retry-After`), if it did. */
  readonly retryAfter: number | undefined;

  constructor(status: number, type: string, message: string, retryAfter?: number) {
    super(message);
    this.name = "ProxyError";
    this.status = status;
    this.type = type;
    this.retryAfter = retryAfter;
  }
}

/** What watchers of a meeting are told: its live session (null: none now), and the last failure, if polling fails. */
export interface ActiveSessionState<Session = unknown> {
  data: Session | null;
  live: boolean;
  error: ProxyError | null;
}

/** One answer, read: its status and what the loop needs of its headers and body. */
export interface PollAnswer {
  status: number;
  etag?: string | undefined;
  maxAge?: number | undefined;
  retryAfter?: number | undefined;
  body?: unknown;
}

export interface Clock {
  now(): number;
  random(): number;
}

/** When a 404 (no live session) or an answer without `max-age` is asked again. */
export const IDLE_SECONDS = 5;
/** Never two requests closer than this, whatever an answer says. */
export const MIN_SECONDS = 1;
/** Failures without `Retry-After`: 2 s, doubling, at most a minute, each wait jittered within its upper half. */
export const BACKOFF_BASE_MS = 2_000;
export const BACKOFF_CAP_MS = 60_000;

/** What `ETag`, `Cache-Control: max-age` and `Retry-After` (seconds, or an HTTP date) say; times in seconds. */
export function readHeaders(headers: Headers, now: number): Pick<PollAnswer, "etag" | "maxAge" | "retryAfter"> {
  const maxAge = /(?:^|,)\s*max-age=(\d+)/.exec(headers.get("Cache-Control") ?? "")?.[1];
  const retryAfter = headers.get("Retry-After") ?? "";
  const seconds = /^\d+$/.test(retryAfter) ? Number(retryAfter) : (Date.parse(retryAfter) - now) / 1000;
  return {
    etag: headers.get("ETag") ?? undefined,
    maxAge: maxAge === undefined ? undefined : Number(maxAge),
    retryAfter: Number.isFinite(seconds) ? Math.max(0, seconds) : undefined,
  };
}

/** The error an answer that is no success carries (its envelope's type and message, when it has one). */
export function errorOf(answer: PollAnswer): ProxyError {
  const error = (answer.body as { error?: { type?: unknown; message?: unknown } } | undefined)?.error;
  const type = typeof error?.type === "string" ? error.type : answer.status === 0 ? "network" : "http";
  const message = typeof error?.message === "string" ? error.message : `the proxy answered ${answer.status}`;
  return new ProxyError(answer.status, type, message, answer.retryAfter);
}

/**
 * The loop's memory between answers: the ETag it sends as `If-None-Match`, what it last
 * told watchers, and how many failures in a row it has met.
 */
export class ActiveSessionLoop<Session = unknown> {
  etag: string | undefined;
  state: ActiveSessionState<Session> = { data: null, live: false, error: null };
  #failures = 0;
  /** What the answer showed (its ETag, or "404"), and the failure, if any: a change of either is news. */
  #shown = "";
  #failing = "";
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** What watchers were last told, in one comparable string (tabs compare theirs with it). */
  get version(): string {
    return `${this.#shown}\n${this.#failing}`;
  }

  /** Takes one answer: whether watchers must be told (the state changed), and how many ms until the next request. */
  take(answer: PollAnswer): { changed: boolean; waitMs: number } {
    const before = this.version;
    const waitMs = this.#read(answer);
    return { changed: before !== this.version, waitMs };
  }

  /** Takes the state another tab's loop reached; whether it is news here. */
  adopt(state: ActiveSessionState<Session>, version: string, etag: string | undefined): boolean {
    if (version === this.version) return false;
    const lineBreak = version.indexOf("\n");
    this.#shown = version.slice(0, lineBreak);
    this.#failing = version.slice(lineBreak + 1);
    this.state = state;
    this.etag = etag;
    return true;
  }

  #read(answer: PollAnswer): number {
    const { status } = answer;
    if (status === 200 || status === 304 || status === 404) {
      this.#failures = 0;
      this.#failing = "";
      if (status === 200) {
        const data = (answer.body as { data?: Session } | undefined)?.data ?? null;
        this.etag = answer.etag;
        this.#shown = answer.etag ?? JSON.stringify(data);
        this.state = { data, live: true, error: null };
      } else if (status === 404) {
        this.etag = undefined;
        this.#shown = "404";
        this.state = { data: null, live: false, error: null };
      } else {
        this.state = { ...this.state, error: null };
      }
      return Math.max((status === 404 ? undefined : answer.maxAge) ?? IDLE_SECONDS, MIN_SECONDS) * 1000;
    }
    const error = errorOf(answer);
    this.#failures++;
    this.#failing = `${error.status} ${error.type}`;
    this.state = { ...this.state, error };
    return this.#afterFailure(error);
  }

  /** `Retry-After` (plus up to a tenth, spread), else the capped, jittered backoff. */
  #afterFailure(error: ProxyError): number {
    const random = this.#clock.random();
    if (error.retryAfter !== undefined && (error.status === 429 || error.status === 503)) {
      return Math.max(error.retryAfter, MIN_SECONDS) * 1000 * (1 + random / 10);
    }
    const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (this.#failures - 1));
    return ceiling / 2 + (random * ceiling) / 2;
  }
}
