/**
 * @module The handlers of the writes forwarded to the upstream (a meeting created or
 * changed, someone kicked out): the caller's body exactly as sent (once validated) to the
 * same path, with the caller's permits; a create never retried, and with an
 * `Idempotency-Key` made safe to repeat (its own Durable Object per caller and key). Once
 * it succeeded, the stored answers it changes are dropped or renewed everywhere (and this
 * data centre stops using its copies), and it is one audit line. Answers are `no-store`.
 */
import type { Context, MiddlewareHandler } from "hono";
import { callerShareOf, quotaKey } from "../access/quota.ts";
import type { MeetingChange } from "../changes/feed.ts";
import type { Config } from "../config.ts";
import type { AppEnv } from "../context.ts";
import { sha256Hex } from "../digest.ts";
import { ApiError, errorSpec, type Failure, fromFailure, NO_RETRY_HEADER } from "../errors.ts";
import { logger } from "../log.ts";
import { entriesChangedBy } from "../reads/answer-read.ts";
import type { TieredCache } from "../reads/tiers.ts";
import { upstreamGateway } from "../upstream/gateway.ts";
import type { UpstreamTrace } from "../upstream/http.ts";
import { type UpstreamSettings, upstreamRequest } from "../upstream/request.ts";
import { type ForwardedCall, forwardWrite, type WriteContext } from "../writes/forward.ts";
import type { WriteOutcome } from "../writes/idempotency.ts";
import { jsonBody } from "./json-body.ts";
import { type AnyForwardedRoute, PROXIED_ROUTES, type RouteSettings } from "./table.ts";
import { validate } from "./validator.ts";

/** RFC-draft and Stripe's limit; printable ASCII, so it can be logged by length and hashed as is. */
const IDEMPOTENCY_KEY = /^[\x20-\x7E]{1,255}$/;

export interface ForwardedRouteContext {
  config: Config;
  settings: UpstreamSettings;
  /** The budget gate's namespace: its stub is made per request (a Durable Object stub must not outlive its request). */
  gate: Env["BUDGET_GATE"];
  idempotency: Env["IDEMPOTENCY"];
  participants: Env["MEETING_PARTICIPANTS"];
  tiers: TieredCache;
  /** Tells the change feed (and through it every entry concerned) of a change. */
  announce: (change: MeetingChange) => Promise<void>;
}

type ForwardedContext = Context<AppEnv, string, { out: { param: Record<string, string> } }>;

/** JSON with every object's keys in order: two bodies that say the same are one text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([name, inner]) => `${JSON.stringify(name)}:${canonicalJson(inner)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The `Idempotency-Key` a create was sent with, if any; a malformed one is a 400 naming it. */
function idempotencyKeyOf(c: ForwardedContext): string | undefined {
  const key = c.req.header("Idempotency-Key");
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) {
    const message = "must be 1 to 255 printable characters";
    throw new ApiError("bad_request", `invalid request: Idempotency-Key ${message}`, {
      issues: [{ path: "Idempotency-Key", message }],
    });
  }
  return key;
}

/** The meeting a write concerns: its param, or (a create) the new meeting's id in the answer. */
function meetingOf(params: Record<string, string>, outcome: WriteOutcome): string {
  if (params.meetingId) return params.meetingId;
  try {
    const id = (JSON.parse(outcome.body) as { data?: { id?: unknown } }).data?.id;
    // Canonical as the routes' params are (a UUID in lower case), so its stored answers are found.
    return typeof id === "string" ? id.toLowerCase() : "";
  } catch {
    return "";
  }
}

