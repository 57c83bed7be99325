/**
 * @module The handler of RealtimeKit's webhook: the raw body (at most 1 MiB) is verified
 * against REALTIMEKIT_WEBHOOK_PUBLIC_KEY before anything reads it; a delivery without a
 * valid signature is a 401 that does nothing (and counts against the sender's IP like an
 * unknown key); a valid one goes to the inbox, which drops duplicates and events older
 * than what it knows; an accepted change goes to the change feed after the answer
 * (`waitUntil`), so RealtimeKit is answered at once. Below 500 always, unless the proxy
 * itself failed: RealtimeKit retries only those.
 */

import type { Context } from "hono";
import { quotaKey, RATE_LIMIT_PERIOD_SECONDS } from "../access/quota.ts";
import { readBoundedBytes } from "../bounded.ts";
import type { MeetingChange } from "../changes/feed.ts";
import type { Config, RateLimitBinding } from "../config.ts";
import type { AppEnv } from "../context.ts";
import { sha256Hex } from "../digest.ts";
import { ApiError } from "../errors.ts";
import { logger } from "../log.ts";
import { INBOX_NAME, type InboxVerdict } from "../webhooks/inbox-object.ts";
import { readDelivery } from "../webhooks/payload.ts";
import { UnusableWebhookKey, verifyWebhookSignature } from "../webhooks/signature.ts";

/** RealtimeKit's payloads are a few kilobytes; transcripts and summaries are the largest. */
export const MAX_WEBHOOK_BYTES = 1024 * 1024;
const MAX_DELIVERY_ID_LENGTH = 100;

export interface WebhookContext {
  config: Config;
  inbox: Env["WEBHOOK_INBOX"];
  /** Tells the change feed (and through it the shared tier) of an accepted change. */
  announce: (change: MeetingChange) => Promise<void>;
  /** Deliveries that fail the signature check are counted here, per IP, like unknown keys. */
  limiter: RateLimitBinding;
}

/** A delivery's ids: its `rtk-uuid` (when it has a usable one) and its body's digest. */
async function deliveryIds(c: Context<AppEnv>, body: Uint8Array): Promise<string[]> {
  const uuid = c.req.header("rtk-uuid")?.trim();
  const digest = `d:${await sha256Hex(body)}`;
  return uuid && uuid.length <= MAX_DELIVERY_ID_LENGTH ? [`u:${uuid}`, digest] : [digest];
}

function parseJson(body: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(body));
  } catch {
    throw new ApiError("bad_request", "invalid request: body must be JSON");
  }
}

export function webhookHandler({ config, inbox, announce, limiter }: WebhookContext) {
  const publicKey = config.REALTIMEKIT_WEBHOOK_PUBLIC_KEY;
  const stub = () => inbox.getByName(INBOX_NAME);

  /**
   * A delivery refused before it was read: limited per IP like unknown keys, and counted in
   * the inbox only while its address is within its limit (a flood costs no object write).
   */
  async function refuse(c: Context<AppEnv>, error: ApiError): Promise<never> {
    c.set("webhook", { outcome: "rejected" });
    const { success } = await limiter.limit({ key: quotaKey(undefined, c.req.header("CF-Connecting-IP")) });
    if (!success) {
      throw new ApiError("rate_limited", "rate limit exceeded; retry later", { retryAfter: RATE_LIMIT_PERIOD_SECONDS });
    }
    c.executionCtx.waitUntil(
      stub()
        .rejected()
        .catch(() => undefined),
    );
    throw error;
  }

  async function verified(c: Context<AppEnv>, key: string, body: Uint8Array): Promise<void> {
    let verdict: Awaited<ReturnType<typeof verifyWebhookSignature>>;
    try {
      verdict = await verifyWebhookSignature(key, c.req.header("rtk-signature"), body);
    } catch (error) {
      if (error instanceof UnusableWebhookKey)
        throw new ApiError("misconfigured", `proxy misconfigured: ${error.message}`);
      throw error;
    }
    if (verdict === "missing") {
      await refuse(c, new ApiError("unauthorized", "webhook signature missing: RealtimeKit sends it in rtk-signature"));
    }
    if (verdict === "invalid") await refuse(c, new ApiError("unauthorized", "webhook signature does not verify"));
  }

  return async function receiveWebhook(c: Context<AppEnv>) {
    if (!publicKey) throw new ApiError("not_found", "no such route: webhooks are not configured on this proxy");
    const body = await readBoundedBytes(c.req.raw, MAX_WEBHOOK_BYTES);
    if (!body) await refuse(c, new ApiError("payload_too_large", "the body must be at most 1 MiB"));
    const bytes = body ?? new Uint8Array(0);
    await verified(c, publicKey, bytes);
    c.set("caller", { kind: "realtimekit" });
    const delivery = readDelivery(parseJson(bytes), config.REALTIMEKIT_APP_ID);
    const event = delivery.kind === "change" ? delivery.change.event : undefined;
    let verdict: InboxVerdict;
    try {
      verdict = await stub().receive({ ids: await deliveryIds(c, bytes), delivery });
    } catch {
      // Not acknowledged: RealtimeKit retries a 5xx, and the inbox will see the retry.
      throw new ApiError("inbox_unavailable", "the webhook inbox could not be reached; retry later", {
        retryAfter: 5,
      });
    }
    c.set("webhook", { event, outcome: verdict.outcome });
    if (verdict.outcome === "accepted" && delivery.kind === "change") {
      c.executionCtx.waitUntil(
        announce(delivery.change).catch((error: unknown) =>
          logger.write("error", {
            event: "webhook_change_lost",
            hint: "an accepted change did not reach the change feed: its answers renew at their TTL instead",
            error: error instanceof Error ? error.name : typeof error,
          }),
        ),
      );
    }
    return c.json({ success: true, data: verdict }, 200, { "Cache-Control": "no-store" });
  };
}
