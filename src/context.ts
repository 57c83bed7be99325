/** @module What every middleware and handler of the app can read from the request context, and who is calling. */
import type { Allowance } from "./budget/gate.ts";
import type { ErrorKind } from "./errors.ts";
import type { UpstreamTrace } from "./upstream/http.ts";

/** A signed-in user: the non-personal id derived from the token's `iss` and `sub`, and its verified claims. */
export interface User {
  id: string;
  claims: Readonly<Record<string, unknown>>;
}

/**
 * `public`, the API key that authenticated the request, a signed-in user, or a
 * credential that was sent but refused (and why, in words that never quote it).
 */
export type Caller =
  | { kind: "public" }
  | ({ kind: "key" } & KeyCaller)
  | ({ kind: "user" } & User)
  /** RealtimeKit itself, known by a webhook delivery's valid signature. */
  | { kind: "realtimekit" }
  | {
      kind: "refused";
      reason:
        | "malformed"
        | "unknown"
        | "invalid_token"
        | "invalid_key"
        | "over_limit"
        | "sign_in_unavailable"
        | "key_store_unavailable";
      message?: string;
    };

/** An API key's caller: a config key (API_KEYS) or a managed one, with its own limits when it has them. */
export interface KeyCaller {
  id: string;
  source: "config" | "managed";
  scopes: readonly string[];
  /** Requests a minute (a managed key's rate-limit tier); none: the deployment's keyed limit. */
  rateLimit?: number | null;
  /** Its upstream share, in place of CALLER_MISS_BUDGET. */
  upstreamShare?: Allowance | null;
}

export interface AppVariables {
  requestId: string;
  /** Who is calling (set once the credential, if any, has been checked). */
  caller: Caller;
  /** What the upstream call made for this request did, for the log line and Server-Timing. */
  upstreamTrace?: UpstreamTrace;
  errorKind?: ErrorKind;
  /** A webhook delivery: its event and what became of it, for the log line (never its body). */
  webhook?: { event?: string; outcome: string };
  /** The misconfiguration, in words (names only). */
  problem?: string;
  /** The request was already counted against its address (a key this isolate did not know was looked up). */
  countedByAddress?: boolean;
  /** The route's JSON body, read and checked (routes/json-body.ts)... */
  body?: unknown;
  /** ...and as the caller sent it (what a forwarded write sends upstream, exactly). */
  sentBody?: unknown;
}

/** The app's Hono environment. Handlers never read bindings from the context: the app is built with them. */
export interface AppEnv {
  Variables: AppVariables;
}
