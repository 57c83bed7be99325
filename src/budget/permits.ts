/**
 * @module Permits as the upstream client takes them: from the budget gate, or, when
 * the gate cannot be reached, from a per-isolate throttle (one direct call a second)
 * so that answers keep coming without any chance of locking the token out.
 */
import { logger } from "../log.ts";
import type { PermitDecision, PermitRequest } from "./gate.ts";
import type { DirectCallThrottle } from "./refusals.ts";

/** Where each upstream attempt gets its permit, and where an upstream 429 is reported. */
export interface PermitSource {
  acquire(): Promise<PermitDecision>;
  /** The upstream said 429: no call of the deployment may reach it before `untilMs`. */
  pauseUntil(untilMs: number): Promise<void>;
}

/** The gate as its callers see it: the Durable Object's stub, or the gate itself in the simulation. */
export interface GateClient {
  take(request: PermitRequest): Promise<PermitDecision> | PermitDecision;
  pause(untilMs: number): Promise<void> | void;
}

export interface GatePermitOptions {
  gate: GateClient;
  request: PermitRequest;
  /** A stored answer exists that can be served instead when the gate is down. */
  hasCopy: boolean;
  throttle: DirectCallThrottle;
  now: () => number;
}

export function gatePermits({ gate, request, hasCopy, throttle, now }: GatePermitOptions): PermitSource {
  return {
    async acquire() {
      try {
        return await gate.take(request);
      } catch (error) {
        logger.write("error", {
          event: "budget_gate_unreachable",
          route: request.route,
          hint: "the budget gate Durable Object failed: serving stored answers, else one direct upstream call a second",
          error: error instanceof Error ? error.name : typeof error,
        });
        return fallbackPermit(hasCopy, throttle, now());
      }
    },
    async pauseUntil(untilMs) {
      try {
        await gate.pause(untilMs);
      } catch {
        // The 429 still reaches the caller; the gate learns of the next one.
      }
    },
  };
}

function fallbackPermit(hasCopy: boolean, throttle: DirectCallThrottle, now: number): PermitDecision {
  if (!hasCopy && throttle.tryTake(now)) return { granted: true, permitsLeft: 0 };
  return { granted: false, reason: "budget", retryAfterMs: Math.max(1000, throttle.waitMs(now)), permitsLeft: 0 };
}
