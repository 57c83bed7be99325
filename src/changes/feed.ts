/**
 * @module Which stored answers a change of a meeting makes outdated. RealtimeKit's
 * webhooks say when a meeting starts or ends and when someone joins or leaves, and the
 * proxy's own writes say when a meeting was created, changed or someone kicked out; each
 * shared-tier entry that can show that meeting registers here what it covers (its
 * coverage), and a change becomes one notice per entry it concerns: renew a meeting's
 * active session at once, patch that meeting in the live-sessions index at once, or drop
 * a list or a session (outdated: renewed when next asked for). Pure: the Durable Object
 * (feed-object.ts) and `npm run sim` run this code, storage injected.
 */
import type { SyncKv } from "../sync-kv.ts";

/** What a shared-tier entry shows of meetings, as far as their changes go. Plain data: it crosses RPC boundaries. */
export type Coverage =
  /** One meeting's active session, answered per meeting. */
  | { kind: "meeting"; meetingId: string }
  /** The live-sessions index every meeting's active session is read from; `meetingPath` asks for one meeting's. */
  | { kind: "index"; meetingPath: string }
  /** A page of `/sessions`: of one meeting, or of every meeting; of one status, or of any. */
  | { kind: "sessions"; meetingId?: string; status?: string }
  /** One session, or its participants. */
  | { kind: "session"; sessionId: string }
  /** A page of the app's meetings. */
  | { kind: "meetings" }
  /** One meeting (its settings, not its session). */
  | { kind: "meeting-record"; meetingId: string };

/** The events that change what the proxy answers about a meeting. */
export const MEETING_EVENTS = [
  "meeting.started",
  "meeting.ended",
  "meeting.participantJoined",
  "meeting.participantLeft",
] as const;
export type MeetingEvent = (typeof MEETING_EVENTS)[number];

/**
 * The changes the proxy's own writes make: a meeting created or changed (lists and that
 * meeting's answer are dropped), someone kicked out of a live session (its answers renewed,
 * as a webhook's leave would).
 */
export const WRITE_EVENTS = ["meeting.created", "meeting.updated", "meeting.kicked"] as const;
export type WriteEvent = (typeof WRITE_EVENTS)[number];

/** A change of one meeting, as an accepted webhook or one of the proxy's writes reports it (ids canonical). */
export interface MeetingChange {
  event: MeetingEvent | WriteEvent;
  meetingId: string;
  sessionId?: string;
}

/** Whether a change is RealtimeKit's news (a webhook), not the proxy's own write. */
function isWebhookEvent(event: MeetingChange["event"]): event is MeetingEvent {
  return (MEETING_EVENTS as readonly string[]).includes(event);
}

/** What one shared-tier entry is told of a change: `renew` and `patch` call the upstream at once, `drop` when next asked. */
export interface EntryNotice {
  cacheKey: string;
  action: "renew" | "patch" | "drop";
  meetingId: string;
  /**
   * The change is the proxy's own write: its caller reads next and must see it, so no
   * renewal gap applies (writes are budgeted per caller, so they cannot make a burst of
   * renewals as a flood of webhooks could).
   */
  fromWrite?: true;
}

/** No entry (and no meeting within the index) is renewed more often than this, however many events arrive. */
export const MIN_RENEWAL_GAP_MS = 2_000;
/** An entry registers again this often while it is in use... */
export const REGISTRATION_MS = 3_600_000;
/** ...and the feed forgets an entry that has not for this long (no one asks for it any more). */
export const FORGOTTEN_AFTER_MS = 2 * REGISTRATION_MS;
/** Beyond this many entries, new ones are refused (and then never vouched for: nothing would tell them of a change). */
const MAX_REGISTERED_ENTRIES = 50_000;
const SWEEP_EVERY_MS = 60_000;
/** Storage keys: each registered entry under this prefix, and the time of the last change. */
const STORED_ENTRY_PREFIX = "key:";
const STORED_LAST_CHANGE = "last-change-at";

interface Registration {
  coverage: Coverage;
  at: number;
}

