/**
 * @module The only code that talks to the RealtimeKit API and the only sender of the
 * token: builds each request, bounds it in time, retries what is safe to retry, and
 * maps every outcome to a success or an ApiError.
 */

import { readBoundedText } from "../bounded.ts";
import { MAX_PAUSE_MS } from "../budget/gate.ts";
import type { PermitSource } from "../budget/permits.ts";
import { refusalError } from "../budget/refusals.ts";
import { isAllowedBaseUrl } from "../config.ts";
import { ApiError, type ErrorKind } from "../errors.ts";
import { runtime } from "../runtime.ts";
import { Secrets } from "../secrets.ts";
import { VERSION } from "../version.ts";
import type { UpstreamRequest, UpstreamSettings } from "./request.ts";

const USER_AGENT = `realtimekit-proxy/${VERSION}`;

export interface UpstreamSuccess {
  status: number;
  /** The upstream's JSON success envelope, as sent. */
  body: string;
}

/** What one call to the upstream did, for the request's log line and Server-Timing. */
export interface UpstreamTrace {
  attempts: number;
  /** The last HTTP status the upstream answered (none after a timeout or network error). */
  status?: number;
  durationMs: number;
  /** How the call failed, when it did (even if a stale copy then covered for it). */
  failure?: ErrorKind;
  /** What the budget gate said was left after the last permit it granted. */
  permitsLeft?: number;
  /** Time spent waiting for permits (the hop to the budget gate). */
  permitMs?: number;
  /** Time this data centre spent asking the key's shared object (that hop, and what it did). */
  sharedMs?: number;
  /** Time spent asking the meeting's participants object (that hop, and what it did). */
  participantsMs?: number;
}

type AttemptOutcome =
  | { kind: "success"; status: number; body: string }
  | { kind: "status"; status: number; body: string; retryAfterMs: number | undefined }
  | { kind: "malformed"; status: number }
  | { kind: "oversized"; status: number }
  | { kind: "timeout" }
  | { kind: "network" };

const BACKOFF_BASE_MS = 100;
const BACKOFF_CAP_MS = 2_000;
const OVERALL_DEADLINE_CAP_MS = 10_000;
const MAX_UPSTREAM_MESSAGE_LENGTH = 300;
/** A body past this is not read further: it is not an answer this API gives. */
const MAX_UPSTREAM_BODY_BYTES = 2 * 1024 * 1024;

type FailedOutcome = Exclude<AttemptOutcome, { kind: "success" }>;

/** An upstream call: a read by default, or a write with its JSON body. */
export interface UpstreamCall extends UpstreamRequest {
  method?: "GET" | "POST" | "PATCH";
  /** The JSON body of a write, sent with `Content-Type: application/json`. */
  json?: unknown;
  /** False for a call that makes something new: it is never retried once it may have reached the upstream. */
  repeatable?: boolean;
}

export function newTrace(): UpstreamTrace {
  return { attempts: 0, durationMs: 0 };
}

