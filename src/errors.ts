/**
 * @module The error vocabulary: every way a request can fail, in one table (its HTTP
 * status, when it happens, what an operator should do, whether a stored answer may cover
 * it, whether retrying can help), the one error class and the envelope every error is
 * sent in. Rendering lives with the routes.
 */
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** What a stored answer within its stale-if-error window is served with when it covers a failure (`Cache-Status` detail). */
export type StaleCover = "stale-if-error" | "budget" | "paused";

/** One row of the error table. */
export interface ErrorSpec {
  status: ContentfulStatusCode;
  /** When the proxy answers it, in words (the OpenAPI document's responses are built from these). */
  when: string;
  /** What an operator should do about it: a request that ends so also writes an error line with this hint. */
  hint?: string;
  /** A stored answer within its stale-if-error window is served instead, with this detail. */
  staleCover?: StaleCover;
  /** The same request may succeed later, unchanged (after `Retry-After` when one is sent). */
  retryable: boolean;
  /** The upstream may have acted on the request although no answer came back: a write is never repeated blindly. */
  outcomeUnknown?: true;
}

const ERRORS = {
  bad_request: {
    status: 400,
    when: "Invalid path or query params, or body: `issues` lists every problem",
    retryable: false,
  },
  unauthorized: {
    status: 401,
    when: 'No credential where the route needs one, an unknown or revoked key, an invalid user token (`WWW-Authenticate: Bearer`, with `error="invalid_token"` naming what failed), or a webhook without a valid signature',
    retryable: false,
  },
  forbidden: {
    status: 403,
    when: "The API key lacks the route's scope; or the user may not join that meeting, or has no preset",
    retryable: false,
  },
  not_found: { status: 404, when: "No such route, or the upstream found nothing (its message kept)", retryable: false },
  method_not_allowed: { status: 405, when: "The path answers other methods (`Allow` lists them)", retryable: false },
  conflict: {
    status: 409,
    when: "The request conflicts with what is: a config key cannot change at run time (it changes with a deploy); an Idempotency-Key was used with another body",
    retryable: false,
  },
  payload_too_large: { status: 413, when: "The body is over its cap (a webhook's: 1 MiB)", retryable: false },
  unsupported_media_type: {
    status: 415,
    when: "The body is not sent as `Content-Type: application/json`",
    retryable: false,
  },
  rate_limited: { status: 429, when: "Over the caller's rate limit (`Retry-After`)", retryable: true },
  caller_budget: {
    status: 429,
    when: "Over the caller's share of the upstream budget, or its joins of meetings the proxy does not know yet (`Retry-After`)",
    staleCover: "budget",
    retryable: true,
  },
  // The upstream's own 4xx status is passed through; 400 is only the fallback.
  upstream_client_error: {
    status: 400,
    when: "The upstream refused the request (its status and message kept)",
    retryable: false,
  },
  upstream_credentials: {
    status: 502,
    when: "The upstream rejected the proxy's credentials",
    hint: "the upstream refused CLOUDFLARE_API_TOKEN: check it exists and has the Realtime permission",
    retryable: false,
  },
  upstream_unavailable: {
    status: 502,
    when: "The upstream failed, could not be reached, or answered a malformed body",
    hint: "the upstream failed, was unreachable or answered a malformed body",
    staleCover: "stale-if-error",
    retryable: true,
    outcomeUnknown: true,
  },
  join_preset_unknown: {
    status: 502,
    when: "The upstream does not know a preset JOIN_PRESETS names",
    hint: "JOIN_PRESETS names a preset the RealtimeKit app does not have: create it in the dashboard, or change JOIN_PRESETS",
    retryable: false,
  },
  upstream_paused: {
    status: 503,
    when: "An upstream 429 paused every upstream call (`Retry-After`: the pause left)",
    hint: "the upstream answered 429: every upstream call is paused; other tools may share the token (lower UPSTREAM_BUDGET)",
    staleCover: "paused",
    retryable: true,
  },
  upstream_budget: {
    status: 503,
    when: "The upstream budget (or the joins' share of it) is spent (`Retry-After`: when this caller's turn comes)",
    hint: "UPSTREAM_BUDGET is spent: GET /status shows spend per route and callers over their share",
    staleCover: "budget",
    retryable: true,
  },
  gate_unavailable: {
    status: 503,
    when: "The budget gate Durable Object cannot be reached",
    retryable: true,
  },
  // The webhook inbox is down: the delivery is not acknowledged, so RealtimeKit retries it.
  inbox_unavailable: {
    status: 503,
    when: "The webhook inbox Durable Object cannot be reached (RealtimeKit retries the delivery)",
    hint: "the webhook inbox Durable Object failed: deliveries get 503 and RealtimeKit retries them; answers renew at their TTL meanwhile",
    retryable: true,
  },
  // A key this data centre does not know, and the store cannot be asked: never a pass.
  key_store_unavailable: {
    status: 503,
    when: "A managed key this data centre does not know yet, while the key store cannot be asked (`Retry-After`)",
    hint: "a managed key's Durable Object could not be reached (or this isolate's lookups were all taken by a flood of unknown keys): keys already known go on working, new ones get 503",
    retryable: true,
  },
  // The identity provider's keys cannot be fetched: a user token is never let through unverified.
  sign_in_unavailable: {
    status: 503,
    when: "The identity provider's keys cannot be fetched, so no user token can be checked (`Retry-After`)",
    hint: "the identity provider's keys (AUTH_JWKS_URL) could not be fetched: user tokens get 503 until it answers",
    retryable: true,
  },
  upstream_timeout: {
    status: 504,
    when: "The upstream did not answer in time",
    hint: "the upstream did not answer within UPSTREAM_TIMEOUT_MS",
    staleCover: "stale-if-error",
    retryable: true,
    outcomeUnknown: true,
  },
  // The upstream is still working on it; a stored answer is served instead when one may be.
  upstream_slow: {
    status: 504,
    when: "The upstream is slow and a stored answer was due (served instead when it may be)",
    staleCover: "stale-if-error",
    retryable: true,
    outcomeUnknown: true,
  },
  misconfigured: {
    status: 500,
    when: "The proxy is misconfigured (the message names what, never a value)",
    hint: "fix the named vars or secrets: every request fails until then",
    retryable: false,
  },
  internal: {
    status: 500,
    when: "A bug: an unexpected error",
    hint: "a bug: an unexpected error reached the error handler",
    retryable: false,
    outcomeUnknown: true,
  },
} as const satisfies Record<string, ErrorSpec>;

