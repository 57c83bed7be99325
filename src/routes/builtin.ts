/** @module The handlers of the routes the proxy answers itself: health, the operator's view of the budget, and the keys API (routes/keys.ts). */
import type { Context, Handler } from "hono";
import { allowancesOf } from "../budget/gate.ts";
import { GATE_NAME } from "../budget/gate-object.ts";
import { CHANGE_FEED_NAME } from "../changes/feed-object.ts";
import type { Config } from "../config.ts";
import type { AppEnv } from "../context.ts";
import { ApiError } from "../errors.ts";
import { runtime } from "../runtime.ts";
import { VERSION } from "../version.ts";
import { INBOX_NAME } from "../webhooks/inbox-object.ts";
import { KEY_HANDLERS, type KeyRouteContext } from "./keys.ts";
import type { Route } from "./table.ts";

/** What the builtin handlers are built with. */
export interface BuiltinRouteContext extends KeyRouteContext {
  config: Config;
  gate: Env["BUDGET_GATE"];
  inbox: Env["WEBHOOK_INBOX"];
  changeFeed: Env["CHANGE_FEED"];
}

function gateDown(): never {
  throw new ApiError("gate_unavailable", "the budget gate could not be reached");
}

function inboxDown(): never {
  throw new ApiError("inbox_unavailable", "the webhook inbox or the change feed could not be reached");
}

const isoOrNull = (at: number | null) => (at === null ? null : new Date(at).toISOString());

/** What the webhooks did: deliveries by outcome, and whether active sessions are pushed now. */
async function webhooksStatus({ config, inbox, changeFeed }: BuiltinRouteContext) {
  const [received, lastChangeAt] = await Promise.all([
    inbox.getByName(INBOX_NAME).status(),
    changeFeed.getByName(CHANGE_FEED_NAME).lastChangeAt(),
  ]).catch(inboxDown);
  const configured = config.REALTIMEKIT_WEBHOOK_PUBLIC_KEY !== undefined;
  const pushed = configured && lastChangeAt !== null && runtime.now() - lastChangeAt < config.PUSHED_TTL_SECONDS * 1000;
  return { configured, pushed, last_change_at: isoOrNull(lastChangeAt), ...received };
}

/** The operator's view: the budget gate's state, and the webhooks'. */
async function operatorStatus(context: BuiltinRouteContext) {
  const { config, gate } = context;
  const allowances = allowancesOf(config);
  const [budget, webhooks] = await Promise.all([
    gate.getByName(GATE_NAME).status(allowances).catch(gateDown),
    webhooksStatus(context),
  ]);
  return { ...budget, webhooks };
}

const OPERATOR_HANDLERS = {
  health: () =>
    function health(c: Context) {
      return c.json({ status: "ok", version: VERSION });
    },
  status: (context: BuiltinRouteContext) =>
    async function status(c: Context) {
      return c.json({ success: true, data: await operatorStatus(context) });
    },
  "lift-pause": (context: BuiltinRouteContext) =>
    async function liftPause(c: Context) {
      await context.gate.getByName(GATE_NAME).liftPause().catch(gateDown);
      return c.json({ success: true, data: await operatorStatus(context) });
    },
};

/** One handler per builtin route of the table; a new builtin route without one does not compile. */
export const BUILTIN_HANDLERS = { ...OPERATOR_HANDLERS, ...KEY_HANDLERS } satisfies Record<
  Extract<Route, { kind: "builtin" }>["name"],
  (context: BuiltinRouteContext) => Handler<AppEnv>
>;
