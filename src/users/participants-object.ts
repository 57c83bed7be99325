/**
 * @module The participants of one meeting as a Durable Object (named by the canonical
 * meeting id): MeetingParticipants over the object's SQLite-backed storage, calling the
 * upstream through the deployment's budget gate. It holds the token (a secret of its own
 * env); what to do, and for whom, comes with each request. Tokens cross back to the
 * Worker in the answer only: never stored, never logged.
 */
import { DurableObject } from "cloudflare:workers";
import { secretsOf } from "../config.ts";
import { ApiError, type Failure, toFailure } from "../errors.ts";
import { upstreamGateway } from "../upstream/gateway.ts";
import { newTrace, type UpstreamTrace } from "../upstream/http.ts";
import { participantCalls } from "../upstream/participants.ts";
import type { UpstreamSettings } from "../upstream/request.ts";
import { type JoinOutcome, type JoinRequest, MeetingParticipants } from "./participants.ts";

/** Whose call it is and how to reach the upstream. Plain data: it crosses an RPC boundary. */
interface CallContext {
  settings: UpstreamSettings;
  /** `user:<id>` or `key:<id>`: whose share of the budget the calls count against. */
  quotaKey: string;
}

export type ParticipantsResult<T> =
  | { ok: true; value: T; trace: UpstreamTrace }
  | { ok: false; failure: Failure; trace: UpstreamTrace };

export class MeetingParticipantsObject extends DurableObject<Env> {
  readonly #participants: MeetingParticipants;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#participants = new MeetingParticipants(ctx.storage.kv);
  }

  join(request: JoinRequest & CallContext): Promise<ParticipantsResult<JoinOutcome>> {
    return this.#run(request, (calls) => this.#participants.join(request, calls));
  }

  refreshToken(
    request: CallContext & { meetingId: string; participantId: string; allowedPresets: string[] },
  ): Promise<ParticipantsResult<string>> {
    return this.#run(request, (calls) =>
      this.#participants.refreshToken(request.meetingId, request.participantId, request.allowedPresets, calls),
    );
  }

  async #run<T>(
    context: CallContext,
    work: (calls: ReturnType<typeof participantCalls>) => Promise<T>,
  ): Promise<ParticipantsResult<T>> {
    const trace = newTrace();
    const [token] = secretsOf(this.env);
    if (!token) {
      const failure = toFailure(new ApiError("misconfigured", "proxy misconfigured: CLOUDFLARE_API_TOKEN is required"));
      return { ok: false, failure, trace };
    }
    const calls = participantCalls({
      gateway: upstreamGateway(token, this.env.BUDGET_GATE),
      settings: context.settings,
      quotaKey: context.quotaKey,
      trace,
    });
    try {
      return { ok: true, value: await work(calls), trace };
    } catch (error) {
      return { ok: false, failure: toFailure(error), trace };
    }
  }
}
