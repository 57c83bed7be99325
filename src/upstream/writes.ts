/**
 * @module A write to the upstream on a caller's behalf (a meeting created or changed,
 * someone kicked out, a participant added): its permits are taken as a person's (ahead of
 * reads, within the joins' share, the caller's own share counted), and what creates
 * something is sent once and never retried. The first call of a write takes its turn in
 * the share; any call after it (a participant's refresh that found it gone, then its add)
 * follows.
 */
import { type Allowance, allowancesOf } from "../budget/gate.ts";
import { gatePermits, type PermitSource } from "../budget/permits.ts";
import { createUpstreamHttp, type UpstreamCall, type UpstreamSuccess, type UpstreamTrace } from "./http.ts";
import type { UpstreamGateway } from "./load.ts";
import type { UpstreamSettings } from "./request.ts";

export interface WriteOptions {
  gateway: UpstreamGateway;
  settings: UpstreamSettings;
  /** Whose share of the budget the calls count against: `user:<id>` or `key:<id>`. */
  quotaKey: string;
  /** A managed key's own upstream share, in place of CALLER_MISS_BUDGET. */
  callerShare?: Allowance;
  /** A join of a meeting the proxy does not know exists (few per caller and for the deployment). */
  probe?: boolean;
  /** What the spend is counted under in `/status`. */
  route: string;
  trace: UpstreamTrace;
}

/** A write's permits: the first takes its turn in the joins' share (as a probe, maybe); every later one follows it. */
export function writePermits({ gateway, settings, quotaKey, callerShare, probe, route }: WriteOptions): PermitSource {
  const source = (followUp: boolean) =>
    gatePermits({
      gate: gateway.gate,
      request: {
        priority: "join",
        urgency: 1,
        quotaKey,
        route,
        probe,
        followUp,
        ...allowancesOf(settings, callerShare),
      },
      hasCopy: false,
      throttle: gateway.throttle,
      now: gateway.now,
    });
  const first = source(false);
  const later = source(true);
  let admitted = false;
  return {
    async acquire() {
      const decision = await (admitted ? later : first).acquire();
      admitted ||= decision.granted;
      return decision;
    },
    pauseUntil: (untilMs) => first.pauseUntil(untilMs),
  };
}

/** The upstream calls of one write (several, for a join that finds its participant gone), sharing its permits and trace. */
export function upstreamWrites(options: WriteOptions): (call: UpstreamCall) => Promise<UpstreamSuccess> {
  const http = createUpstreamHttp(options.settings, options.gateway.token);
  const permits = writePermits(options);
  return (call) => http.send(call, options.trace, permits);
}
