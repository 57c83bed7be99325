/** @module X-Request-Id on every response: the caller's when well formed, else a new one. */
import type { MiddlewareHandler } from "hono";
import { requestId } from "hono/request-id";
import { API_KEY_PREFIX } from "../access/quota.ts";
import { credentialOf, type Secrets } from "../secrets.ts";

const REQUEST_ID_HEADER = "X-Request-Id";
// Stricter than hono/request-id's own check, which also lets "=" through.
const CALLER_REQUEST_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * A caller's id is echoed back and logged, so one that carries a secret (the token, the
 * caller's own credential) or is itself an API key, prefixed or not, is replaced like a
 * malformed one.
 */
export function requestIdentity(secrets: Secrets): MiddlewareHandler {
  return async function requestIdentity(c, next) {
    const callerId = c.req.header(REQUEST_ID_HEADER);
    const usable =
      callerId !== undefined &&
      CALLER_REQUEST_ID.test(callerId) &&
      !callerId.startsWith(API_KEY_PREFIX) &&
      !(await secrets.with(credentialOf(c.req.header("Authorization"))).exposes(callerId));
    // headerName "" makes hono/request-id leave the header to our generator.
    const assignRequestId = requestId({ headerName: "", generator: () => (usable ? callerId : crypto.randomUUID()) });
    await assignRequestId(c, async () => {
      c.header(REQUEST_ID_HEADER, c.get("requestId"));
      await next();
    });
  };
}
