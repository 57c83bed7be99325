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

/** A participant's display name: 1..100 characters, no control characters. */
const participantName = z
  .string()
  .min(1, "must not be empty")
  .max(100, "must be at most 100 characters")
  .refine((value) => !/\p{Cc}/u.test(value), "must not contain control characters")
  .describe("The participant's display name");

export const userJoinBody = z.strictObject({ name: participantName.optional() }).meta({
  id: "UserJoinRequest",
  description:
    "A signed-in user's join: optionally the name to show (else the token's name or preferred_username claim). The preset comes from JOIN_PRESETS and the user's claim, never from the request.",
});

export const keyJoinBody = z
  .strictObject({
    custom_participant_id: z
      .string()
      .min(1, "must not be empty")
      .max(128, "must be at most 128 characters")
      .refine((value) => !/[\p{Cc}\s]/u.test(value), "must not contain spaces or control characters")
      .describe("Your own stable id for the person (not personal data): one participant per id and meeting"),
    preset_name: z
      .string()
      .min(1, "must not be empty")
      .max(64, "must be at most 64 characters")
      .describe("One of JOIN_PRESETS' presets"),
    name: participantName.optional(),
    picture: z
      .string()
      .max(2048, "must be at most 2048 characters")
      // A pattern rather than URL parsing: these schemas also type the client, where no URL global is assumed.
      .regex(/^https:\/\/[^\s/?#]+[^\s]*$/, "must be an https URL")
      .optional()
      .describe("An https URL of the participant's picture"),
  })
  .meta({ id: "KeyJoinRequest", description: "A backend's join on behalf of anyone (a key with participants:write)" });

export const joinEnvelope = z
  .object({
    success: z.literal(true),
    data: z.object({
      meeting_id: z.string().describe("The meeting, its id canonical (a UUID in lower case)"),
      participant_id: z.string().describe("The participant's id upstream"),
      preset_name: z.string().describe("The preset it joins with"),
      token: z.string().describe("The participant's auth token, for RealtimeKitClient.init({ authToken }): a secret"),
      created: z.boolean().describe("Whether this join added the participant (false: it existed, its token refreshed)"),
    }),
  })
  .meta({
    id: "JoinEnvelope",
    description: "A participant token, never stored in any cache (Cache-Control: no-store)",
  });

export const participantEnvelope = z
  .object({
    success: z.literal(true),
    data: z.object({
      id: z.string(),
      token: z.string().describe("The participant's auth token: a secret"),
      custom_participant_id: z.string(),
      preset_name: z.string(),
      name: z.string().nullable().optional(),
      picture: z.string().nullable().optional(),
      created_at: z.string(),
      updated_at: z.string(),
    }),
  })
  .meta({
    id: "ParticipantEnvelope",
    description: "The upstream's add participant answer, as the official SDK reads it",
  });

export const tokenEnvelope = z
  .object({ success: z.literal(true), data: z.object({ token: z.string().describe("A fresh auth token: a secret") }) })
  .meta({ id: "TokenEnvelope", description: "The upstream's refresh participant token answer" });

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
export type JoinEnvelope = z.infer<typeof joinEnvelope>;
export type StatusEnvelope = z.infer<typeof statusEnvelope>;
export type SessionsEnvelope = z.infer<typeof sessionsEnvelope>;
export type ErrorEnvelope = z.infer<typeof errorEnvelope>;
