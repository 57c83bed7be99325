/** @module The fake upstream's seeded data: realistic sessions of V1 and V2 meetings. */

/** Local-only credentials and ids: the fake accepts nothing else. Never real values. */
export const FAKE_API_TOKEN = "local-fake-cloudflare-api-token";
export const FAKE_ACCOUNT_ID = "0123456789abcdef0123456789abcdef";
export const FAKE_APP_ID = "5f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

export interface Session {
  id: string;
  associated_id: string;
  created_at: string;
  started_at: string;
  updated_at: string;
  ended_at?: string;
  live_participants: number;
  max_concurrent_participants: number;
  meeting_display_name: string;
  minutes_consumed: number;
  organization_id: string;
  status: "LIVE" | "ENDED";
  type: "meeting" | "livestream" | "participant";
  breakout_rooms?: unknown[];
  meta?: Record<string, unknown>;
}

/** A participant of a session, as the upstream's participants endpoint lists them. */
export interface Participant {
  id: string;
  custom_participant_id: string;
  display_name: string;
  user_id: string;
  preset_name: string;
  joined_at: string;
  left_at?: string;
  duration: number;
  created_at: string;
  updated_at: string;
  peer_events?: {
    id: string;
    created_at: string;
    event_name: "PEER_JOINING" | "PEER_LEAVING";
    minutes_consumed: number;
  }[];
}

/** A seeded session with who took part: names (the list's filter) and every join (the participants endpoint). */
export interface SeededSession {
  session: Session;
  participants: string[];
  /** One entry per join: someone who dropped out and came back joined twice. */
  joins: Participant[];
}

export interface Meeting {
  id: string;
  title: string;
  /** Whether the meeting has a LIVE session now. */
  live: boolean;
}

/** V2 meetings have UUIDs, V1 meetings room names; some are live now, some are not. */
export const MEETINGS: readonly Meeting[] = [
  { id: "6bf2b8be-04dd-4191-b602-1128921a306b", title: "Weekly engineering sync", live: true },
  { id: "0d4e6a8c-2b1f-4e3d-9c5b-7a6f8e9d0c1b", title: "Customer onboarding", live: false },
  { id: "A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D", title: "Board meeting (upper-case id)", live: false },
  { id: "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a", title: "Product launch livestream", live: true },
  { id: "3c2b1a09-8f7e-4d6c-9b5a-4e3d2c1b0a9f", title: "Design review", live: false },
  { id: "qwerty-asdfgh", title: "Legacy support room", live: true },
  { id: "zxcvbn-poiuyt", title: "Legacy standup", live: false },
  { id: "lkjhgf-mnbvcx", title: "Legacy all-hands", live: false },
];

const PEOPLE = [
  "Ada Lovelace",
  "Grace Hopper",
  "Alan Turing",
  "Katherine Johnson",
  "Linus Torvalds",
  "Margaret Hamilton",
  "Dennis Ritchie",
  "Barbara Liskov",
];

/** Sessions start from here, one every few hours, so tests can reason about time ranges. */
export const SEED_EPOCH = Date.UTC(2026, 9, 1, 8, 0, 0);
const HOUR = 3_600_000;

function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

function sessionId(n: number): string {
  const hex = n.toString(16).padStart(12, "0");
  return `5e551011-0000-4000-8000-${hex}`;
}

function participantId(session: number, person: number, join: number): string {
  return `9a7e0000-${session.toString(16).padStart(4, "0")}-4000-8000-${(person * 16 + join).toString(16).padStart(12, "0")}`;
}

