/** @module The param schemas routes share: ids, times, digits, enums, free text, one value per param. */
import * as z from "zod/mini";
import { canonicalId, MEETING_ID, UUID } from "../ids.ts";

const CONTROL_CHARACTER = /\p{Cc}/u;

/** A schema the OpenAPI document names (a component), with its description (kept in zod's global registry). */
export function named<T extends z.ZodMiniType>(schema: T, id: string, description?: string): T {
  z.globalRegistry.add(schema, { id, ...(description ? { description } : {}) });
  return schema;
}

/** The schema with a description for the OpenAPI document (kept in zod's global registry). */
export function described<T extends z.ZodMiniType>(schema: T, description: string): T {
  return schema.check(z.describe(description));
}

/**
 * One query or path value. Hono hands a repeated query param over as an array,
 * and a param given without a value (`?status` or `?status=`) as "".
 */
export function singleValue<Out>(schema: z.ZodMiniType<Out, string>) {
  return z.pipe(
    z
      .string({
        error: (issue) => (Array.isArray(issue.input) ? "is given more than once; give it once" : "must be text"),
      })
      .check(z.minLength(1, "must not be empty")),
    schema,
  );
}

/** A meeting id: a UUID (any version, any case) or a V1 room name. Nothing else reaches the upstream path. */
export const meetingId = z.pipe(
  z
    .string()
    .check(
      z.regex(MEETING_ID, "must be a UUID or a V1 room name (six lowercase letters, a hyphen, six lowercase letters)"),
    ),
  z.transform(canonicalId),
);

/** A UUID, any version, any case (z.uuid() would refuse versions it does not know); lower case once valid. */
export const uuid = z.pipe(z.string().check(z.regex(UUID, "must be a UUID")), z.transform(canonicalId));

/** An ISO 8601 date-time with `Z` or an offset, as a Date (forwarded in UTC). */
export const dateTime = z.pipe(
  z.iso.datetime({
    offset: true,
    error: "must be an ISO 8601 date-time with Z or an offset, e.g. 2026-01-31T09:00:00Z",
  }),
  z.transform((value: string) => new Date(value)),
);

/** Digits only: no sign, exponent, hex, decimal point or spaces. */
export function digits(min: number, max: number) {
  return z.pipe(
    z.pipe(z.string().check(z.regex(/^[0-9]+$/, "must be digits only")), z.transform(Number)),
    z.number().check(z.refine((value) => value >= min && value <= max, `must be from ${min} to ${max}`)),
  );
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `must be one of ${values.join(", ")}` });
}

/** 1..max characters of free text, without control characters. */
export function freeText(max: number) {
  return z.string().check(
    z.maxLength(max, `must be at most ${max} characters`),
    z.refine((value) => !CONTROL_CHARACTER.test(value), "must not contain control characters"),
  );
}
