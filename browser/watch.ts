/**
 * @module One meeting's active session, watched: however many watchers a page has, one
 * poll loop; however many tabs, one of them polls (the leader, chosen by a lock) and tells
 * the others over a channel. Only a visible tab leads: a hidden one gives the lock up and
 * makes no request, and when it shows again it asks once (unless the last answer is still
 * fresh). The page's clock, visibility, lock and channel are injected (browser.ts gives the
 * real ones; the tests, fakes).
 */
import { ActiveSessionLoop, type ActiveSessionState, type Clock, type PollAnswer, ProxyError } from "./poll.ts";

/** A channel every tab of this origin hears (BroadcastChannel). */
export interface Channel {
  post(message: unknown): void;
  listen(listener: (message: unknown) => void): () => void;
}

/** What a watch needs of the page. */
export interface Page extends Clock {
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  hidden(): boolean;
  onVisibilityChange(listener: () => void): () => void;
  /** Runs `work` once this tab holds the named lock (one tab at a time); aborting `signal` stops waiting for it. */
  lead(name: string, signal: AbortSignal, work: () => Promise<void>): void;
  channel: Channel;
}

/** How one poll is made: with the ETag to send as `If-None-Match`. */
export type Ask = (etag: string | undefined) => Promise<PollAnswer>;

export type Listener<Session> = (state: ActiveSessionState<Session>) => void;

/** What the leader tells the other tabs after each poll, and answers a newcomer's "want". */
interface StateMessage<Session> {
  kind: "state";
  meeting: string;
  version: string;
  etag: string | undefined;
  dueAt: number;
  data: Session | null;
  live: boolean;
  error: { status: number; type: string; message: string; retryAfter: number | undefined } | null;
}

export class MeetingWatch<Session = unknown> {
  readonly #name: string;
  readonly #ask: Ask;
  readonly #page: Page;
  readonly #loop: ActiveSessionLoop<Session>;
  readonly #listeners = new Set<Listener<Session>>();
  #known = false;
  /** When the next request may be made, as the last answer (here or in another tab) said. */
  #dueAt = 0;
  #leading: AbortController | undefined;
  #timer: unknown;
  #stops: (() => void)[] = [];

  /** @param name the meeting, with the proxy it is asked of: the lock's name, and the channel's key. */
  constructor(name: string, ask: Ask, page: Page) {
    this.#name = name;
    this.#ask = ask;
    this.#page = page;
    this.#loop = new ActiveSessionLoop(page);
  }

  /** Adds a watcher, told the state now if known; returns its removal (the last one stops the watch). */
  add(listener: Listener<Session>): () => void {
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) this.#begin();
    else if (this.#known) listener(this.#loop.state);
    return () => {
      if (this.#listeners.delete(listener) && this.#listeners.size === 0) this.#end();
    };
  }

  #begin(): void {
    this.#stops = [
      this.#page.channel.listen((message) => this.#heard(message)),
      this.#page.onVisibilityChange(() => (this.#page.hidden() ? this.#stepDown() : this.#contend())),
    ];
    this.#page.channel.post({ kind: "want", meeting: this.#name });
    this.#contend();
  }

  #end(): void {
    this.#stepDown();
    for (const stop of this.#stops) stop();
    this.#stops = [];
  }

  /** Waits for the lead (only while visible and watched). */
  #contend(): void {
    if (this.#leading || this.#page.hidden() || this.#listeners.size === 0) return;
    const leading = new AbortController();
    this.#leading = leading;
    this.#page.lead(this.#name, leading.signal, () => this.#lead(leading.signal));
  }

  /** Polls while it holds the lead; resolves (giving the lock up) once told to stop. */
  #lead(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      signal.addEventListener("abort", () => resolve(), { once: true });
      this.#schedule(this.#dueAt - this.#page.now(), signal);
    });
  }

  #stepDown(): void {
    this.#leading?.abort();
    this.#leading = undefined;
    this.#page.clearTimeout(this.#timer);
  }

  #schedule(ms: number, signal: AbortSignal): void {
    this.#page.clearTimeout(this.#timer);
    this.#timer = this.#page.setTimeout(() => void this.#poll(signal), Math.max(0, ms));
  }

  async #poll(signal: AbortSignal): Promise<void> {
    let answer: PollAnswer;
    try {
      answer = await this.#ask(this.#loop.etag);
    } catch (error) {
      answer = { status: 0, body: { error: { type: "network", message: String(error) } } };
    }
    const { changed, waitMs } = this.#loop.take(answer);
    this.#dueAt = this.#page.now() + waitMs;
    this.#page.channel.post(this.#message());
    if (changed || !this.#known) this.#tell();
    if (!signal.aborted) this.#schedule(waitMs, signal);
  }

  #message(): StateMessage<Session> {
    const { data, live, error } = this.#loop.state;
    return {
      kind: "state",
      meeting: this.#name,
      version: this.#loop.version,
      etag: this.#loop.etag,
      dueAt: this.#dueAt,
      data,
      live,
      error: error && { status: error.status, type: error.type, message: error.message, retryAfter: error.retryAfter },
    };
  }

  #heard(message: unknown): void {
    const heard = message as StateMessage<Session> | { kind: "want"; meeting: string };
    if (heard?.meeting !== this.#name) return;
    if (heard.kind === "want") {
      if (this.#leading && this.#known) this.#page.channel.post(this.#message());
      return;
    }
    this.#dueAt = Math.max(this.#dueAt, heard.dueAt);
    const { error } = heard;
    const state = {
      data: heard.data,
      live: heard.live,
      error: error && new ProxyError(error.status, error.type, error.message, error.retryAfter),
    };
    if (this.#loop.adopt(state, heard.version, heard.etag) || !this.#known) this.#tell();
  }

  #tell(): void {
    this.#known = true;
    for (const listener of [...this.#listeners]) listener(this.#loop.state);
  }
}
