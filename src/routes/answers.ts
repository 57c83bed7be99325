/**
 * @module The shapes of the proxy's answers, as zod schemas, by the name the OpenAPI document
 * gives each: they type the client (`realtimekit-proxy/client`) and document the answers,
 * and never parse anything (upstream bodies pass through unchanged). The Worker never
 * imports this module: the route table names each route's answer, and only the client's
 * types and the OpenAPI build (at build time) read the schemas.
 */
import * as z from "zod/mini";
import { ERROR_KINDS } from "../errors.ts";
import { described, named } from "./params.ts";

const text = (description: string) => described(z.string(), description);
const count = (description: string) => described(z.number(), description);
const UNCHANGED = "The upstream's success envelope, unchanged";

const sessionSchema = named(
  z.object({
    id: text("Session ID"),
    associated_id: text("The meeting: a UUID for V2 meetings, a room name abcdef-ghijkl for V1"),
    created_at: text("When the session was created (timestamp)"),
    started_at: text("When it started (timestamp)"),
    updated_at: text("When it was last updated (timestamp)"),
    ended_at: z.optional(text("When it ended (timestamp)")),
    live_participants: count("Participants in the session now"),
    max_concurrent_participants: count("Peak participants"),
    meeting_display_name: text("Title of the meeting"),
    minutes_consumed: count("Minutes consumed since the start"),
    organization_id: text("The app that hosted the session"),
    status: z.enum(["LIVE", "ENDED"]),
    type: z.enum(["meeting", "livestream", "participant"]),
    breakout_rooms: z.optional(z.array(z.record(z.string(), z.unknown()))),
    meta: z.optional(described(z.record(z.string(), z.unknown()), "Free-form metadata")),
  }),
  "Session",
);

export const activeSessionEnvelope = named(
  z.object({ success: z.literal(true), data: sessionSchema }),
  "ActiveSessionEnvelope",
  UNCHANGED,
);

export const sessionEnvelope = named(
  z.object({ success: z.literal(true), data: sessionSchema }),
  "SessionEnvelope",
  UNCHANGED,
);

const peerEventSchema = z.object({
  id: z.optional(z.string()),
  created_at: z.optional(z.string()),
  event_name: z.optional(z.enum(["PEER_CREATED", "PEER_JOINING", "PEER_LEAVING"])),
  minutes_consumed: z.optional(z.number()),
});

const participantSchema = named(
  z.object({
    id: z.optional(text("Participant ID")),
    custom_participant_id: z.optional(text("The ID your app gave the participant")),
    display_name: z.optional(z.string()),
    user_id: z.optional(z.string()),
    preset_name: z.optional(z.string()),
    joined_at: z.optional(text("When they joined (timestamp)")),
    left_at: z.optional(text("When they left (timestamp)")),
    duration: z.optional(count("Minutes in the session")),
    created_at: z.optional(z.string()),
    updated_at: z.optional(z.string()),
    peer_events: z.optional(described(z.array(peerEventSchema), "With include_peer_events=true")),
  }),
  "Participant",
);

export const participantsEnvelope = named(
  z.object({ success: z.literal(true), data: z.object({ participants: z.array(participantSchema) }) }),
  "ParticipantsEnvelope",
  UNCHANGED,
);

export const sessionsEnvelope = named(
  z.object({
    success: z.literal(true),
    data: z.object({ sessions: z.array(sessionSchema) }),
    paging: z.optional(z.object({ start_offset: z.number(), end_offset: z.number(), total_count: z.number() })),
  }),
  "SessionsEnvelope",
  UNCHANGED,
);

export const statusEnvelope = named(
  z.object({
    success: z.literal(true),
    data: z.object({
      budget: described(
        z.object({
          limit: count("UPSTREAM_BUDGET's requests"),
          window_seconds: count("UPSTREAM_BUDGET's window"),
          available: count("Permits left in the current window"),
          cold_available: count("Of those, permits cold misses may still take (they get half the window)"),
        }),
        "The whole deployment's upstream allowance",
      ),
      caller_budget: described(z.object({ limit: z.number(), window_seconds: z.number() }), "CALLER_MISS_BUDGET"),
      paused_until: described(z.nullable(z.string()), "While an upstream 429 pauses every upstream call: until when"),
      spend_per_route: described(z.record(z.string(), z.number()), "Permits taken in the current window, by route"),
      spend_per_key: described(
        z.record(z.string(), z.number()),
        "Upstream calls each API key caused in its CALLER_MISS_BUDGET window (sliding estimate), by key id",
      ),
      webhooks: described(
        z.object({
          configured: described(z.boolean(), "Whether REALTIMEKIT_WEBHOOK_PUBLIC_KEY is set"),
          pushed: described(
            z.boolean(),
            "Whether active sessions are pushed now: a change arrived within PUSHED_TTL_SECONDS",
          ),
          last_delivery_at: described(z.nullable(z.string()), "When the last delivery with a valid signature arrived"),
          last_change_at: described(z.nullable(z.string()), "When the last accepted change of a meeting arrived"),
          accepted: count("Deliveries that changed a meeting's answers"),
          duplicate: count("Deliveries already received (by rtk-uuid, or by the same body under a new one)"),
          ignored: count(
            "Valid deliveries of no use: other events, other apps, events older than what was already known",
          ),
          rejected: count("Deliveries without a valid signature, or over 1 MiB"),
        }),
        "RealtimeKit's webhooks, as the proxy received them",
      ),
      callers_over_share: described(
        z.array(
          z.object({
            caller: text("The caller's quota key: key:<id>, user:<id> or ip:<address or /64>"),
            refused: z.number(),
          }),
        ),
        "Callers refused for spending their share of the budget",
      ),
    }),
  }),
  "StatusEnvelope",
  "The budget gate's state, for operators",
);