/** The write's outcome: made now, or (a create with an Idempotency-Key) its first outcome again. */
async function outcomeOf(
  c: ForwardedContext,
  route: AnyForwardedRoute,
  context: ForwardedRouteContext,
  call: ForwardedCall,
  writeContext: WriteContext,
): Promise<{ outcome: WriteOutcome; trace: UpstreamTrace; replayed: boolean }> {
  const key = route.creates ? idempotencyKeyOf(c) : undefined;
  if (key === undefined) {
    const gateway = upstreamGateway(context.config.CLOUDFLARE_API_TOKEN, context.gate);
    return { ...(await forwardWrite(gateway, writeContext, call)), replayed: false };
  }
  const object = context.idempotency.getByName(await sha256Hex(`${writeContext.quotaKey}\n${key}`));
  const { result, trace } = await object.create(await sha256Hex(canonicalJson(call.json ?? {})), call, writeContext);
  if (result.kind === "conflict") {
    throw new ApiError(
      "conflict",
      "this Idempotency-Key was used with another body: use a new key for another request",
    );
  }
  return { outcome: result.outcome, trace, replayed: result.kind === "repeat" };
}

/** A create that reached the upstream and got no answer may have created the meeting. */
function mayHaveCreated(route: AnyForwardedRoute, outcome: WriteOutcome, failure: Failure): boolean {
  return route.creates === true && outcome.reachedUpstream && errorSpec(failure.kind).outcomeUnknown === true;
}

/** The caller is told the meeting may exist, and how to find out, rather than to simply try again. */
function withAdvice(failure: Failure): Failure {
  const advice =
    "the meeting may have been created: repeat with the same Idempotency-Key, or look for it with GET /meetings before creating it again";
  return { ...failure, message: `${failure.message}; ${advice}` };
}

/** After a successful write: the answers it changes, dropped or renewed everywhere; a new meeting known to joins. */
async function keepReadsTrue(context: ForwardedRouteContext, change: MeetingChange): Promise<void> {
  const read = { settings: context.settings, source: context.config.ACTIVE_SESSION_SOURCE };
  for (const prefix of entriesChangedBy(change, PROXIED_ROUTES, read)) context.tiers.forget(prefix);
  const done = [context.announce(change)];
  if (change.event === "meeting.created" && change.meetingId) {
    done.push(context.participants.getByName(change.meetingId).markKnown());
  }
  await Promise.all(done).catch((error: unknown) =>
    logger.write("error", {
      event: "write_change_lost",
      hint: "a write's change did not reach the change feed: other data centres show the old answers until their TTL",
      error: error instanceof Error ? error.name : typeof error,
    }),
  );
}

/** The handlers of one forwarded write: its params and body checked, then the write. */
export function forwardedHandlers(
  route: AnyForwardedRoute,
  context: ForwardedRouteContext,
  settings: RouteSettings,
): MiddlewareHandler<AppEnv>[] {
  async function forward(c: ForwardedContext) {
    const params = c.req.valid("param");
    const caller = c.get("caller");
    const call: ForwardedCall = {
      method: route.method,
      path: upstreamRequest(route.path, params, {}).path,
      ...(route.json ? { json: c.get("sentBody") } : {}),
      repeatable: !route.creates,
      route: route.name,
      withheld: route.withheld ?? [],
    };
    const writeContext: WriteContext = {
      settings: context.settings,
      quotaKey: quotaKey(caller, c.req.header("CF-Connecting-IP")),
      callerShare: callerShareOf(caller),
    };
    const { outcome, trace, replayed } = await outcomeOf(c, route, context, call, writeContext);
    c.set("upstreamTrace", trace);
    const replay: Record<string, string> = replayed ? { "Idempotent-Replayed": "true" } : {};
    if (outcome.failure) {
      const mayExist = mayHaveCreated(route, outcome, outcome.failure);
      const noRetry: Record<string, string> = mayExist ? { [NO_RETRY_HEADER]: "false" } : {};
      throw fromFailure(mayExist ? withAdvice(outcome.failure) : outcome.failure, { ...replay, ...noRetry });
    }
    const meetingId = meetingOf(params, outcome);
    if (!replayed) {
      const { event } = route.change(params);
      await keepReadsTrue(context, { event, meetingId });
      logger.write("info", {
        event: "write_audit",
        route: route.name,
        caller: caller.kind === "key" ? caller.id : caller.kind,
        meetingId,
      });
    }
    return c.body(outcome.body, outcome.status as 200, {
      "Content-Type": "application/json",
      "Cache-Control": "no-store",
      ...replay,
    });
  }
  return [validate("param", route.params), jsonBody(route.json?.(settings)), forward];
}
