/**
 * @module The error vocabulary: every way a request can fail, its HTTP status, the one
 * error class and the envelope every error is sent in. Rendering lives with the routes.
 */
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** Every way a request can fail, as the proxy names it. */
export type ErrorKind =
  | "bad_request"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "method_not_allowed"
  | "unsupported_media_type"
  | "payload_too_large"
  | "rate_limited"
  | "upstream_client_error"
  | "upstream_credentials"
  | "upstream_paused"
  | "upstream_budget"
  | "caller_budget"
  | "upstream_unavailable"
  | "upstream_timeout"
  | "upstream_slow"
  | "gate_unavailable"
  | "inbox_unavailable"
  | "sign_in_unavailable"
  | "join_preset_unknown"
  | "misconfigured"
  | "internal";

const statusOfKind = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  unsupported_media_type: 415,
  payload_too_large: 413,
  rate_limited: 429,
  // The upstream's own 4xx status is passed through; 400 is only the fallback.
  upstream_client_error: 400,
  upstream_credentials: 502,
  upstream_paused: 503,
  upstream_budget: 503,
  caller_budget: 429,
  upstream_unavailable: 502,
  upstream_timeout: 504,
  // The upstream is still working on it; a stored answer is served instead when one may be.
  upstream_slow: 504,
  gate_unavailable: 503,
  // The webhook inbox is down: the delivery is not acknowledged, so RealtimeKit retries it.
  inbox_unavailable: 503,
  // The identity provider's keys cannot be fetched: a user token is never let through unverified.
  sign_in_unavailable: 503,
  // A preset JOIN_PRESETS names does not exist upstream: the deployment's configuration is wrong.
  join_preset_unknown: 502,
  misconfigured: 500,
  internal: 500,
} as const satisfies Record<ErrorKind, ContentfulStatusCode>;

export interface ValidationIssue {
  path: string;
  message: string;
}

/** The body of every error: `{"success": false, "error": {"code", "message", "issues"?}}`. */
export interface ErrorEnvelope {
  success: false;
  error: { code: number; message: string; issues?: ValidationIssue[] };
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

/** An ApiError as plain data, for crossing a Durable Object's RPC boundary. */
export interface Failure {
  kind: ErrorKind;
  message: string;
  status: number;
  retryAfter?: number;
}

export function toFailure(error: unknown): Failure {
  const apiError = error instanceof ApiError ? error : new ApiError("internal", "internal error");
  return { kind: apiError.kind, message: apiError.message, status: apiError.status, retryAfter: apiError.retryAfter };
}

export function fromFailure(failure: Failure, headers: Record<string, string> = {}): ApiError {
  return new ApiError(failure.kind, failure.message, {
    status: failure.status as ContentfulStatusCode,
    retryAfter: failure.retryAfter,
    headers,
  });
}
