/**
 * @module The app's onError: every thrown value rendered as the one error envelope. An
 * HTTPException keeps its status; anything else becomes a fixed generic 500, its stack
 * logged. Text a caller sent (a param name) is echoed in messages, so everything goes
 * through the secrets' redaction: no secret leaves, whatever the input.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { ApiError, type ErrorEnvelope, errorSpec, NO_RETRY_HEADER } from "../errors.ts";
import { logger } from "../log.ts";
import { credentialOf, type Secrets } from "../secrets.ts";

export function renderError(secrets: Secrets) {
  return function renderError(err: unknown, c: Context): Response {
    const requestSecrets = secrets.with(credentialOf(c.req.header("Authorization")));
    const apiError = toApiError(err);
    if (!(err instanceof ApiError)) {
      logger.write("error", {
        event: "unhandled_error",
        name: err instanceof Error ? err.name : typeof err,
        status: apiError.status,
        stack: requestSecrets.redact(err instanceof Error ? (err.stack ?? err.message) : String(err)),
      });
    }
    c.set("errorKind", apiError.kind);
    // Names what is wrong, never a value: the operator's error line carries it.
    if (apiError.kind === "misconfigured") c.set("problem", apiError.message);
    const body: ErrorEnvelope = {
      success: false,
      error: { code: apiError.status, type: apiError.kind, message: requestSecrets.redact(apiError.message) },
    };
    if (apiError.issues) {
      body.error.issues = apiError.issues.map((issue) => ({
        path: requestSecrets.redact(issue.path),
        message: requestSecrets.redact(issue.message),
      }));
    }
    for (const [name, value] of Object.entries(apiError.headers)) c.header(name, value);
    // The official SDK retries 5xx, 408, 409 and 429 unless told not to: the same request
    // cannot succeed later when the table says so.
    if (!errorSpec(apiError.kind).retryable && !(NO_RETRY_HEADER in apiError.headers)) {
      c.header(NO_RETRY_HEADER, "false");
    }
    if (apiError.retryAfter !== undefined) c.header("Retry-After", String(apiError.retryAfter));
    c.header("Cache-Control", "no-store");
    return c.json(body, apiError.status);
  };
}

/** Hono's own HTTPExceptions (e.g. from its middleware) keep their status, with a fixed message. */
function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof HTTPException && err.status >= 400 && err.status < 500) {
    return new ApiError("bad_request", `request refused (${err.status})`, { status: err.status });
  }
  return new ApiError("internal", "internal error");
}
