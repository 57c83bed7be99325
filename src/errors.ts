/** @module One error class, one envelope, one mapping from error kind to HTTP status. */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { logger } from "./observability/log.ts";
import type { ErrorEnvelope } from "./routes/bodies.ts";
import { credentialOf, type Secrets } from "./secrets.ts";

/** Every way a request can fail, as the proxy names it. */
export type ErrorKind =
  | "bad_request"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "method_not_allowed"
  | "rate_limited"
  | "upstream_client_error"
  | "upstream_credentials"
  | "upstream_paused"
  | "upstream_budget"
  | "caller_budget"
  | "upstream_unavailable"
  | "upstream_timeout"
  | "gate_unavailable"
  | "misconfigured"
  | "internal";

const statusOfKind = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  rate_limited: 429,
  // The upstream's own 4xx status is passed through; 400 is only the fallback.
  upstream_client_error: 400,
  upstream_credentials: 502,
  upstream_paused: 503,
  upstream_budget: 503,
  caller_budget: 429,
  upstream_unavailable: 502,
  upstream_timeout: 504,
  gate_unavailable: 503,
  misconfigured: 500,
  internal: 500,
} as const satisfies Record<ErrorKind, ContentfulStatusCode>;

/**
 * What a stored answer within the stale-if-error window may cover, and the
 * `Cache-Status` detail it is then served with.
 */
export const STALE_COVER: Partial<Record<ErrorKind, "stale-if-error" | "budget" | "paused">> = {
  upstream_unavailable: "stale-if-error",
  upstream_timeout: "stale-if-error",
  upstream_budget: "budget",
  caller_budget: "budget",
  upstream_paused: "paused",
};

export interface ValidationIssue {
  path: string;
  message: string;
}

export interface ApiErrorOptions {
  /** Overrides the kind's status: the upstream's own 4xx, or a 4xx HTTPException's. */
  status?: ContentfulStatusCode;
  issues?: ValidationIssue[];
  /** Seconds, sent as `Retry-After`. */
  retryAfter?: number;
  /** Extra response headers, e.g. `Allow` or `WWW-Authenticate`. */
  headers?: Record<string, string>;
}

export class ApiError extends HTTPException {
  readonly kind: ErrorKind;
  readonly issues: ValidationIssue[] | undefined;
  readonly retryAfter: number | undefined;
  readonly headers: Record<string, string>;

  constructor(kind: ErrorKind, message: string, options: ApiErrorOptions = {}) {
    super(options.status ?? statusOfKind[kind], { message });
    this.kind = kind;
    this.issues = options.issues;
    this.retryAfter = options.retryAfter;
    this.headers = options.headers ?? {};
  }
}

/**
 * The app's onError: renders any thrown value as the envelope. An HTTPException keeps
 * its status; anything else becomes a fixed generic 500, its stack logged. Text a
 * caller sent (a param name) is echoed in messages, so everything goes through the
 * secrets' redaction: the token never leaves, whatever the input.
 */
export function errorHandler(secrets: Secrets) {
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
      error: { code: apiError.status, message: requestSecrets.redact(apiError.message) },
    };
    if (apiError.issues) {
      body.error.issues = apiError.issues.map((issue) => ({
        path: requestSecrets.redact(issue.path),
        message: requestSecrets.redact(issue.message),
      }));
    }
    for (const [name, value] of Object.entries(apiError.headers)) c.header(name, value);
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