export const joinEnvelope = named(
  z.object({
    success: z.literal(true),
    data: z.object({
      meeting_id: text("The meeting, its id canonical (a UUID in lower case)"),
      participant_id: text("The participant's id upstream"),
      preset_name: text("The preset it joins with"),
      token: text("The participant's auth token, for RealtimeKitClient.init({ authToken }): a secret"),
      created: described(
        z.boolean(),
        "Whether this join added the participant (false: it existed, its token refreshed)",
      ),
    }),
  }),
  "JoinEnvelope",
  "A participant token, never stored in any cache (Cache-Control: no-store)",
);

export const participantEnvelope = named(
  z.object({
    success: z.literal(true),
    data: z.object({
      id: z.string(),
      token: text("The participant's auth token: a secret"),
      custom_participant_id: z.string(),
      preset_name: z.string(),
      name: z.optional(z.nullable(z.string())),
      picture: z.optional(z.nullable(z.string())),
      created_at: z.string(),
      updated_at: z.string(),
    }),
  }),
  "ParticipantEnvelope",
  "The upstream's add participant answer, as the official SDK reads it",
);

export const tokenEnvelope = named(
  z.object({ success: z.literal(true), data: z.object({ token: text("A fresh auth token: a secret") }) }),
  "TokenEnvelope",
  "The upstream's refresh participant token answer",
);

export const webhookEnvelope = named(
  z.object({
    success: z.literal(true),
    data: z.object({
      outcome: described(
        z.enum(["accepted", "duplicate", "ignored"]),
        "accepted: its meeting's answers are renewed; duplicate and ignored: nothing was done",
      ),
      reason: z.optional(text("Why a delivery was ignored")),
    }),
  }),
  "WebhookEnvelope",
  "What became of a delivery",
);

const keySchema = named(
  z.object({
    id: text("`key_...` for a managed key; a config key's own id"),
    source: described(z.enum(["managed", "config"]), "managed (made here), or config (API_KEYS: read-only)"),
    name: z.string(),
    owner: z.string(),
    scopes: z.array(z.string()),
    start: text("The first characters of its secret, to tell keys apart (empty for a config key)"),
    created_at: z.string(),
    expires_at: z.nullable(z.string()),
    enabled: z.boolean(),
    rate_limit: z.nullable(z.number()),
    upstream_share: z.nullable(z.string()),
    meta: z.record(z.string(), z.unknown()),
    last_used_at: described(z.nullable(z.string()), "Coarse: updated at most once a minute"),
  }),
  "Key",
  "An API key, never its secret",
);

export const keyEnvelope = named(z.object({ success: z.literal(true), data: keySchema }), "KeyEnvelope");

export const createdKeyEnvelope = named(
  z.object({
    success: z.literal(true),
    data: z.object({
      ...keySchema.def.shape,
      secret: text("The key itself (`rkp_live_...`): shown this once, stored nowhere"),
    }),
  }),
  "CreatedKeyEnvelope",
  "A key with its secret, shown once (Cache-Control: no-store)",
);

export const keysEnvelope = named(
  z.object({
    success: z.literal(true),
    data: z.object({ keys: z.array(keySchema) }),
    paging: z.object({ page_no: z.number(), per_page: z.number(), total_count: z.number() }),
  }),
  "KeysEnvelope",
  "Managed keys newest first, then the config keys",
);

export const revokedKeyEnvelope = named(
  z.object({ success: z.literal(true), data: z.object({ id: z.string(), revoked: z.literal(true) }) }),
  "RevokedKeyEnvelope",
);

