/**
 * @module Which stored answers a change of a meeting makes outdated. RealtimeKit's
 * webhooks say when a meeting starts or ends and when someone joins or leaves; each
 * shared-tier key that can show that meeting registers here what it shows (its scope),
 * and a change becomes one notice per key it concerns: renew a meeting's active session
 * at once, patch that meeting in the live-sessions index at once, or drop a list or a
 * session (outdated: renewed when next asked for). Pure: the Durable Object
 * (reads/change-feed-object.ts) and `npm run sim` run this code, storage injected.
 */
import type { SyncKv } from "../sync-kv.ts";

/** What a shared-tier key shows, as far as meetings' changes go. Plain data: it crosses RPC boundaries. */
export type ChangeScope =
  /** One meeting's active session, answered per meeting. */
  | { kind: "meeting"; meetingId: string }
  /** The live-sessions index every meeting's active session is read from; `meetingPath` asks for one meeting's. */
  | { kind: "index"; meetingPath: string }
  /** A page of `/sessions`: of one meeting, or of every meeting; of one status, or of any. */
  | { kind: "sessions"; meetingId?: string; status?: string }
  /** One session, or its participants. */
  | { kind: "session"; sessionId: string };

/** The events that change what the proxy answers about a meeting. */
export const MEETING_EVENTS = [
  "meeting.started",
  "meeting.ended",
  "meeting.participantJoined",
  "meeting.participantLeft",
] as const;
export type MeetingEvent = (typeof MEETING_EVENTS)[number];

/** A change of one meeting, as an accepted webhook reports it (ids canonical). */
export interface MeetingChange {
  event: MeetingEvent;
  meetingId: string;
  sessionId?: string;
}

/** What one key is told of a change: `renew` and `patch` call the upstream at once, `drop` when next asked. */
export interface KeyNotice {
  key: string;
  action: "renew" | "patch" | "drop";
  meetingId: string;
}

/** No key (and no meeting within the index) is renewed more often than this, however many events arrive. */
export const MIN_RENEWAL_GAP_MS = 2_000;
/** A key registers again this often while it is in use... */
export const REGISTRATION_MS = 3_600_000;
/** ...and the feed forgets a key that has not for this long (no one asks for it any more). */
export const FORGOTTEN_AFTER_MS = 2 * REGISTRATION_MS;
/** Beyond this many keys, new ones are refused (and then never vouched for: nothing would tell them of a change). */
const MAX_REGISTERED_KEYS = 50_000;
const SWEEP_EVERY_MS = 60_000;
const KEY_PREFIX = "key:";
const LAST_CHANGE_KEY = "last-change-at";

interface Registration {
  scope: ChangeScope;
  at: number;
}

const ACTIONS: Record<ChangeScope["kind"], KeyNotice["action"]> = {
  meeting: "renew",
  index: "patch",
  sessions: "drop",
  session: "drop",
};

/** Whether a key of `scope` can show what `change` changed. Lists are dropped generously: a drop costs nothing until asked for. */
export function concerns(scope: ChangeScope, change: MeetingChange): boolean {
  switch (scope.kind) {
    case "meeting":
      return scope.meetingId === change.meetingId;
    case "index":
      return true;
    case "sessions":
      // An ENDED list gains the session only when it ends; LIVE and unfiltered lists change with every event.
      return (
        (scope.meetingId === undefined || scope.meetingId === change.meetingId) &&
        (scope.status !== "ENDED" || change.event === "meeting.ended")
      );
    case "session":
      return scope.sessionId === change.sessionId;
  }
}

export class ChangeFeed {
  readonly #store: SyncKv;
  readonly #now: () => number;
  readonly #keys = new Map<string, Registration>();
  #lastChangeAt: number | undefined;
  #sweptAt = Number.NEGATIVE_INFINITY;

  constructor(store: SyncKv, now: () => number) {
    this.#store = store;
    this.#now = now;
    this.#lastChangeAt = store.get<number>(LAST_CHANGE_KEY);
    for (const [key, registration] of store.list<Registration>({ prefix: KEY_PREFIX })) {
      this.#keys.set(key.slice(KEY_PREFIX.length), registration);
    }
  }

  /** Registers (or renews) a key; false when the feed is full, so the key must not be vouched for. */
  register(key: string, scope: ChangeScope): boolean {
    const now = this.#now();
    this.#sweep(now);
    if (!this.#keys.has(key) && this.#keys.size >= MAX_REGISTERED_KEYS) return false;
    const registration = { scope, at: now };
    this.#keys.set(key, registration);
    this.#store.put(KEY_PREFIX + key, registration);
    return true;
  }

  /** Records the change and says which keys it concerns, and what each should do. */
  changed(change: MeetingChange): KeyNotice[] {
    const now = this.#now();
    this.#sweep(now);
    this.#lastChangeAt = now;
    this.#store.put(LAST_CHANGE_KEY, now);
    const notices: KeyNotice[] = [];
    for (const [key, { scope }] of this.#keys) {
      if (concerns(scope, change)) notices.push({ key, action: ACTIONS[scope.kind], meetingId: change.meetingId });
    }
    return notices;
  }

  /** When the last change was received: while it is recent, webhooks are arriving. */
  get lastChangeAt(): number | undefined {
    return this.#lastChangeAt;
  }

  /** Forgets keys that stopped registering (no one asks for them any more). */
  #sweep(now: number): void {
    if (now - this.#sweptAt < SWEEP_EVERY_MS) return;
    this.#sweptAt = now;
    for (const [key, { at }] of this.#keys) {
      if (now - at < FORGOTTEN_AFTER_MS) continue;
      this.#keys.delete(key);
      this.#store.delete(KEY_PREFIX + key);
    }
  }
}
