/**
 * @module The budget gate as a Durable Object: one instance for the whole deployment
 * (SQLite-backed, so its state survives eviction and deploys), holding BudgetGate.
 * It reads no config of its own: each request carries the deployment's allowances.
 */
import { DurableObject } from "cloudflare:workers";
import { runtime } from "../runtime.ts";
import { type Allowances, BudgetGate, type GateStatus, type PermitDecision, type PermitRequest } from "./gate.ts";

/** The one name every data centre reaches the gate by. */
export const GATE_NAME = "deployment";

export class BudgetGateObject extends DurableObject<Env> {
  readonly #gate: BudgetGate;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#gate = new BudgetGate({ store: ctx.storage.kv, now: () => runtime.now() });
  }

  take(request: PermitRequest): PermitDecision {
    return this.#gate.take(request);
  }

  pause(untilMs: number): void {
    this.#gate.pause(untilMs);
  }

  liftPause(): void {
    this.#gate.liftPause();
  }

  status(allowances: Allowances): GateStatus {
    return this.#gate.status(allowances);
  }
}
