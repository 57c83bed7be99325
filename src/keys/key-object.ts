/**
 * @module One managed key as one Durable Object (SQLite-backed), named by its id
 * (`env.KEY_STORE.getByName(id)`): its record, the SHA-256 of its secret (and, while a roll's
 * grace lasts, of the one before), and its usage. A request's key is checked here only
 * when no cache in its data centre knows it, so the object's load grows with data centres
 * and isolates, never with requests. A config key's usage is kept in an object of its own
 * name (`config:<id>`), which holds nothing else.
 */
import { DurableObject } from "cloudflare:workers";
import { runtime } from "../runtime.ts";
import { decodeKey, encodeKey, grantOf, type KeyGrant, type KeyText, type ManagedKey } from "./record.ts";
import { summarize, USAGE_KEPT_MS, type UsageBatch, type UsageRow, type UsageWindow } from "./usage.ts";

/** A secret's hash, and until when it opens the key (null: until the key is rolled or revoked). */
interface StoredHash {
  hash: string;
  until: number | null;
}

/** What checking a presented secret's hash found. */
export type KeyVerdict = { status: "valid"; grant: KeyGrant } | { status: "unknown" };

const STORED_KEY = "key";
const STORED_HASHES = "hashes";
const STORED_LAST_USED = "last-used-at";

/** The name of the object keeping a key's usage: the key's own, or `config:<id>` for a config key. */
export function usageObjectName(source: "managed" | "config", id: string): string {
  return source === "managed" ? id : `config:${id}`;
}

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
}

export class ManagedKeyObject extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`
      CREATE TABLE IF NOT EXISTS usage (
        bucket INTEGER NOT NULL, route TEXT NOT NULL, status INTEGER NOT NULL,
        requests INTEGER NOT NULL, cache_hits INTEGER NOT NULL, upstream_calls INTEGER NOT NULL,
        PRIMARY KEY (bucket, route, status)
      );
    `);
  }

  /** Keeps a new key; false when this id already holds one (ids are random: never in practice). */
  create(text: KeyText, hash: string): boolean {
    if (this.#key()) return false;
    this.ctx.storage.kv.put(STORED_KEY, decodeKey(text));
    this.ctx.storage.kv.put<StoredHash[]>(STORED_HASHES, [{ hash, until: null }]);
    return true;
  }

  /**
   * What a presented secret's hash opens: compared with each live hash in constant time
   * (a lookup by the key's id, so there are one or two to compare, never a search).
   */
  verify(hash: string): KeyVerdict {
    const key = this.#key();
    if (!key) return { status: "unknown" };
    const presented = hexBytes(hash);
    let matched = false;
    for (const stored of this.#liveHashes()) {
      const candidate = hexBytes(stored.hash);
      if (candidate.byteLength === presented.byteLength && crypto.subtle.timingSafeEqual(candidate, presented)) {
        matched = true;
      }
    }
    return matched ? { status: "valid", grant: grantOf(this.#withLastUse(key)) } : { status: "unknown" };
  }

  get(): KeyText | null {
    const key = this.#key();
    return key ? encodeKey(this.#withLastUse(key)) : null;
  }

  /** Replaces the record (the store computed it); null when there is no key. */
  put(text: KeyText): KeyText | null {
    if (!this.#key()) return null;
    const key = decodeKey(text);
    this.ctx.storage.kv.put(STORED_KEY, key);
    return encodeKey(this.#withLastUse(key));
  }

  /** A new secret's hash; the old ones keep working for `graceSeconds`. Null when there is no key. */
  roll(hash: string, start: string, graceSeconds: number): KeyText | null {
    const key = this.#key();
    if (!key) return null;
    const now = runtime.now();
    const graceUntil = now + graceSeconds * 1000;
    const kept = this.#liveHashes()
      .map((stored) => ({ hash: stored.hash, until: Math.min(stored.until ?? graceUntil, graceUntil) }))
      .filter((stored) => stored.until > now);
    this.ctx.storage.kv.put<StoredHash[]>(STORED_HASHES, [{ hash, until: null }, ...kept]);
    const rolled = { ...key, start };
    this.ctx.storage.kv.put(STORED_KEY, rolled);
    return encodeKey(this.#withLastUse(rolled));
  }

  /** Revoked: gone for good, usage included. False when there was no key. */
  async revoke(): Promise<boolean> {
    if (!this.#key()) return false;
    await this.ctx.storage.deleteAll();
    return true;
  }

  /** An isolate's counts for this key, added to what is kept; usage older than 7 days is dropped. */
  record({ rows, lastUsedAt }: UsageBatch): void {
    for (const row of rows) {
      this.ctx.storage.sql.exec(
        `INSERT INTO usage (bucket, route, status, requests, cache_hits, upstream_calls) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (bucket, route, status) DO UPDATE SET requests = requests + excluded.requests,
           cache_hits = cache_hits + excluded.cache_hits, upstream_calls = upstream_calls + excluded.upstream_calls`,
        row.bucket,
        row.route,
        row.status,
        row.requests,
        row.cacheHits,
        row.upstreamCalls,
      );
    }
    const known = this.ctx.storage.kv.get<number>(STORED_LAST_USED) ?? 0;
    if (lastUsedAt > known) this.ctx.storage.kv.put(STORED_LAST_USED, lastUsedAt);
    this.ctx.storage.sql.exec("DELETE FROM usage WHERE bucket < ?", runtime.now() - USAGE_KEPT_MS);
  }

  usage(window: UsageWindow) {
    const rows = this.ctx.storage.sql
      .exec<{
        bucket: number;
        route: string;
        status: number;
        requests: number;
        cache_hits: number;
        upstream_calls: number;
      }>("SELECT bucket, route, status, requests, cache_hits, upstream_calls FROM usage")
      .toArray()
      .map(
        (row): UsageRow => ({
          bucket: row.bucket,
          route: row.route,
          status: row.status,
          requests: row.requests,
          cacheHits: row.cache_hits,
          upstreamCalls: row.upstream_calls,
        }),
      );
    return summarize(rows, window, this.ctx.storage.kv.get<number>(STORED_LAST_USED) ?? null, runtime.now());
  }

  #key(): ManagedKey | undefined {
    return this.ctx.storage.kv.get<ManagedKey>(STORED_KEY);
  }

  #liveHashes(): StoredHash[] {
    const now = runtime.now();
    return (this.ctx.storage.kv.get<StoredHash[]>(STORED_HASHES) ?? []).filter(
      (stored) => stored.until === null || stored.until > now,
    );
  }

  #withLastUse(key: ManagedKey): ManagedKey {
    const lastUsedAt = this.ctx.storage.kv.get<number>(STORED_LAST_USED);
    return lastUsedAt === undefined ? key : { ...key, last_used_at: new Date(lastUsedAt).toISOString() };
  }
}