export const usageEnvelope = named(
  z.object({
    success: z.literal(true),
    data: z.object({
      window: z.enum(["1h", "24h", "7d"]),
      from: text("The window's start (rounded down to 5 minutes)"),
      to: z.string(),
      requests: count("Requests made with the key"),
      by_route: described(
        z.record(z.string(), z.object({ total: z.number(), by_status: z.record(z.string(), z.number()) })),
        "Requests by route name, and by status within it",
      ),
      cache_hits: count("Of those, answered from a cache tier"),
      upstream_calls: count("Upstream calls they caused"),
      last_used_at: z.nullable(z.string()),
    }),
  }),
  "UsageEnvelope",
  "A key's usage over a window",
);

const meetingSchema = named(
  z.object({
    id: text("The meeting's id (a UUID)"),
    title: z.optional(z.nullable(z.string())),
    status: z.optional(z.enum(["ACTIVE", "INACTIVE"])),
    created_at: z.string(),
    updated_at: z.string(),
    record_on_start: z.optional(z.nullable(z.boolean())),
    live_stream_on_start: z.optional(z.nullable(z.boolean())),
    persist_chat: z.optional(z.boolean()),
    summarize_on_end: z.optional(z.boolean()),
    transcribe_on_end: z.optional(z.boolean()),
    session_keep_alive_time_in_secs: z.optional(z.number()),
  }),
  "Meeting",
  "A meeting, without its recording and AI settings (they hold storage credentials and stream keys: never passed on)",
);

export const meetingEnvelope = named(
  z.object({ success: z.literal(true), data: meetingSchema }),
  "MeetingEnvelope",
  "The upstream's envelope, its recording and AI settings withheld",
);

export const meetingsEnvelope = named(
  z.object({
    success: z.literal(true),
    data: z.array(meetingSchema),
    paging: z.optional(z.object({ start_offset: z.number(), end_offset: z.number(), total_count: z.number() })),
  }),
  "MeetingsEnvelope",
  "The upstream's envelope, each meeting's recording and AI settings withheld",
);

export const kickEnvelope = named(
  z.object({
    success: z.literal(true),
    data: z.object({
      action: z.optional(z.string()),
      participants: z.optional(z.array(z.record(z.string(), z.unknown()))),
    }),
  }),
  "KickEnvelope",
  UNCHANGED,
);

export const kickAllEnvelope = named(
  z.object({
    success: z.literal(true),
    data: z.object({ action: z.optional(z.string()), kicked_participants_count: z.optional(z.number()) }),
  }),
  "KickAllEnvelope",
  UNCHANGED,
);

export const healthBody = named(z.object({ status: z.literal("ok"), version: z.string() }), "Health");

export const errorEnvelope = named(
  z.object({
    success: z.literal(false),
    error: z.object({
      code: count("The HTTP status"),
      type: described(
        z.enum(ERROR_KINDS),
        "What kind of failure it is, by name (the same for every status it comes with)",
      ),
      message: text("What went wrong, in words"),
      issues: z.optional(
        described(
          z.array(z.object({ path: text("The param's name"), message: z.string() })),
          "On a 400: every problem, one per param",
        ),
      ),
    }),
  }),
  "ErrorEnvelope",
);

export type ActiveSessionEnvelope = z.infer<typeof activeSessionEnvelope>;
export type SessionEnvelope = z.infer<typeof sessionEnvelope>;
export type ParticipantsEnvelope = z.infer<typeof participantsEnvelope>;
export type JoinEnvelope = z.infer<typeof joinEnvelope>;
export type StatusEnvelope = z.infer<typeof statusEnvelope>;
export type SessionsEnvelope = z.infer<typeof sessionsEnvelope>;
export type ErrorEnvelope = z.infer<typeof errorEnvelope>;
export type MeetingEnvelope = z.infer<typeof meetingEnvelope>;
export type MeetingsEnvelope = z.infer<typeof meetingsEnvelope>;

/** Every route's answer, by the name the route table and the OpenAPI document give it. */
export const ANSWERS = {
  ActiveSessionEnvelope: activeSessionEnvelope,
  SessionEnvelope: sessionEnvelope,
  ParticipantsEnvelope: participantsEnvelope,
  SessionsEnvelope: sessionsEnvelope,
  StatusEnvelope: statusEnvelope,
  JoinEnvelope: joinEnvelope,
  ParticipantEnvelope: participantEnvelope,
  TokenEnvelope: tokenEnvelope,
  WebhookEnvelope: webhookEnvelope,
  KeyEnvelope: keyEnvelope,
  CreatedKeyEnvelope: createdKeyEnvelope,
  KeysEnvelope: keysEnvelope,
  RevokedKeyEnvelope: revokedKeyEnvelope,
  UsageEnvelope: usageEnvelope,
  Health: healthBody,
  MeetingEnvelope: meetingEnvelope,
  MeetingsEnvelope: meetingsEnvelope,
  KickEnvelope: kickEnvelope,
  KickAllEnvelope: kickAllEnvelope,
} as const;

export type Answers = typeof ANSWERS;
export type AnswerName = keyof Answers;
