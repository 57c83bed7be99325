/** @module The handlers of the routes the proxy answers itself: health, and the operator's view of the budget. */
import type { Context, Handler } from "hono";
import packageJson from "../../package.json" with { type: "json" };
import { gateStub } from "../budget/gate-object.ts";
import type { Config } from "../config.ts";
import { ApiError } from "../errors.ts";
import type { Route } from "./table.ts";

/** What the local handlers are built with. */
export interface LocalRouteContext {
  config: Config;
  gate: Env["BUDGET_GATE"];
}

function gateDown(): never {
  throw new ApiError("gate_unavailable", "the budget gate could not be reached");
}

function budgetStatus({ config, gate }: LocalRouteContext) {
  const allowances = { budget: config.UPSTREAM_BUDGET, callerBudget: config.CALLER_MISS_BUDGET };
  return gateStub(gate).status(allowances).catch(gateDown);
}

/** One handler per local route of the table; a new local route without one does not compile. */
export const LOCAL_HANDLERS = {
  health: () =>
    function health(c: Context) {
      return c.json({ status: "ok", version: packageJson.version });
    },
  status: (context: LocalRouteContext) =>
    async function status(c: Context) {
      return c.json({ success: true, data: await budgetStatus(context) });
    },
  "lift-pause": (context: LocalRouteContext) =>
    async function liftPause(c: Context) {
      await gateStub(context.gate).liftPause().catch(gateDown);
      return c.json({ success: true, data: await budgetStatus(context) });
    },
} satisfies Record<Extract<Route, { kind: "local" }>["name"], (context: LocalRouteContext) => Handler>;
