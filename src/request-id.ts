/** @module X-Request-Id on every response: the caller's when well formed, else a new one. */
import type { Context, MiddlewareHandler } from "hono";
import { requestId } from "hono/request-id";
import { API_KEY_PREFIX } from "./access/keys.ts";
import { callerCredentials } from "./errors.ts";

const REQUEST_ID_HEADER = "X-Request-Id";
// Stricter than hono/request-id's own check, which also lets "=" through.
const CALLER_REQUEST_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * A caller's id is echoed back and logged, so one that carries the token, the caller's
 * credential or anything shaped like an API key is replaced like a malformed one.
 */
export function requestIdentity(secrets: readonly string[]): MiddlewareHandler {
  function callerOrNewRequestId(c: Context): string {
    const callerId = c.req.header(REQUEST_ID_HEADER);
    const usable =
      callerId !== undefined &&
      CALLER_REQUEST_ID.test(callerId) &&
      !callerId.startsWith(API_KEY_PREFIX) &&
      ![...secrets, ...callerCredentials(c)].some((secret) => callerId.includes(secret));
    return usable ? callerId : crypto.randomUUID();
  }
  // headerName "" makes hono/request-id leave the header to our generator.
  const assignRequestId = requestId({ headerName: "", generator: callerOrNewRequestId });
  return async function requestIdentity(c, next) {
    await assignRequestId(c, async () => {
      c.header(REQUEST_ID_HEADER, c.get("requestId"));
      await next();
    });
  };
}
