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
  return validated(schema, await readParsed(c));
}

/** The body as JSON, as the caller sent it (an empty body: `{}`), not yet checked. */
async function readParsed(c: Context): Promise<unknown> {
  const text = await readBoundedText(c.req.raw, MAX_JSON_BODY_BYTES);
  if (text === undefined) throw badBody(`must be at most ${MAX_JSON_BODY_BYTES} bytes`);
  if (text.trim() === "") return {};
  const type = c.req.header("Content-Type")?.split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") {
    throw new ApiError("unsupported_media_type", "the body must be JSON, sent as Content-Type: application/json");
  }
  try {
    return JSON.parse(text);
  } catch {
    throw badBody("must be JSON");
  }
}

/** The body checked against the route's schema; a route without one takes none (an empty body, or `{}`). */
function validated<S extends z.ZodMiniType>(
  schema: S | undefined,
  value: unknown,
): z.output<S> | Record<string, never> {
  const result = (schema ?? NO_BODY).safeParse(value);
  if (result.success) return result.data as z.output<S> | Record<string, never>;
  const issues = toValidationIssues(result.error, "body");
  throw new ApiError("bad_request", describe(issues), { issues });
}

/**
 * The route's JSON body, read and checked before its handler, which finds it checked as
 * `c.get("body")` and, to forward exactly what was sent, as sent in `c.get("sentBody")`.
 */
export function jsonBody(schema: z.ZodMiniType | undefined): MiddlewareHandler<AppEnv> {
  return async function jsonBody(c, next) {
    const sent = await readParsed(c);
    c.set("body", validated(schema, sent));
    c.set("sentBody", sent);
    await next();
  };
}
