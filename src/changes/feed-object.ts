/**
 * @module The change feed as one Durable Object for the deployment (SQLite-backed: the
 * entries it knows survive eviction and deploys): shared-tier entries register what they
 * cover, accepted webhooks report meetings' changes, and data centres ask when the last
 * change arrived (while recent, webhooks are arriving and active sessions are pushed).
 * Every caller reaches it as `env.CHANGE_FEED.getByName(CHANGE_FEED_NAME)`.
 */
import { DurableObject } from "cloudflare:workers";
import { runtime } from "../runtime.ts";
import { ChangeFeed, type Coverage, type EntryNotice, type MeetingChange } from "./feed.ts";

/** The one name every data centre and shared-tier entry reaches the feed by. */
export const CHANGE_FEED_NAME = "deployment";

export class ChangeFeedObject extends DurableObject<Env> {
  readonly #feed: ChangeFeed;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#feed = new ChangeFeed(ctx.storage.kv, () => runtime.now());
  }

  register(cacheKey: string, coverage: Coverage): boolean {
    return this.#feed.register(cacheKey, coverage);
  }

  changed(change: MeetingChange): EntryNotice[] {
    return this.#feed.changed(change);
  }

  lastChangeAt(): number | null {
    return this.#feed.lastChangeAt ?? null;
  }
}
