/**
 * @module The JSON bodies routes take, as zod schemas: they validate requests (a join's, a
 * key's), type the client and describe the requests in the OpenAPI document.
 */
import * as z from "zod/mini";
import { MAX_NAME_LENGTH, nameProblem } from "../names.ts";
import { KEY_RATE_TIERS } from "../rate-tiers.ts";
import { described, named } from "./params.ts";

/** A participant's display name: 1..100 characters, none of them control or format characters, not only whitespace. */
const participantName = described(
  z
    .string()
    .check(
      z.minLength(1, "must not be empty"),
      z.maxLength(MAX_NAME_LENGTH, `must be at most ${MAX_NAME_LENGTH} characters`),
      (ctx) => {
        const problem =
          ctx.value.length > 0 && ctx.value.length <= MAX_NAME_LENGTH ? nameProblem(ctx.value) : undefined;
        if (problem) ctx.issues.push({ code: "custom", input: ctx.value, message: problem });
      },
    ),
  "The participant's display name: no control or format characters (bidi overrides, zero-width), not only whitespace",
);

export const userJoinBody = named(
  z.strictObject({ name: z.optional(participantName) }),
  "UserJoinRequest",
  "A signed-in user's join: optionally the name to show (else the token's name or preferred_username claim). The preset comes from JOIN_PRESETS and the user's claim, never from the request.",
);