const ACTIONS: Record<Coverage["kind"], EntryNotice["action"]> = {
  meeting: "renew",
  index: "patch",
  sessions: "drop",
  session: "drop",
  meetings: "drop",
  "meeting-record": "drop",
};

/** Whether an entry of this coverage can show what `change` changed. Lists are dropped generously: a drop costs nothing until asked for. */
export function concerns(coverage: Coverage, change: MeetingChange): boolean {
  // A meeting created or changed touches its settings, never its sessions (and a session's answers never its settings).
  const ofSessions = isWebhookEvent(change.event) || change.event === "meeting.kicked";
  switch (coverage.kind) {
    case "meeting":
      return ofSessions && coverage.meetingId === change.meetingId;
    case "index":
      return ofSessions;
    case "sessions":
      // An ENDED list gains the session only when it ends; LIVE and unfiltered lists change with every event.
      return (
        ofSessions &&
        (coverage.meetingId === undefined || coverage.meetingId === change.meetingId) &&
        (coverage.status !== "ENDED" || change.event === "meeting.ended")
      );
    case "session":
      return ofSessions && coverage.sessionId === change.sessionId;
    case "meetings":
      return change.event === "meeting.created" || change.event === "meeting.updated";
    case "meeting-record":
      return change.event === "meeting.updated" && coverage.meetingId === change.meetingId;
  }
}

export class ChangeFeed {
  readonly #store: SyncKv;
  readonly #now: () => number;
  readonly #entries = new Map<string, Registration>();
  #lastChangeAt: number | undefined;
  #sweptAt = Number.NEGATIVE_INFINITY;

  constructor(store: SyncKv, now: () => number) {
    this.#store = store;
    this.#now = now;
    this.#lastChangeAt = store.get<number>(STORED_LAST_CHANGE);
    for (const [storageKey, registration] of store.list<Registration>({ prefix: STORED_ENTRY_PREFIX })) {
      this.#entries.set(storageKey.slice(STORED_ENTRY_PREFIX.length), registration);
    }
  }

  /** Registers (or renews) an entry; false when the feed is full, so the entry must not be vouched for. */
  register(cacheKey: string, coverage: Coverage): boolean {
    const now = this.#now();
    this.#sweep(now);
    if (!this.#entries.has(cacheKey) && this.#entries.size >= MAX_REGISTERED_ENTRIES) return false;
    const registration = { coverage, at: now };
    this.#entries.set(cacheKey, registration);
    this.#store.put(STORED_ENTRY_PREFIX + cacheKey, registration);
    return true;
  }

  /** Records the change and says which entries it concerns, and what each should do. */
  changed(change: MeetingChange): EntryNotice[] {
    const now = this.#now();
    this.#sweep(now);
    // Only RealtimeKit's news says webhooks are arriving; the proxy's own writes do not.
    if (isWebhookEvent(change.event)) {
      this.#lastChangeAt = now;
      this.#store.put(STORED_LAST_CHANGE, now);
    }
    const notices: EntryNotice[] = [];
    for (const [cacheKey, { coverage }] of this.#entries) {
      if (concerns(coverage, change)) {
        const fromWrite = isWebhookEvent(change.event) ? {} : { fromWrite: true as const };
        notices.push({ cacheKey, action: ACTIONS[coverage.kind], meetingId: change.meetingId, ...fromWrite });
      }
    }
    return notices;
  }

  /** When the last change was received: while it is recent, webhooks are arriving. */
  get lastChangeAt(): number | undefined {
    return this.#lastChangeAt;
  }

  /** Forgets entries that stopped registering (no one asks for them any more). */
  #sweep(now: number): void {
    if (now - this.#sweptAt < SWEEP_EVERY_MS) return;
    this.#sweptAt = now;
    for (const [cacheKey, { at }] of this.#entries) {
      if (now - at < FORGOTTEN_AFTER_MS) continue;
      this.#entries.delete(cacheKey);
      this.#store.delete(STORED_ENTRY_PREFIX + cacheKey);
    }
  }
}
