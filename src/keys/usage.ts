/**
 * @module Usage per key, counted in each isolate and kept by each key's object: requests by
 * route and status, cache hits and upstream calls, in 5-minute buckets for 7 days. An
 * isolate sends a key's counts to its object at most once a minute (and at once when that
 * key's usage is asked for), so the object's load grows with isolates, not with requests.
 * Pure: the counter, the buckets and the summary; the key's object stores them.
 */

/** The resolution of usage: a window's edges are rounded to it. */
export const USAGE_BUCKET_MS = 5 * 60_000;
/** Usage is kept this long (the longest window asked for). */
export const USAGE_KEPT_MS = 7 * 24 * 3_600_000;
/** An isolate sends a key's counts at most this often. */
export const USAGE_FLUSH_MS = 60_000;

export const USAGE_WINDOWS = { "1h": 3_600_000, "24h": 86_400_000, "7d": 7 * 86_400_000 } as const;
export type UsageWindow = keyof typeof USAGE_WINDOWS;

/** One request of a key, as the request's log line sees it. */
export interface UsageEvent {
  route: string;
  status: number;
  cacheHit: boolean;
  upstreamCalls: number;
}

/** The counts of one bucket, route and status. */
export interface UsageRow {
  bucket: number;
  route: string;
  status: number;
  requests: number;
  cacheHits: number;
  upstreamCalls: number;
}

/** What an isolate sends a key's object: its counts since the last time, and the last use. */
export interface UsageBatch {
  rows: UsageRow[];
  lastUsedAt: number;
}

export interface UsageSummary {
  window: UsageWindow;
  from: string;
  to: string;
  requests: number;
  /** By route, then by status: `{"sessions": {"total": 12, "by_status": {"200": 11, "404": 1}}}`. */
  by_route: Record<string, { total: number; by_status: Record<string, number> }>;
  cache_hits: number;
  upstream_calls: number;
  last_used_at: string | null;
}

interface Pending {
  rows: Map<string, UsageRow>;
  lastUsedAt: number;
  /** When this isolate last sent the key's counts (or began counting them). */
  sentAt: number;
}

export function bucketOf(at: number): number {
  return at - (at % USAGE_BUCKET_MS);
}

/** One isolate's counts, per key, until they are sent. */
export class UsageCounter {
  readonly #pending = new Map<string, Pending>();

  /** Counts one request; true when the key's counts are due to be sent (a minute since the last time). */
  count(keyId: string, event: UsageEvent, now: number): boolean {
    const pending = this.#pending.get(keyId) ?? { rows: new Map(), lastUsedAt: now, sentAt: now };
    this.#pending.set(keyId, pending);
    const bucket = bucketOf(now);
    const slot = `${bucket}|${event.route}|${event.status}`;
    const row = pending.rows.get(slot) ?? { bucket, route: event.route, status: event.status, ...ZERO };
    row.requests += 1;
    row.cacheHits += event.cacheHit ? 1 : 0;
    row.upstreamCalls += event.upstreamCalls;
    pending.rows.set(slot, row);
    pending.lastUsedAt = now;
    return now - pending.sentAt >= USAGE_FLUSH_MS;
  }

  /** The key's counts to send now (nothing counted: none), forgotten here. */
  take(keyId: string, now: number): UsageBatch | undefined {
    const pending = this.#pending.get(keyId);
    if (!pending || pending.rows.size === 0) return undefined;
    this.#pending.set(keyId, { rows: new Map(), lastUsedAt: pending.lastUsedAt, sentAt: now });
    return { rows: [...pending.rows.values()], lastUsedAt: pending.lastUsedAt };
  }

  /** Counts that could not be sent, kept for the next time. */
  restore(keyId: string, batch: UsageBatch): void {
    const pending = this.#pending.get(keyId) ?? { rows: new Map(), lastUsedAt: batch.lastUsedAt, sentAt: 0 };
    for (const row of batch.rows) {
      const slot = `${row.bucket}|${row.route}|${row.status}`;
      const kept = pending.rows.get(slot) ?? { ...row, ...ZERO };
      kept.requests += row.requests;
      kept.cacheHits += row.cacheHits;
      kept.upstreamCalls += row.upstreamCalls;
      pending.rows.set(slot, kept);
    }
    this.#pending.set(keyId, pending);
  }
}

const ZERO = { requests: 0, cacheHits: 0, upstreamCalls: 0 };

/** The summary of a window's rows (those of buckets from `now - window`, rounded down to a bucket). */
export function summarize(rows: readonly UsageRow[], window: UsageWindow, lastUsedAt: number | null, now: number) {
  const from = bucketOf(now - USAGE_WINDOWS[window]);
  const summary: UsageSummary = {
    window,
    from: new Date(from).toISOString(),
    to: new Date(now).toISOString(),
    requests: 0,
    by_route: {},
    cache_hits: 0,
    upstream_calls: 0,
    last_used_at: lastUsedAt === null ? null : new Date(lastUsedAt).toISOString(),
  };
  for (const row of rows) {
    if (row.bucket < from) continue;
    summary.requests += row.requests;
    summary.cache_hits += row.cacheHits;
    summary.upstream_calls += row.upstreamCalls;
    const route = summary.by_route[row.route] ?? { total: 0, by_status: {} };
    summary.by_route[row.route] = route;
    route.total += row.requests;
    route.by_status[String(row.status)] = (route.by_status[String(row.status)] ?? 0) + row.requests;
  }
  return summary;
}
