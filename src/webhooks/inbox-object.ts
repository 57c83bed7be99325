/**
 * @module Every verified webhook delivery passes through one Durable Object for the
 * deployment (SQLite-backed): it drops duplicates (by `rtk-uuid`, and by the body's
 * digest, since a captured delivery can be replayed under a new `rtk-uuid`), ignores
 * events older than what it knows of the meeting (deliveries may arrive out of order),
 * and counts what it saw for `/status`. It only decides; the changes themselves go to
 * the change feed.
 */
import { DurableObject } from "cloudflare:workers";
import { runtime } from "../runtime.ts";
import type { Delivery } from "./payload.ts";

/**
 * Sightings are kept this long (RealtimeKit does not say how long it retries a delivery:
 * twice the day we want at least), and an event older than this by its own time is
 * ignored: it can only be a replay, since its sighting may be forgotten.
 */
const KEPT_MS = 48 * 3_600_000;
/**
 * An event dated further ahead of the proxy's clock than this is ignored: accepted, it
 * would make every real event of its meeting look older than it, and be ignored for 48 h.
 */
const MAX_AHEAD_MS = 5 * 60_000;
const PURGE_EVERY_MS = 60_000;
/** The one inbox of the deployment: `env.WEBHOOK_INBOX.getByName(INBOX_NAME)`. */
export const INBOX_NAME = "deployment";
const STORED_COUNTS = "counts";
const STORED_LAST_DELIVERY = "last-delivery-at";

export type InboxOutcome = "accepted" | "duplicate" | "ignored";

export interface InboxVerdict {
  outcome: InboxOutcome;
  reason?: string;
}

export interface WebhookCounts {
  accepted: number;
  duplicate: number;
  ignored: number;
  /** Deliveries without a valid signature (401), or over the body cap (413). */
  rejected: number;
}

export interface InboxStatus extends WebhookCounts {
  last_delivery_at: string | null;
}

/** A verified delivery: its ids (`u:` + rtk-uuid, `d:` + the body's SHA-256) and what it says. */
export interface VerifiedDelivery {
  ids: string[];
  delivery: Delivery;
}

const NO_COUNTS: WebhookCounts = { accepted: 0, duplicate: 0, ignored: 0, rejected: 0 };

export class WebhookInboxObject extends DurableObject<Env> {
  #purgedAt = Number.NEGATIVE_INFINITY;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`
      CREATE TABLE IF NOT EXISTS sightings (id TEXT PRIMARY KEY, at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS sightings_by_time ON sightings (at);
      CREATE TABLE IF NOT EXISTS meetings (meeting_id TEXT PRIMARY KEY, event_at INTEGER NOT NULL, at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS meetings_by_time ON meetings (at);
    `);
  }

  receive({ ids, delivery }: VerifiedDelivery): InboxVerdict {
    const now = runtime.now();
    this.#purge(now);
    this.ctx.storage.kv.put(STORED_LAST_DELIVERY, now);
    const verdict = this.#decide(ids, delivery, now);
    this.#count(verdict.outcome);
    return verdict;
  }

  /** A delivery refused before it was read: no valid signature, or too large. */
  rejected(): void {
    this.#count("rejected");
  }

  status(): InboxStatus {
    const lastDelivery = this.ctx.storage.kv.get<number>(STORED_LAST_DELIVERY);
    return {
      ...this.#counts(),
      last_delivery_at: lastDelivery === undefined ? null : new Date(lastDelivery).toISOString(),
    };
  }

  #decide(ids: string[], delivery: Delivery, now: number): InboxVerdict {
    if (this.#seenBefore(ids, now)) return { outcome: "duplicate" };
    if (delivery.kind === "ignored") return { outcome: "ignored", reason: delivery.reason };
    const eventAt = delivery.eventAt ?? now;
    if (eventAt < now - KEPT_MS) return { outcome: "ignored", reason: "the event is older than 48 hours" };
    if (eventAt > now + MAX_AHEAD_MS) {
      return { outcome: "ignored", reason: "the event is dated more than 5 minutes ahead of the proxy's clock" };
    }
    const { meetingId } = delivery.change;
    const known = this.ctx.storage.sql
      .exec<{ event_at: number }>("SELECT event_at FROM meetings WHERE meeting_id = ?", meetingId)
      .toArray()[0];
    if (known && eventAt < known.event_at) {
      return { outcome: "ignored", reason: "the event is older than one already received for this meeting" };
    }
    this.ctx.storage.sql.exec(
      "INSERT INTO meetings (meeting_id, event_at, at) VALUES (?, ?, ?) ON CONFLICT (meeting_id) DO UPDATE SET event_at = excluded.event_at, at = excluded.at",
      meetingId,
      eventAt,
      now,
    );
    return { outcome: "accepted" };
  }

  /** Whether any of the ids was seen before; records them all either way. */
  #seenBefore(ids: string[], now: number): boolean {
    let seen = false;
    for (const id of ids) {
      const found = this.ctx.storage.sql.exec("SELECT 1 FROM sightings WHERE id = ?", id).toArray().length > 0;
      seen ||= found;
      this.ctx.storage.sql.exec("INSERT OR IGNORE INTO sightings (id, at) VALUES (?, ?)", id, now);
    }
    return seen;
  }

  #purge(now: number): void {
    if (now - this.#purgedAt < PURGE_EVERY_MS) return;
    this.#purgedAt = now;
    this.ctx.storage.sql.exec("DELETE FROM sightings WHERE at < ?", now - KEPT_MS);
    this.ctx.storage.sql.exec("DELETE FROM meetings WHERE at < ?", now - KEPT_MS);
  }

  #counts(): WebhookCounts {
    return { ...NO_COUNTS, ...this.ctx.storage.kv.get<WebhookCounts>(STORED_COUNTS) };
  }

  #count(outcome: keyof WebhookCounts): void {
    const counts = this.#counts();
    this.ctx.storage.kv.put(STORED_COUNTS, { ...counts, [outcome]: counts[outcome] + 1 });
  }
}
