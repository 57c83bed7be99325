/**
 * @module Who may join what, and as whom: a signed-in user's preset comes from
 * JOIN_PRESETS and the user's own claim, never from the request; JOIN_MEETINGS_CLAIM may
 * limit the meetings a user may join; the participant's name and picture come from the
 * request or the claims. A backend with `participants:write` names the person and the
 * preset itself, within JOIN_PRESETS' presets.
 */
import type { JoinPresets } from "../config.ts";
import type { User } from "../context.ts";
import { ApiError } from "../errors.ts";
import { canonicalId } from "../ids.ts";
import { nameProblem } from "../names.ts";
import type { ParticipantFields } from "../upstream/participants.ts";

/** The preset a claim value not listed gets ("*" in JOIN_PRESETS). */
const ANY_VALUE = "*";
const MAX_PICTURE_LENGTH = 2048;

/**
 * Signed-in users' participants have custom ids of their own form: this prefix and the
 * user's id. A backend's key may not use it, so it can never join as (or refresh the
 * token of) a user's participant.
 */
export const USER_PARTICIPANT_PREFIX = "rkp-user-";

/** A signed-in user's participant's `custom_participant_id`: namespaced, so no backend's id can be it. */
export function userParticipantId(userId: string): string {
  return `${USER_PARTICIPANT_PREFIX}${userId}`;
}

/** Whether a custom id is in signed-in users' namespace (whatever its case). */
export function isUsersParticipant(customId: string): boolean {
  return customId.toLowerCase().startsWith(USER_PARTICIPANT_PREFIX);
}

export interface JoinRules {
  presets: JoinPresets;
  /** A claim listing the meeting ids a user may join; none: any meeting of the app. */
  meetingsClaim: string | undefined;
}

/**
 * A claim by its name; a dotted name that is not a claim of its own is read as a path
 * (`realm_access.roles`), since some providers nest roles. Namespaced names such as
 * `https://app.example.com/roles` are claims of their own and found first.
 */
export function claimOf(claims: Readonly<Record<string, unknown>>, name: string): unknown {
  if (Object.hasOwn(claims, name)) return claims[name];
  return name.split(".").reduce<unknown>((value, part) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
    return Object.hasOwn(value, part) ? Reflect.get(value, part) : undefined;
  }, claims);
}

/** A claim's values: a string (split on spaces or commas, as providers write scope-like lists) or an array of strings. */
function valuesOf(claim: unknown): string[] {
  if (typeof claim === "string") return claim.split(/[\s,]+/).filter(Boolean);
  if (Array.isArray(claim)) return claim.filter((value): value is string => typeof value === "string");
  return [];
}

function presetFor(user: User, presets: JoinPresets): string {
  for (const value of valuesOf(claimOf(user.claims, presets.claim))) {
    const preset = Object.hasOwn(presets.presets, value) ? presets.presets[value] : undefined;
    if (preset) return preset;
  }
  const fallback = presets.presets[ANY_VALUE];
  if (fallback) return fallback;
  throw new ApiError(
    "forbidden",
    'no preset for this user: JOIN_PRESETS has no entry for the user\'s claim, and no "*"',
  );
}

/** A display name from a claim, if it is one a participant may carry. */
function usableName(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const name = value.trim();
  return nameProblem(name) === undefined ? name : undefined;
}

/** A picture is passed on only as an https URL: anything else could point a participant's browser anywhere. */
function usablePicture(value: unknown): string | undefined {
  if (typeof value !== "string" || value.length > MAX_PICTURE_LENGTH || !URL.canParse(value)) return undefined;
  return new URL(value).protocol === "https:" ? value : undefined;
}

/** What a signed-in user joins the meeting as; 403 when the rules do not let them. */
export function userParticipant(
  user: User,
  meetingId: string,
  requested: { name?: string },
  rules: JoinRules,
): ParticipantFields {
  if (rules.meetingsClaim !== undefined) {
    const allowed = valuesOf(claimOf(user.claims, rules.meetingsClaim)).map(canonicalId);
    if (!allowed.includes(meetingId)) {
      throw new ApiError(
        "forbidden",
        `this user may not join meeting ${meetingId} (${rules.meetingsClaim} does not list it)`,
      );
    }
  }
  const name = requested.name ?? usableName(user.claims.name) ?? usableName(user.claims.preferred_username);
  const picture = usablePicture(user.claims.picture);
  return {
    custom_participant_id: userParticipantId(user.id),
    preset_name: presetFor(user, rules.presets),
    ...(name === undefined ? {} : { name }),
    ...(picture === undefined ? {} : { picture }),
  };
}

/** The presets a backend may ask for: those JOIN_PRESETS gives users. */
export function allowedPresets(presets: JoinPresets): string[] {
  return [...new Set(Object.values(presets.presets))];
}

/** What a backend joins someone as, when its preset is one JOIN_PRESETS gives and its id is not a user's (else 403). */
export function backendParticipant(requested: ParticipantFields, presets: JoinPresets): ParticipantFields {
  if (isUsersParticipant(requested.custom_participant_id)) {
    throw new ApiError(
      "forbidden",
      `custom_participant_id ${USER_PARTICIPANT_PREFIX}... is reserved for signed-in users' participants: use ids of your own`,
    );
  }
  if (!allowedPresets(presets).includes(requested.preset_name)) {
    throw new ApiError("forbidden", `preset ${requested.preset_name} is not one JOIN_PRESETS allows`);
  }
  return requested;
}