/** Each person joins once, a few twice (dropped and came back); the live session's last joins are still in. */
function joinsOf(session: Session, names: string[], random: () => number): Participant[] {
  const started = Date.parse(session.started_at);
  const ended = Date.parse(session.updated_at);
  const sessionNumber = Number.parseInt(session.id.slice(-12), 16);
  return names.flatMap((name, person) => {
    const joins = random() < 0.3 ? 2 : 1;
    return Array.from({ length: joins }, (_, join) => {
      const joinedAt = started + Math.floor(random() * (ended - started) * (join === 0 ? 0.3 : 0.6));
      const stillIn = session.status === "LIVE" && join === joins - 1;
      const leftAt = stillIn
        ? undefined
        : Math.min(ended, joinedAt + 60_000 + Math.floor(random() * (ended - joinedAt)));
      const duration = Math.max(1, Math.round(((leftAt ?? ended) - joinedAt) / 60_000));
      const participant: Participant = {
        id: participantId(sessionNumber, person, join),
        custom_participant_id: `user-${name.toLowerCase().replace(/[^a-z]+/g, "-")}`,
        display_name: name,
        user_id: `5e0d0000-0000-4000-8000-${person.toString(16).padStart(12, "0")}`,
        preset_name: person === 0 ? "group_call_host" : "group_call_participant",
        joined_at: new Date(joinedAt).toISOString(),
        duration,
        created_at: new Date(joinedAt).toISOString(),
        updated_at: new Date(leftAt ?? ended).toISOString(),
        peer_events: [
          {
            id: `${participantId(sessionNumber, person, join)}-j`,
            created_at: new Date(joinedAt).toISOString(),
            event_name: "PEER_JOINING",
            minutes_consumed: 0,
          },
          ...(leftAt === undefined
            ? []
            : [
                {
                  id: `${participantId(sessionNumber, person, join)}-l`,
                  created_at: new Date(leftAt).toISOString(),
                  event_name: "PEER_LEAVING" as const,
                  minutes_consumed: duration,
                },
              ]),
        ],
      };
      if (leftAt !== undefined) participant.left_at = new Date(leftAt).toISOString();
      return participant;
    });
  });
}

/** The id of the n-th generated meeting (a V2 UUID), for loads with many live meetings. */
export function generatedMeetingId(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
}

function generatedMeetings(count: number): Meeting[] {
  return Array.from({ length: count }, (_, n) => ({
    id: generatedMeetingId(n),
    title: `Generated meeting ${n}`,
    live: true,
  }));
}

/** @param extraLiveMeetings live meetings to add to the realistic ones (generatedMeetingId(0..n-1)). */
export function seedSessions(extraLiveMeetings = 0): SeededSession[] {
  const random = seededRandom(42);
  const seeded: SeededSession[] = [];
  let n = 0;
  [...MEETINGS, ...generatedMeetings(extraLiveMeetings)].forEach((meeting, meetingIndex) => {
    const pastSessions = 3 + (meetingIndex % 3);
    for (let i = 0; i <= pastSessions; i++) {
      const isLive = meeting.live && i === pastSessions;
      if (i === pastSessions && !isLive) break;
      n++;
      const createdAt = SEED_EPOCH + (n * 7 + meetingIndex) * HOUR;
      const minutes = isLive ? 12 + Math.floor(random() * 30) : 5 + Math.floor(random() * 115);
      const peak = 2 + Math.floor(random() * 40);
      const participants = PEOPLE.filter(() => random() < 0.5);
      const session: Session = {
        id: sessionId(n),
        associated_id: meeting.id,
        created_at: new Date(createdAt).toISOString(),
        started_at: new Date(createdAt + 60_000).toISOString(),
        updated_at: new Date(createdAt + minutes * 60_000).toISOString(),
        live_participants: isLive ? Math.max(1, Math.floor(peak / 2)) : 0,
        max_concurrent_participants: peak,
        meeting_display_name: meeting.title,
        minutes_consumed: minutes,
        organization_id: FAKE_APP_ID,
        status: isLive ? "LIVE" : "ENDED",
        type: meeting.title.includes("livestream") ? "livestream" : "meeting",
        meta: {},
      };
      if (!isLive) session.ended_at = session.updated_at;
      const names = participants.length ? participants : [PEOPLE[0] as string];
      seeded.push({ session, participants: names, joins: joinsOf(session, names, random) });
    }
  });
  return seeded;
}