export function createUpstreamHttp(config: UpstreamSettings, token: string) {
  // Defence in depth: the token goes only where a validated config may point it.
  if (!isAllowedBaseUrl(config.CLOUDFLARE_API_BASE_URL)) {
    throw new ApiError("misconfigured", "proxy misconfigured: CLOUDFLARE_API_BASE_URL is not an allowed upstream");
  }
  const secrets = new Secrets([token]);
  // Upstream messages are relayed to callers: they carry neither the token nor the account id.
  const messageSecrets = new Secrets([token, config.CLOUDFLARE_ACCOUNT_ID]);
  const appUrl = `${config.CLOUDFLARE_API_BASE_URL}/accounts/${config.CLOUDFLARE_ACCOUNT_ID}/realtime/kit/${config.REALTIMEKIT_APP_ID}`;
  const headers = { Authorization: `Bearer ${token}`, Accept: "application/json", "User-Agent": USER_AGENT };
  const attemptTimeoutMs = config.UPSTREAM_TIMEOUT_MS;
  const deadlineMs = Math.min(attemptTimeoutMs * (config.UPSTREAM_MAX_RETRIES + 1), OVERALL_DEADLINE_CAP_MS);

  async function attempt(url: string, call: UpstreamCall, timeoutMs: number): Promise<AttemptOutcome> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const init: RequestInit =
      call.json === undefined
        ? { method: call.method ?? "GET", headers }
        : {
            method: call.method,
            headers: { ...headers, "Content-Type": "application/json" },
            body: JSON.stringify(call.json),
          };
    try {
      // redirect "manual": a redirect must never carry the token to another host.
      const response = await fetch(url, { ...init, signal: timeout, redirect: "manual" });
      const body = await readBoundedText(response, MAX_UPSTREAM_BODY_BYTES);
      if (body === undefined) return { kind: "oversized", status: response.status };
      if (response.status === 429)
        return { kind: "status", status: 429, body, retryAfterMs: pauseFor(response.headers) };
      if (response.status >= 200 && response.status < 300) {
        // The body is passed through unchanged, so it must not carry the token back.
        return isSuccessEnvelope(body) && !secrets.foundInJson(body)
          ? { kind: "success", status: response.status, body }
          : { kind: "malformed", status: response.status };
      }
      return { kind: "status", status: response.status, body, retryAfterMs: parseRetryAfter(response.headers) };
    } catch {
      return timeout.aborted ? { kind: "timeout" } : { kind: "network" };
    }
  }

  /**
   * One upstream call with per-attempt timeouts and, when it is safe to repeat, retries
   * bounded by an overall deadline. Every attempt, each retry included, first takes a
   * permit from `permits`; an upstream 429 is never retried: it pauses the whole
   * deployment. `trace` is filled in as it goes.
   */
  async function send(call: UpstreamCall, trace: UpstreamTrace, permits: PermitSource): Promise<UpstreamSuccess> {
    const url = `${appUrl}${call.path}${call.query ? `?${call.query}` : ""}`;
    // A call that makes something new (adding a participant) is never repeated once it may have arrived.
    const maxRetries = call.repeatable === false ? 0 : config.UPSTREAM_MAX_RETRIES;
    const startedAt = runtime.now();
    const timeLeft = () => deadlineMs - (runtime.now() - startedAt);
    const fail = (outcome: FailedOutcome) => {
      const error = toApiError(outcome, messageSecrets);
      trace.failure = error.kind;
      return error;
    };
    let lastFailure: FailedOutcome | undefined;
    for (let attempts = 1; ; attempts++) {
      const askedAt = runtime.now();
      const permit = await permits.acquire();
      trace.permitMs = (trace.permitMs ?? 0) + (runtime.now() - askedAt);
      trace.permitsLeft = permit.permitsLeft;
      if (!permit.granted) {
        // A retry the budget will not pay for is not made: the caller hears the real failure.
        throw lastFailure ? fail(lastFailure) : refusalError(permit.reason, permit.retryAfterMs);
      }
      const outcome = await attempt(url, call, Math.min(attemptTimeoutMs, timeLeft()));
      trace.attempts = attempts;
      trace.status = "status" in outcome ? outcome.status : undefined;
      trace.durationMs = runtime.now() - startedAt;
      if (outcome.kind === "success") return { status: outcome.status, body: outcome.body };
      if (outcome.kind === "status" && outcome.status === 429) {
        const pauseMs = Math.min(outcome.retryAfterMs ?? config.UPSTREAM_PAUSE_SECONDS * 1000, MAX_PAUSE_MS);
        await permits.pauseUntil(runtime.now() + pauseMs);
        trace.failure = "upstream_paused";
        throw refusalError("paused", pauseMs);
      }
      if (!isRetryable(outcome) || attempts > maxRetries) throw fail(outcome);
      const waitMs = retryDelay(outcome, attempts);
      // Never wait past the deadline: answer now, with the mapped error.
      if (waitMs >= timeLeft()) throw fail(outcome);
      await runtime.sleep(waitMs);
      lastFailure = outcome;
    }
  }

  /** A read: GET, retried like every read. */
  function get(request: UpstreamRequest, trace: UpstreamTrace, permits: PermitSource): Promise<UpstreamSuccess> {
    return send(request, trace, permits);
  }

  return { get, send };
}