export const keyJoinBody = named(
  z.strictObject({
    custom_participant_id: described(
      z.string().check(
        z.minLength(1, "must not be empty"),
        z.maxLength(128, "must be at most 128 characters"),
        z.refine((value) => !/[\p{Cc}\s]/u.test(value), "must not contain spaces or control characters"),
      ),
      "Your own stable id for the person (not personal data): one participant per id and meeting",
    ),
    preset_name: described(
      z.string().check(z.minLength(1, "must not be empty"), z.maxLength(64, "must be at most 64 characters")),
      "One of JOIN_PRESETS' presets",
    ),
    name: z.optional(participantName),
    picture: z.optional(
      described(
        z.string().check(
          z.maxLength(2048, "must be at most 2048 characters"),
          // A pattern rather than URL parsing: these schemas also type the client, where no URL global is assumed.
          z.regex(/^https:\/\/[^\s/?#]+[^\s]*$/, "must be an https URL"),
        ),
        "An https URL of the participant's picture",
      ),
    ),
  }),
  "KeyJoinRequest",
  "A backend's join on behalf of anyone (a key with participants:write)",
);

/** Free text an admin gives a key (its name, its owner): 1..max characters, no control characters. */
const label = (max: number, description: string) =>
  described(
    z.string().check(
      z.minLength(1, "must not be empty"),
      z.maxLength(max, `must be at most ${max} characters`),
      z.refine((value) => !CONTROL.test(value), "must not contain control characters"),
    ),
    description,
  );

const CONTROL = /\p{Cc}/u;
const MAX_META_BYTES = 2048;

/** A text's length in UTF-8 (these schemas also type the client, where no TextEncoder is assumed). */
function utf8Bytes(text: string): number {
  let bytes = 0;
  for (const character of text) {
    const point = character.codePointAt(0) ?? 0;
    bytes += point < 0x80 ? 1 : point < 0x800 ? 2 : point < 0x10000 ? 3 : 4;
  }
  return bytes;
}

const keyFields = (scopes: readonly [string, ...string[]]) => ({
  name: label(100, "What the key is for, for people"),
  owner: label(100, "The team or service that holds it"),
  scopes: described(
    z.array(z.enum(scopes, { error: `must be among ${scopes.join(", ")}` })).check(z.minLength(1, "must not be empty")),
    "The routes it opens: scopes of the route table",
  ),
  expires_at: z.optional(
    described(
      z.nullable(z.iso.datetime({ offset: true, error: "must be an ISO 8601 date-time with Z or an offset" })),
      "When it stops working (null: never); must be in the future",
    ),
  ),
  rate_limit: z.optional(
    described(
      z.nullable(z.literal(KEY_RATE_TIERS, { error: `must be one of ${KEY_RATE_TIERS.join(", ")}, or null` })),
      `Its own rate limit, requests a minute: one of ${KEY_RATE_TIERS.join(", ")} (null: the deployment's, 600)`,
    ),
  ),
  upstream_share: z.optional(
    described(
      z.nullable(
        z.string().check(
          z.refine((value) => {
            const match = /^([0-9]+)\/([0-9]+)$/.exec(value);
            return (
              match !== null &&
              Number(match[1]) >= 1 &&
              Number(match[1]) <= 1_000_000 &&
              Number(match[2]) >= 1 &&
              Number(match[2]) <= 3600
            );
          }, "must be <requests>/<seconds>: requests 1 to 1000000, seconds 1 to 3600"),
        ),
      ),
      "Its own share of the upstream budget, `<requests>/<seconds>`, in place of CALLER_MISS_BUDGET (null: that)",
    ),
  ),
  meta: z.optional(
    described(
      z
        .record(z.string(), z.unknown())
        .check(
          z.refine((value) => utf8Bytes(JSON.stringify(value)) <= MAX_META_BYTES, "must be at most 2 KiB as JSON"),
        ),
      "Anything of yours about the key (a JSON object, at most 2 KiB)",
    ),
  ),
  enabled: z.optional(described(z.boolean(), "Whether it works now (default true): turn a key off for a while")),
});

let createKeyBodyOnce: ReturnType<typeof buildCreateKeyBody> | undefined;
let updateKeyBodyOnce: ReturnType<typeof buildUpdateKeyBody> | undefined;

function buildCreateKeyBody(scopes: readonly [string, ...string[]]) {
  const { name, owner, scopes: scopeList, ...optional } = keyFields(scopes);
  return named(
    z.strictObject({ name, owner, scopes: scopeList, ...optional }),
    "CreateKeyRequest",
    "A new managed key: who it is for, what it opens, and (optionally) its expiry, limits, meta and state",
  );
}

function buildUpdateKeyBody(scopes: readonly [string, ...string[]]) {
  const { name, owner, scopes: scopeList, ...optional } = keyFields(scopes);
  return named(
    z
      .strictObject({ name: z.optional(name), owner: z.optional(owner), scopes: z.optional(scopeList), ...optional })
      .check(z.refine((body) => Object.keys(body).length > 0, "must change at least one field")),
    "UpdateKeyRequest",
    "What to change of a managed key (any of its fields); config keys change with a deploy",
  );
}

/** The create body; the route table's scopes are handed in (the table is built from these very schemas). */
export function createKeyBody(scopes: readonly [string, ...string[]]) {
  createKeyBodyOnce ??= buildCreateKeyBody(scopes);
  return createKeyBodyOnce;
}

export function updateKeyBody(scopes: readonly [string, ...string[]]) {
  updateKeyBodyOnce ??= buildUpdateKeyBody(scopes);
  return updateKeyBodyOnce;
}

export const rollKeyBody = named(
  z.strictObject({
    grace_seconds: z.optional(
      described(
        z
          .number()
          .check(
            z.refine(
              (value) => Number.isInteger(value) && value >= 0 && value <= 86_400,
              "must be a whole number from 0 to 86400",
            ),
          ),
        "How long the old secret keeps working (default 0: it stops at once)",
      ),
    ),
  }),
  "RollKeyRequest",
  "A new secret for the key; the old one works for grace_seconds more",
);

const meetingTitle = described(
  z.string().check(
    z.minLength(1, "must not be empty"),
    z.maxLength(200, "must be at most 200 characters"),
    z.refine((value) => !CONTROL.test(value), "must not contain control characters"),
  ),
  "The meeting's title",
);
const flag = (description: string) => z.optional(described(z.boolean(), description));
const keepAlive = z.optional(
  described(
    z
      .number()
      .check(
        z.refine(
          (value) => Number.isInteger(value) && value >= 60 && value <= 600,
          "must be a whole number from 60 to 600",
        ),
      ),
    "Seconds a session stays alive with nobody in it (60..600)",
  ),
);

/** What a team may set of a meeting; recording and AI settings stay with whoever holds the Cloudflare token. */
const meetingSettings = {
  record_on_start: flag("Start recording when the session starts"),
  live_stream_on_start: flag("Start live streaming when the session starts"),
  persist_chat: flag("Keep the chat after the session"),
  summarize_on_end: flag("Summarize the session when it ends"),
  transcribe_on_end: flag("Transcribe the session when it ends"),
  session_keep_alive_time_in_secs: keepAlive,
};

export const createMeetingBody = named(
  z.strictObject({ title: z.optional(meetingTitle), ...meetingSettings }),
  "CreateMeetingRequest",
  "A new meeting: its title and session settings (ai_config, recording_config and any other field: 400)",
);

export const updateMeetingBody = named(
  z
    .strictObject({
      title: z.optional(meetingTitle),
      ...meetingSettings,
      status: z.optional(
        described(
          z.enum(["ACTIVE", "INACTIVE"], { error: "must be one of ACTIVE, INACTIVE" }),
          "INACTIVE: nobody can join it any more",
        ),
      ),
    })
    .check(z.refine((body) => Object.keys(body).length > 0, "must change at least one field")),
  "UpdateMeetingRequest",
  "What to change of a meeting: title, session settings, status (ai_config, recording_config and any other field: 400)",
);

const kickIds = (description: string) =>
  z.optional(
    described(
      z
        .array(
          z.string().check(
            z.minLength(1, "must not be empty"),
            z.maxLength(128, "must be at most 128 characters"),
            z.refine((value) => !/[\p{Cc}\s]/u.test(value), "must not contain spaces or control characters"),
          ),
        )
        .check(z.minLength(1, "must list at least one id"), z.maxLength(100, "must list at most 100 ids")),
      description,
    ),
  );

export const kickBody = named(
  z
    .strictObject({
      participant_ids: kickIds("Participants' ids upstream"),
      custom_participant_ids: kickIds("Participants' custom ids (a signed-in user's: rkp-user-...)"),
    })
    .check(
      z.refine(
        (body) => body.participant_ids !== undefined || body.custom_participant_ids !== undefined,
        "must list participant_ids, custom_participant_ids, or both",
      ),
    ),
  "KickRequest",
  "Who to remove from the meeting's live session",
);