/**
 * The header the official `cloudflare` SDK obeys before retrying (`false`: it does not):
 * sent with every error the same request cannot get past, and with a create that may have
 * been made, so the SDK's own retries never make a second meeting.
 */
export const NO_RETRY_HEADER = "X-Should-Retry";

/** Every way a request can fail, as the proxy names it (the `type` of every error body). */
export type ErrorKind = keyof typeof ERRORS;

/** The table's row for a kind. */
export function errorSpec(kind: ErrorKind): ErrorSpec {
  return ERRORS[kind];
}

/** Every kind, in the table's order (the OpenAPI document lists them per status). */
export const ERROR_KINDS = Object.keys(ERRORS) as ErrorKind[];

export interface ValidationIssue {
  path: string;
  message: string;
}

/** The body of every error: `{"success": false, "error": {"code", "type", "message", "issues"?}}`. */
export interface ErrorEnvelope {
  success: false;
  error: { code: number; type: ErrorKind; message: string; issues?: ValidationIssue[] };
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
    super(options.status ?? ERRORS[kind].status, { message });
    this.kind = kind;
    this.issues = options.issues;
    this.retryAfter = options.retryAfter;
    this.headers = options.headers ?? {};
  }
}

/** Whether a failure leaves open that the upstream acted on the request (anything not an ApiError included). */
export function outcomeUnknown(error: unknown): boolean {
  return !(error instanceof ApiError) || errorSpec(error.kind).outcomeUnknown === true;
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
