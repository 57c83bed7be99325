/**
 * @module The handlers of the write routes: a user's or a backend's join, and the
 * official SDK's add participant and refresh participant token. Each reads its JSON body
 * (bounded, `application/json` only, checked against the schema for the kind of caller),
 * decides who joins as what (users/join.ts), and asks the meeting's participants object.
 * Every answer is `no-store`: a participant token is never kept in any cache.
 */
import type { Context, Handler, MiddlewareHandler } from "hono";
import { callerShareOf, quotaKey } from "../access/quota.ts";
import type { Config, JoinPresets } from "../config.ts";
import type { AppEnv, Caller } from "../context.ts";
import { ApiError, fromFailure } from "../errors.ts";
import { runtime } from "../runtime.ts";
import type { UpstreamSettings } from "../upstream/request.ts";
import { allowedPresets, backendParticipant, userParticipant } from "../users/join.ts";
import type { CallContext, ParticipantsResult } from "../users/participants-object.ts";
import { readJson } from "./json-body.ts";
import type { AnyWriteRoute, Route } from "./table.ts";
import { validate } from "./validator.ts";

const NO_STORE = { "Cache-Control": "no-store" };

export interface WriteRouteContext {
  config: Config;
  settings: UpstreamSettings;
  participants: Env["MEETING_PARTICIPANTS"];
}

type Validated = { out: { param: Record<string, string> } };
type WriteContext = Context<AppEnv, string, Validated>;

/** Joining needs JOIN_PRESETS (it names the presets anyone may join with): without it, these routes do not exist. */
function presetsOf(config: Config): JoinPresets {
  if (!config.JOIN_PRESETS) throw new ApiError("not_found", "no such route: joining is not configured on this proxy");
  return config.JOIN_PRESETS;
}

/** Calls the meeting's participants object for this caller; its failure is thrown as the caller's error. */
async function askParticipants<T>(
  c: WriteContext,
  context: WriteRouteContext,
  meetingId: string,
  call: (
    stub: ReturnType<Env["MEETING_PARTICIPANTS"]["getByName"]>,
    callContext: CallContext,
  ) => Promise<ParticipantsResult<T>>,
): Promise<T> {
  const stub = context.participants.getByName(meetingId);
  const callContext: CallContext = {
    settings: context.settings,
    quotaKey: quotaKey(c.get("caller"), c.req.header("CF-Connecting-IP")),
    callerShare: callerShareOf(c.get("caller")),
  };
  const askedAt = runtime.now();
  const result = await call(stub, callContext);
  c.set("upstreamTrace", { ...result.trace, participantsMs: runtime.now() - askedAt });
  if (!result.ok) throw fromFailure(result.failure);
  return result.value;
}

/** Who joins as what: the signed-in user as the rules say, or whom a backend names. */
async function participantFor(c: WriteContext, route: AnyWriteRoute, config: Config, meetingId: string) {
  const caller: Caller = c.get("caller");
  const presets = presetsOf(config);
  if (caller.kind === "user") {
    const body = await readJson(c, route.requestBody.user);
    return userParticipant(caller, meetingId, body, { presets, meetingsClaim: config.JOIN_MEETINGS_CLAIM });
  }
  const schema = route.requestBody.key;
  if (!schema) throw new ApiError("internal", "internal error");
  return backendParticipant(await readJson(c, schema), presets);
}

/** One handler per write route of the table; a new write route without one does not compile. */
const WRITE_HANDLERS = {
  join: (route: AnyWriteRoute, context: WriteRouteContext) =>
    async function join(c: WriteContext) {
      presetsOf(context.config);
      const { meetingId = "" } = c.req.valid("param");
      const wanted = await participantFor(c, route, context.config, meetingId);
      const reuseSeconds = context.config.JOIN_TOKEN_REUSE_SECONDS;
      const outcome = await askParticipants(c, context, meetingId, (stub, callContext) =>
        stub.join({ meetingId, participant: wanted, reuseSeconds }, callContext),
      );
      const { participant, token, created } = outcome;
      const data = {
        meeting_id: meetingId,
        participant_id: participant.id,
        preset_name: participant.preset_name,
        token,
        created,
      };
      return c.json({ success: true, data }, 200, NO_STORE);
    },
  "add-participant": (route: AnyWriteRoute, context: WriteRouteContext) =>
    async function addParticipant(c: WriteContext) {
      presetsOf(context.config);
      const { meetingId = "" } = c.req.valid("param");
      const wanted = await participantFor(c, route, context.config, meetingId);
      // The SDK's add participant answers a fresh token each call, as the upstream's does: no reuse.
      const { participant, token } = await askParticipants(c, context, meetingId, (stub, callContext) =>
        stub.join({ meetingId, participant: wanted, reuseSeconds: 0 }, callContext),
      );
      return c.json({ success: true, data: { ...participant, token } }, 200, NO_STORE);
    },
  "refresh-participant-token": (route: AnyWriteRoute, context: WriteRouteContext) =>
    async function refreshParticipantToken(c: WriteContext) {
      const presets = presetsOf(context.config);
      const { meetingId = "", participantId = "" } = c.req.valid("param");
      await readJson(c, route.requestBody.key);
      const { token } = await askParticipants(c, context, meetingId, (stub, callContext) =>
        stub.refreshToken({ meetingId, participantId, allowedPresets: allowedPresets(presets) }, callContext),
      );
      return c.json({ success: true, data: { token } }, 200, NO_STORE);
    },
} satisfies Record<
  Extract<Route, { kind: "write" }>["name"],
  (route: AnyWriteRoute, context: WriteRouteContext) => Handler
>;

/** The handlers of one write route: its path params validated, then its handler. */
export function writeHandlers(route: AnyWriteRoute, context: WriteRouteContext): MiddlewareHandler<AppEnv>[] {
  return [validate("param", route.params), WRITE_HANDLERS[route.name](route, context)];
}
