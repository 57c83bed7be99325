/** @module What calling the upstream through the budget needs in a Worker isolate: the token, the deployment's gate, the throttle. */
import { gateStub } from "../budget/gate-object.ts";
import { isolateDirectCalls } from "../budget/refusals.ts";
import { runtime } from "../runtime.ts";
import type { UpstreamAccess } from "./load.ts";

export function upstreamAccess(token: string, gate: Env["BUDGET_GATE"]): UpstreamAccess {
  return { token, gate: gateStub(gate), throttle: isolateDirectCalls, now: () => runtime.now() };
}
