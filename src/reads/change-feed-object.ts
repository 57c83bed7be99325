/**
 * @module The change feed as one Durable Object for the deployment (SQLite-backed: the
 * keys it knows survive eviction and deploys): shared-tier keys register what they show,
 * accepted webhooks report meetings' changes, and data centres ask when the last change
 * arrived (while recent, webhooks are arriving and active sessions are pushed).
 */
import { DurableObject } from "cloudflare:workers";
import { ChangeFeed, type ChangeScope, type KeyNotice, type MeetingChange } from "../cache/changes.ts";
import { runtime } from "../runtime.ts";

/** The one name every data centre and key object reaches the feed by. */
const FEED_NAME = "deployment";

export class ChangeFeedObject extends DurableObject<Env> {
  readonly #feed: ChangeFeed;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#feed = new ChangeFeed(ctx.storage.kv, () => runtime.now());
  }

  register(key: string, scope: ChangeScope): boolean {
    return this.#feed.register(key, scope);
  }

  changed(change: MeetingChange): KeyNotice[] {
    return this.#feed.changed(change);
  }

  lastChangeAt(): number | null {
    return this.#feed.lastChangeAt ?? null;
  }
}

export function changeFeedStub(namespace: Env["CHANGE_FEED"]) {
  return namespace.get(namespace.idFromName(FEED_NAME));
}
