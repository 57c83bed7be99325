/**
 * @module What a verified webhook delivery says, in the proxy's terms: a change of one of
 * this app's meetings (its event, meeting, session, and when it happened), or why it is
 * ignored. Read with zod after the signature is checked; fields the proxy does not use
 * are let through unread, since RealtimeKit adds fields without notice.
 */
import * as z from "zod/mini";
import { MEETING_EVENTS, type MeetingChange, type MeetingEvent } from "../changes/feed.ts";
import { canonicalId, MEETING_ID, UUID } from "../ids.ts";

const time = z.optional(z.nullable(z.string()));

const payloadSchema = z.object({
  event: z.string(),
  meeting: z.optional(
    z.object({
      id: z.string().check(z.regex(MEETING_ID)),
      sessionId: z.optional(z.nullable(z.string())),
      startedAt: time,
      endedAt: time,
      updatedAt: time,
      organizedBy: z.optional(z.nullable(z.object({ id: z.optional(z.nullable(z.string())) }))),
    }),
  ),
  participant: z.optional(z.nullable(z.object({ joinedAt: time, leftAt: time }))),
});

type Payload = z.output<typeof payloadSchema>;

export type Delivery =
  /** `eventAt`: when it happened by RealtimeKit's clock (undefined when the payload does not say). */
  { kind: "change"; change: MeetingChange; eventAt: number | undefined } | { kind: "ignored"; reason: string };

/** When the event happened, by the payload's own field for it. */
const EVENT_TIME: Record<MeetingEvent, (payload: Payload) => string | null | undefined> = {
  "meeting.started": (payload) => payload.meeting?.startedAt,
  "meeting.ended": (payload) => payload.meeting?.endedAt,
  "meeting.participantJoined": (payload) => payload.participant?.joinedAt,
  "meeting.participantLeft": (payload) => payload.participant?.leftAt,
};

function isMeetingEvent(event: string): event is MeetingEvent {
  return (MEETING_EVENTS as readonly string[]).includes(event);
}

/** Reads a verified delivery's JSON for this app (`appId`). */
export function readDelivery(json: unknown, appId: string): Delivery {
  const parsed = payloadSchema.safeParse(json);
  if (!parsed.success) return { kind: "ignored", reason: "not a meeting event this proxy reads" };
  const payload = parsed.data;
  // The reason never quotes the payload: answers and logs carry nothing a sender wrote.
  if (!isMeetingEvent(payload.event)) return { kind: "ignored", reason: "the event changes no answer of this proxy" };
  const { meeting } = payload;
  if (!meeting) return { kind: "ignored", reason: "the event names no meeting" };
  // RealtimeKit signs every app's events with one key: an event is this app's only when it says so.
  const organizer = meeting.organizedBy?.id;
  if (!organizer) return { kind: "ignored", reason: "the event does not say which app it is for" };
  if (organizer.toLowerCase() !== appId.toLowerCase()) return { kind: "ignored", reason: "the event is another app's" };
  const sessionId = meeting.sessionId && UUID.test(meeting.sessionId) ? canonicalId(meeting.sessionId) : undefined;
  const eventAt = Date.parse(EVENT_TIME[payload.event](payload) ?? "");
  return {
    kind: "change",
    change: { event: payload.event, meetingId: canonicalId(meeting.id), ...(sessionId ? { sessionId } : {}) },
    eventAt: Number.isNaN(eventAt) ? undefined : eventAt,
  };
}
