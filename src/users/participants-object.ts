/**
 * @module The participants of one meeting as a Durable Object (named by the canonical
 * meeting id: `env.MEETING_PARTICIPANTS.getByName(meetingId)`): MeetingParticipants over the
 * object's SQLite-backed storage, calling the upstream through the deployment's budget
 * gate. It holds the API token (a secret of its own env); what to do, and for whom, comes
 * with each request. Participant tokens cross back to the Worker in the answer, and are
 * kept in this object's storage only (to hand out again to the same person): never logged.
 */
import { DurableObject } from "cloudflare:workers";
import type { Allowance } from "../budget/gate.ts";
import { secretsOf } from "../config.ts";
import { ApiError, type Failure, toFailure } from "../errors.ts";
import { runtime } from "../runtime.ts";
import { upstreamGateway } from "../upstream/gateway.ts";
import { newTrace, type UpstreamTrace } from "../upstream/http.ts";
import { type ParticipantCalls, participantCalls } from "../upstream/participants.ts";
import type { UpstreamSettings } from "../upstream/request.ts";
import { type JoinOutcome, type JoinRequest, MeetingParticipants, type ParticipantRecord } from "./participants.ts";

/** Whose call it is and how to reach the upstream. Plain data: it crosses an RPC boundary, and none of it goes upstream. */
export interface CallContext {
  settings: UpstreamSettings;
  /** `user:<id>` or `key:<id>`: whose share of the budget the calls count against. */
  quotaKey: string;
  /** A managed key's own upstream share, in place of CALLER_MISS_BUDGET. */
  callerShare?: Allowance;
}

export type ParticipantsResult<T> =
  | { ok: true; value: T; trace: UpstreamTrace }
  | { ok: false; failure: Failure; trace: UpstreamTrace };

export class MeetingParticipantsObject extends DurableObject<Env> {
  readonly #participants: MeetingParticipants;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#participants = new MeetingParticipants(ctx.storage.kv, () => runtime.now());
  }

  join(request: JoinRequest, context: CallContext): Promise<ParticipantsResult<JoinOutcome>> {
    return this.#run(context, (callsFor) => this.#participants.join(request, callsFor));
  }

  refreshToken(
    request: { meetingId: string; participantId: string; allowedPresets: string[] },
    context: CallContext,
  ): Promise<ParticipantsResult<{ participant: ParticipantRecord; token: string }>> {
    return this.#run(context, (callsFor) =>
      this.#participants.refreshToken(
        request.meetingId,
        request.participantId,
        request.allowedPresets,
        callsFor(false),
      ),
    );
  }

  /** The meeting exists upstream (it was created through the proxy): its first joins are not probes. */
  markKnown(): void {
    this.#participants.markKnown();
  }

  async #run<T>(
    context: CallContext,
    work: (callsFor: (probe: boolean) => ParticipantCalls) => Promise<T>,
  ): Promise<ParticipantsResult<T>> {
    const trace = newTrace();
    const [token] = secretsOf(this.env);
    if (!token) {
      const failure = toFailure(new ApiError("misconfigured", "proxy misconfigured: CLOUDFLARE_API_TOKEN is required"));
      return { ok: false, failure, trace };
    }
    const gateway = upstreamGateway(token, this.env.BUDGET_GATE);
    const callsFor = (probe: boolean) => participantCalls({ gateway, ...context, probe, trace });
    try {
      return { ok: true, value: await work(callsFor), trace };
    } catch (error) {
      return { ok: false, failure: toFailure(error), trace };
    }
  }
}
