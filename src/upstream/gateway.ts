/**
 * @module The way to the upstream as a Worker isolate or a Durable Object has it: the
 * token, the deployment's budget gate, this isolate's throttle for direct calls while the
 * gate is down, and the runtime's clock.
 */
import { GATE_NAME } from "../budget/gate-object.ts";
import { isolateDirectCalls } from "../budget/refusals.ts";
import { runtime } from "../runtime.ts";
import type { UpstreamGateway } from "./load.ts";

/**
 * The gateway of a Worker isolate or a Durable Object: the real gate, this isolate's
 * throttle, the runtime's clock. Make one per request: it holds the gate's stub, and a
 * Worker's stub fails in any request but the one that made it.
 */
export function upstreamGateway(token: string, gate: Env["BUDGET_GATE"]): UpstreamGateway {
  return { token, gate: gate.getByName(GATE_NAME), throttle: isolateDirectCalls, now: () => runtime.now() };
}
