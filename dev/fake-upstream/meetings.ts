/**
 * @module The fake's meetings over time: starting one opens a LIVE session, ending it
 * closes that session, someone joining opens one if none is live and counts them in, and
 * a kick takes people out of it. `npm start` (through its control endpoint), the tests and
 * the simulation drive it; each change says what RealtimeKit would push as webhooks
 * (webhooks.ts sends them).
 */
import type { SeededSession, Session } from "./data.ts";

/** Someone in a live session, as a kick's answer describes them. */
export interface PresentParticipant {
  id: string;
  custom_participant_id: string;
  name: string | null;
  created_at: string;
  updated_at: string;
}

/** A change as RealtimeKit reports it: the event and the session it concerns. */
export interface MeetingChangeEvent {
  event: "meeting.started" | "meeting.ended" | "meeting.participantJoined" | "meeting.participantLeft";
  session: Session;
  participant?: { peerId: string; userDisplayName: string | null; customParticipantId: string; at: string };
}

/** Sessions the fake opens count up from here, apart from the seeded ones. */
const FIRST_OPENED_SESSION = 0x10_0000;

export interface MeetingsOptions {
  seeded: SeededSession[];
  appId: string;
  now: () => number;
}

export function fakeMeetings({ seeded, appId, now }: MeetingsOptions) {
  let opened = FIRST_OPENED_SESSION;
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  // Each meeting's live session by its id in lower case (any case of a UUID is one meeting).
  const live = new Map<string, Session>();
  // Who is in each live session, by session id (the seeded ones: their joins not yet left).
  const present = new Map<string, Map<string, PresentParticipant>>();
  for (const { session, joins } of seeded) {
    if (session.status !== "LIVE") continue;
    live.set(session.associated_id.toLowerCase(), session);
    const stillIn = joins.filter((join) => join.left_at === undefined);
    present.set(
      session.id,
      new Map(
        stillIn.map((join) => [
          join.id,
          {
            id: join.id,
            custom_participant_id: join.custom_participant_id,
            name: join.display_name,
            created_at: join.created_at,
            updated_at: join.updated_at,
          },
        ]),
      ),
    );
  }
  const presentIn = (session: Session) => {
    const people = present.get(session.id) ?? new Map<string, PresentParticipant>();
    present.set(session.id, people);
    return people;
  };
  const liveSession = (meetingId: string) => live.get(meetingId.toLowerCase());
  const titleOf = (meetingId: string) =>
    seeded.find(({ session }) => same(session.associated_id, meetingId))?.session.meeting_display_name ?? "Meeting";

  /** Opens a LIVE session for the meeting; none when one is live already. */
  function start(meetingId: string): MeetingChangeEvent[] {
    if (liveSession(meetingId)) return [];
    const at = new Date(now()).toISOString();
    const session: Session = {
      id: `5e551011-0000-4000-8000-${(opened++).toString(16).padStart(12, "0")}`,
      associated_id: meetingId,
      created_at: at,
      started_at: at,
      updated_at: at,
      live_participants: 0,
      max_concurrent_participants: 0,
      meeting_display_name: titleOf(meetingId),
      minutes_consumed: 0,
      organization_id: appId,
      status: "LIVE",
      type: "meeting",
      meta: {},
    };
    seeded.push({ session, participants: [], joins: [] });
    live.set(meetingId.toLowerCase(), session);
    return [{ event: "meeting.started", session }];
  }

  /** Closes the meeting's LIVE session; none when it has none. */
  function end(meetingId: string): MeetingChangeEvent[] {
    const session = liveSession(meetingId);
    if (!session) return [];
    const at = new Date(now()).toISOString();
    Object.assign(session, { status: "ENDED", ended_at: at, updated_at: at, live_participants: 0 });
    live.delete(meetingId.toLowerCase());
    return [{ event: "meeting.ended", session }];
  }

  /** Someone joins: the meeting starts if it was not live, and counts them in. */
  function join(
    meetingId: string,
    person: { id: string; customParticipantId: string; name: string | null },
  ): MeetingChangeEvent[] {
    const started = start(meetingId);
    const session = liveSession(meetingId);
    if (!session) return started;
    session.live_participants += 1;
    session.max_concurrent_participants = Math.max(session.max_concurrent_participants, session.live_participants);
    session.updated_at = new Date(now()).toISOString();
    presentIn(session).set(person.id, {
      id: person.id,
      custom_participant_id: person.customParticipantId,
      name: person.name,
      created_at: session.updated_at,
      updated_at: session.updated_at,
    });
    const participant = {
      peerId: crypto.randomUUID(),
      userDisplayName: person.name,
      customParticipantId: person.customParticipantId,
      at: session.updated_at,
    };
    return [...started, { event: "meeting.participantJoined", session, participant }];
  }

  /** Someone leaves the meeting's live session (the sim's churn). */
  function leave(meetingId: string, customParticipantId: string): MeetingChangeEvent[] {
    const session = liveSession(meetingId);
    if (!session || session.live_participants === 0) return [];
    const person = [...presentIn(session).values()].find((one) => one.custom_participant_id === customParticipantId);
    const at = new Date(now()).toISOString();
    return left(
      session,
      person ?? { id: "", custom_participant_id: customParticipantId, name: null, created_at: at, updated_at: at },
    );
  }

  /** Takes people out of the live session (by participant id or custom id): who was kicked, and the changes. */
  function kick(
    session: Session,
    ids: { participantIds: readonly string[]; customIds: readonly string[] },
  ): { kicked: PresentParticipant[]; changes: MeetingChangeEvent[] } {
    const kicked = [...presentIn(session).values()].filter(
      (person) => ids.participantIds.includes(person.id) || ids.customIds.includes(person.custom_participant_id),
    );
    return { kicked, changes: kicked.flatMap((person) => left(session, person)) };
  }

  /** Takes everyone out of the live session: how many were in, and the changes. */
  function kickAll(session: Session): { count: number; changes: MeetingChangeEvent[] } {
    const count = session.live_participants;
    const changes = [...presentIn(session).values()].flatMap((person) => left(session, person));
    session.live_participants = 0;
    return { count, changes };
  }

  function left(session: Session, person: PresentParticipant): MeetingChangeEvent[] {
    presentIn(session).delete(person.id);
    session.live_participants = Math.max(0, session.live_participants - 1);
    session.updated_at = new Date(now()).toISOString();
    const participant = {
      peerId: crypto.randomUUID(),
      userDisplayName: person.name,
      customParticipantId: person.custom_participant_id,
      at: session.updated_at,
    };
    return [{ event: "meeting.participantLeft", session, participant }];
  }

  return { start, end, join, leave, kick, kickAll, liveSession };
}

export type FakeMeetings = ReturnType<typeof fakeMeetings>;
