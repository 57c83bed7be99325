/**
 * @module A create with an `Idempotency-Key`, as one Durable Object per caller and key
 * (named by a hash of both: `env.IDEMPOTENCY.getByName(name)`): it makes the upstream call
 * once, keeps the outcome 24 hours (an alarm forgets it), answers repeats with it, makes a
 * concurrent repeat wait for the first, and refuses the key with another body.
 */
import { DurableObject } from "cloudflare:workers";
import { secretsOf } from "../config.ts";
import { ApiError, toFailure } from "../errors.ts";
import { runtime } from "../runtime.ts";
import { upstreamGateway } from "../upstream/gateway.ts";
import { newTrace, type UpstreamTrace } from "../upstream/http.ts";
import { type ForwardedCall, forwardWrite, type WriteContext } from "./forward.ts";
import { type IdempotentResult, IdempotentWrite } from "./idempotency.ts";

export class IdempotencyObject extends DurableObject<Env> {
  readonly #write: IdempotentWrite;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#write = new IdempotentWrite(ctx.storage.kv, () => runtime.now());
  }

  async create(
    bodyHash: string,
    call: ForwardedCall,
    context: WriteContext,
  ): Promise<{ result: IdempotentResult; trace: UpstreamTrace }> {
    let trace = newTrace();
    const [token] = secretsOf(this.env);
    const result = await this.#write.run(bodyHash, async () => {
      if (!token) {
        const failure = toFailure(
          new ApiError("misconfigured", "proxy misconfigured: CLOUDFLARE_API_TOKEN is required"),
        );
        return { status: failure.status, body: failure.message, failure, reachedUpstream: false };
      }
      const done = await forwardWrite(upstreamGateway(token, this.env.BUDGET_GATE), context, call);
      trace = done.trace;
      return done.outcome;
    });
    // Only a first outcome is newly kept: a repeat or a conflict leaves the alarm as it was.
    if (result.kind === "first") await this.#forgetWhenExpired();
    return { result, trace };
  }

  /** 24 hours on, the key is forgotten: a later request with it is a first one again. */
  override async alarm(): Promise<void> {
    const expiresAt = this.#write.expiresAt();
    if (expiresAt === undefined || expiresAt <= runtime.now()) await this.ctx.storage.deleteAll();
    else await this.#forgetWhenExpired();
  }

  /**
   * An alarm when the kept outcome expires. The outcome is dated by the proxy's clock, the
   * alarm by the platform's: it is set for the time left, so the two need not agree.
   */
  async #forgetWhenExpired(): Promise<void> {
    const expiresAt = this.#write.expiresAt();
    if (expiresAt === undefined) return;
    await this.ctx.storage.setAlarm(Date.now() + Math.max(0, expiresAt - runtime.now()));
  }
}
