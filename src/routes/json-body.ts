/**
 * @module A request's JSON body, read the one way every route reads it: at most 4 KiB
 * (what passes it is never read further), `Content-Type: application/json` only, checked
 * against the route's schema with every problem listed, like params. An empty body is
 * `{}`; a route without a schema takes none.
 */
import type { Context, MiddlewareHandler } from "hono";
import * as z from "zod/mini";
import { readBoundedText } from "../bounded.ts";
import type { AppEnv } from "../context.ts";
import { ApiError } from "../errors.ts";
import { describe, toValidationIssues } from "./validator.ts";

/** A route's body is a few fields: anything larger is not one of them. */
export const MAX_JSON_BODY_BYTES = 4096;
const NO_BODY = z.strictObject({});

function badBody(message: string, path = "body"): ApiError {
  return new ApiError("bad_request", `invalid request: ${path} ${message}`, { issues: [{ path, message }] });
}

/** The request's JSON body, checked against `schema`; no schema: the route takes no body (an empty one, or `{}`). */
export async function readJson<S extends z.ZodMiniType>(c: Context, schema: S): Promise<z.output<S>>;
export async function readJson<S extends z.ZodMiniType>(
  c: Context,
  schema: S | undefined,
): Promise<z.output<S> | Record<string, never>>;
export async function readJson<S extends z.ZodMiniType>(
  c: Context,
  schema: S | undefined,
): Promise<z.output<S> | Record<string, never>> {
  const text = await readBoundedText(c.req.raw, MAX_JSON_BODY_BYTES);
  if (text === undefined) throw badBody(`must be at most ${MAX_JSON_BODY_BYTES} bytes`);
  if (text.trim() === "") return validated(schema, {});
  const type = c.req.header("Content-Type")?.split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") {
    throw new ApiError("unsupported_media_type", "the body must be JSON, sent as Content-Type: application/json");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badBody("must be JSON");
  }
  return validated(schema, parsed);
}

/** The body checked against the route's schema; a route without one takes none (an empty body, or `{}`). */
function validated<S extends z.ZodMiniType>(
  schema: S | undefined,
  value: unknown,
): z.output<S> | Record<string, never> {
  const result = (schema ?? NO_BODY).safeParse(value);
  if (result.success) return result.data as z.output<S> | Record<string, never>;
  const issues = toValidationIssues(result.error);
  throw new ApiError("bad_request", describe(issues), { issues });
}

/** The route's JSON body, read and checked before its handler (which finds it as `c.get("body")`). */
export function jsonBody(schema: z.ZodMiniType | undefined): MiddlewareHandler<AppEnv> {
  return async function jsonBody(c, next) {
    c.set("body", await readJson(c, schema));
    await next();
  };
}
