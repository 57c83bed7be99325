/** @module The param schemas routes share: ids, times, digits, enums, free text, one value per param. */
import * as z from "zod";
import { canonicalId, MEETING_ID, UUID } from "../ids.ts";

const CONTROL_CHARACTER = /\p{Cc}/u;

/**
 * One query or path value. Hono hands a repeated query param over as an array,
 * and a param given without a value (`?status` or `?status=`) as "".
 */
export function singleValue<Out>(schema: z.ZodType<Out, string>) {
  return z
    .string({
      error: (issue) => (Array.isArray(issue.input) ? "is given more than once; give it once" : "must be text"),
    })
    .min(1, "must not be empty")
    .pipe(schema);
}

/** A meeting id: a UUID (any version, any case) or a V1 room name. Nothing else reaches the upstream path. */
export const meetingId = z
  .string()
  .regex(MEETING_ID, "must be a UUID or a V1 room name (six lowercase letters, a hyphen, six lowercase letters)")
  .transform(canonicalId);

/** A UUID, any version, any case (z.uuid() would refuse versions it does not know); lower case once valid. */
export const uuid = z.string().regex(UUID, "must be a UUID").transform(canonicalId);

/** An ISO 8601 date-time with `Z` or an offset, as a Date (forwarded in UTC). */
export const dateTime = z.iso
  .datetime({
    offset: true,
    error: "must be an ISO 8601 date-time with Z or an offset, e.g. 2026-01-31T09:00:00Z",
  })
  .transform((value) => new Date(value));

/** Digits only: no sign, exponent, hex, decimal point or spaces. */
export function digits(min: number, max: number) {
  return z
    .string()
    .regex(/^[0-9]+$/, "must be digits only")
    .transform(Number)
    .refine((value) => value >= min && value <= max, `must be from ${min} to ${max}`);
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `must be one of ${values.join(", ")}` });
}

/** 1..max characters of free text, without control characters. */
export function freeText(max: number) {
  return z
    .string()
    .max(max, `must be at most ${max} characters`)
    .refine((value) => !CONTROL_CHARACTER.test(value), "must not contain control characters");
}
