/**
 * @module The shapes of the proxy's answers, as zod schemas: they type the routes for
 * `hono/client` and describe the responses in the OpenAPI document. The proxy passes
 * upstream bodies through unchanged and never parses them with these.
 */
import * as z from "zod";

const sessionSchema = z
  .object({
    id: z.string().describe("Session ID"),
    associated_id: z.string().describe("The meeting: a UUID for V2 meetings, a room name abcdef-ghijkl for V1"),
    created_at: z.string().describe("When the session was created (timestamp)"),
    started_at: z.string().describe("When it started (timestamp)"),
    updated_at: z.string().describe("When it was last updated (timestamp)"),
    ended_at: z.string().optional().describe("When it ended (timestamp)"),
    live_participants: z.number().describe("Participants in the session now"),
    max_concurrent_participants: z.number().describe("Peak participants"),
    meeting_display_name: z.string().describe("Title of the meeting"),
    minutes_consumed: z.number().describe("Minutes consumed since the start"),
    organization_id: z.string().describe("The app that hosted the session"),
    status: z.enum(["LIVE", "ENDED"]),
    type: z.enum(["meeting", "livestream", "participant"]),
    breakout_rooms: z.array(z.record(z.string(), z.unknown())).optional(),
    meta: z.record(z.string(), z.unknown()).optional().describe("Free-form metadata"),
  })
  .meta({ id: "Session" });

export const activeSessionEnvelope = z
  .object({ success: z.literal(true), data: sessionSchema })
  .meta({ id: "ActiveSessionEnvelope", description: "The upstream's success envelope, unchanged" });

export const sessionEnvelope = z
  .object({ success: z.literal(true), data: sessionSchema })
  .meta({ id: "SessionEnvelope", description: "The upstream's success envelope, unchanged" });

const peerEventSchema = z.object({
  id: z.string().optional(),
  created_at: z.string().optional(),
  event_name: z.enum(["PEER_CREATED", "PEER_JOINING", "PEER_LEAVING"]).optional(),
  minutes_consumed: z.number().optional(),
});

const participantSchema = z
  .object({
    id: z.string().optional().describe("Participant ID"),
    custom_participant_id: z.string().optional().describe("The ID your app gave the participant"),
    display_name: z.string().optional(),
    user_id: z.string().optional(),
    preset_name: z.string().optional(),
    joined_at: z.string().optional().describe("When they joined (timestamp)"),
    left_at: z.string().optional().describe("When they left (timestamp)"),
    duration: z.number().optional().describe("Minutes in the session"),
    created_at: z.string().optional(),
    updated_at: z.string().optional(),
    peer_events: z.array(peerEventSchema).optional().describe("With include_peer_events=true"),
  })
  .meta({ id: "Participant" });

export const participantsEnvelope = z
  .object({ success: z.literal(true), data: z.object({ participants: z.array(participantSchema) }) })
  .meta({ id: "ParticipantsEnvelope", description: "The upstream's success envelope, unchanged" });

export const sessionsEnvelope = z
  .object({
    success: z.literal(true),
    data: z.object({ sessions: z.array(sessionSchema) }),
    paging: z.object({ start_offset: z.number(), end_offset: z.number(), total_count: z.number() }).optional(),
  })
  .meta({ id: "SessionsEnvelope", description: "The upstream's success envelope, unchanged" });

export const statusEnvelope = z
  .object({
    success: z.literal(true),
    data: z.object({
      budget: z
        .object({
          limit: z.number().describe("UPSTREAM_BUDGET's requests"),
          window_seconds: z.number().describe("UPSTREAM_BUDGET's window"),
          available: z.number().describe("Permits left in the current window"),
          cold_available: z
            .number()
            .describe("Of those, permits cold misses may still take (they get half the window)"),
        })
        .describe("The whole deployment's upstream allowance"),
      caller_budget: z.object({ limit: z.number(), window_seconds: z.number() }).describe("CALLER_MISS_BUDGET"),
      paused_until: z.string().nullable().describe("While an upstream 429 pauses every upstream call: until when"),
      spend_per_route: z.record(z.string(), z.number()).describe("Permits taken in the current window, by route"),
      spend_per_key: z
        .record(z.string(), z.number())
        .describe("Upstream calls each API key caused in its CALLER_MISS_BUDGET window (sliding estimate), by key id"),
      callers_over_share: z
        .array(z.object({ caller: z.string().describe("key:<id> or ip:<address or /64>"), refused: z.number() }))
        .describe("Callers refused for spending their share of the budget"),
    }),
  })
  .meta({ id: "StatusEnvelope", description: "The budget gate's state, for operators" });

export const healthBody = z.object({ status: z.literal("ok"), version: z.string() }).meta({ id: "Health" });

export const errorEnvelope = z
  .object({
    success: z.literal(false),
    error: z.object({
      code: z.number().describe("The HTTP status"),
      message: z.string().describe("What went wrong, in words"),
      issues: z
        .array(z.object({ path: z.string().describe("The param's name"), message: z.string() }))
        .optional()
        .describe("On a 400: every problem, one per param"),
    }),
  })
  .meta({ id: "ErrorEnvelope" });

export type ActiveSessionEnvelope = z.infer<typeof activeSessionEnvelope>;
export type SessionEnvelope = z.infer<typeof sessionEnvelope>;
export type ParticipantsEnvelope = z.infer<typeof participantsEnvelope>;
export type StatusEnvelope = z.infer<typeof statusEnvelope>;
export type SessionsEnvelope = z.infer<typeof sessionsEnvelope>;
export type ErrorEnvelope = z.infer<typeof errorEnvelope>;
