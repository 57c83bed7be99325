/**
 * @module One write forwarded to the upstream on a caller's behalf: exactly the caller's
 * (validated) body, to the same path, with the caller's permits; never retried when it
 * creates something. Its outcome is plain data (it crosses an RPC boundary when a create
 * with an Idempotency-Key runs in its own object), the answer's withheld fields dropped.
 */
import type { Allowance } from "../budget/gate.ts";
import { toFailure } from "../errors.ts";
import { newTrace, type UpstreamTrace } from "../upstream/http.ts";
import type { UpstreamGateway } from "../upstream/load.ts";
import type { UpstreamSettings } from "../upstream/request.ts";
import { withoutFields } from "../upstream/withheld.ts";
import { upstreamWrites } from "../upstream/writes.ts";
import type { WriteOutcome } from "./idempotency.ts";

/** What to send: plain data. */
export interface ForwardedCall {
  method: "POST" | "PATCH";
  /** Below `/accounts/{account}/realtime/kit/{app}`, params encoded. */
  path: string;
  /** The caller's body as it sent it (validated), or none. */
  json?: unknown;
  /** False for a create: sent once, never retried. */
  repeatable: boolean;
  /** The route's name, for the budget's spend per route. */
  route: string;
  withheld: readonly string[];
}

/** Whose write it is and how to reach the upstream: plain data, none of it sent upstream. */
export interface WriteContext {
  settings: UpstreamSettings;
  quotaKey: string;
  callerShare?: Allowance;
}

export async function forwardWrite(
  gateway: UpstreamGateway,
  context: WriteContext,
  call: ForwardedCall,
): Promise<{ outcome: WriteOutcome; trace: UpstreamTrace }> {
  const trace = newTrace();
  const send = upstreamWrites({ gateway, ...context, route: call.route, trace });
  try {
    const { status, body } = await send({
      method: call.method,
      path: call.path,
      query: "",
      ...(call.json === undefined ? {} : { json: call.json }),
      repeatable: call.repeatable,
    });
    return { outcome: { status, body: withoutFields(body, call.withheld), reachedUpstream: true }, trace };
  } catch (error) {
    const failure = toFailure(error);
    return {
      outcome: { status: failure.status, body: failure.message, failure, reachedUpstream: trace.attempts > 0 },
      trace,
    };
  }
}
