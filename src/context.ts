/** @module What every middleware and handler of the app can read from the request context, and who is calling. */
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
  | { kind: "key"; id: string; scopes: readonly string[] }
  | ({ kind: "user" } & User)
  /** RealtimeKit itself, known by a webhook delivery's valid signature. */
  | { kind: "realtimekit" }
  | { kind: "refused"; reason: "malformed" | "unknown" | "invalid_token" | "sign_in_unavailable"; message?: string };

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
}

/** The app's Hono environment. Handlers never read bindings from the context: the app is built with them. */
export interface AppEnv {
  Variables: AppVariables;
}