function isRetryable(outcome: AttemptOutcome): boolean {
  if (outcome.kind === "timeout" || outcome.kind === "network") return true;
  if (outcome.kind !== "status") return false;
  return outcome.status === 408 || outcome.status >= 500;
}

/** Retry-After when the upstream sent one, else exponential backoff with full jitter. */
function retryDelay(outcome: AttemptOutcome, attempts: number): number {
  if (outcome.kind === "status" && outcome.retryAfterMs !== undefined) return outcome.retryAfterMs;
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempts - 1));
  return Math.floor(runtime.random() * ceiling);
}

/** Retry-After in delta-seconds or as an HTTP date (RFC 9110 section 10.2.3). */
function parseRetryAfter(headers: Headers): number | undefined {
  const value = headers.get("Retry-After")?.trim();
  if (!value) return undefined;
  if (/^[0-9]+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - runtime.now());
}

/**
 * How long an upstream 429 pauses the deployment: its Retry-After, else the reset of its
 * `RateLimit` header (IETF draft: `"default";r=0;t=240` or the older
 * `limit=1200, remaining=0, reset=240`), else `undefined` (the configured default).
 */
function pauseFor(headers: Headers): number | undefined {
  const retryAfter = parseRetryAfter(headers);
  if (retryAfter !== undefined) return retryAfter;
  const rateLimit = headers.get("RateLimit") ?? "";
  const reset = /(?:^|[;,\s])(?:t|reset)=([0-9]+)/.exec(rateLimit)?.[1] ?? headers.get("RateLimit-Reset")?.trim();
  return reset && /^[0-9]+$/.test(reset) ? Number(reset) * 1000 : undefined;
}

function isSuccessEnvelope(body: string): boolean {
  const parsed = parseJson(body);
  return isRecord(parsed) && parsed.success === true;
}

function toApiError(outcome: FailedOutcome, secrets: Secrets): ApiError {
  switch (outcome.kind) {
    case "timeout":
      return new ApiError("upstream_timeout", "upstream did not answer in time");
    case "network":
      return new ApiError("upstream_unavailable", "upstream could not be reached");
    case "malformed":
      return new ApiError("upstream_unavailable", "upstream answered with a malformed body");
    case "oversized":
      return new ApiError("upstream_unavailable", "upstream answered with a body over 2 MiB");
    case "status":
      return statusError(outcome, secrets);
  }
}

function statusError(outcome: { status: number; body: string; retryAfterMs: number | undefined }, secrets: Secrets) {
  const { status } = outcome;
  if (status === 401 || status === 403) {
    return new ApiError("upstream_credentials", "upstream rejected the proxy's credentials");
  }
  if (status >= 400 && status < 500) {
    const message = upstreamMessage(outcome.body, secrets);
    if (status === 404) return new ApiError("not_found", message ?? "not found upstream");
    return new ApiError("upstream_client_error", message ?? `upstream refused the request (${status})`, {
      status: status as 400,
    });
  }
  return new ApiError("upstream_unavailable", `upstream failed with status ${status}`);
}

/**
 * The message of either upstream error shape: RealtimeKit's `{error: {message}}` or
 * the Cloudflare v4 `{errors: [{message}]}`. Cleaned, bounded, and never the token.
 */
function upstreamMessage(body: string, secrets: Secrets): string | undefined {
  const parsed = parseJson(body);
  if (!isRecord(parsed)) return undefined;
  const messages: unknown[] = [];
  if (isRecord(parsed.error)) messages.push(parsed.error.message);
  if (Array.isArray(parsed.errors)) messages.push(...parsed.errors.map((e) => (isRecord(e) ? e.message : undefined)));
  const text = messages
    .filter((m): m is string => typeof m === "string")
    .join("; ")
    .replace(/\p{Cc}/gu, " ")
    .trim();
  if (!text) return undefined;
  return secrets.redact(text).slice(0, MAX_UPSTREAM_MESSAGE_LENGTH);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
