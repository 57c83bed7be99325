/** @module What every middleware and handler of the app can read from the request context. */
import type { Caller } from "./access/keys.ts";
import type { ErrorKind } from "./errors.ts";
import type { UpstreamTrace } from "./upstream/client.ts";

export interface AppVariables {
  requestId: string;
  /** Who is calling (set once the API key, if any, has been checked). */
  caller: Caller;
  /** What the upstream call made for this request did, for the log line and Server-Timing. */
  upstreamTrace?: UpstreamTrace;
  errorKind?: ErrorKind;
  /** The misconfiguration, in words (names only). */
  problem?: string;
}

export interface AppEnv {
  Bindings: Env;
  Variables: AppVariables;
}
