/**
 * @module The directory of managed keys: one Durable Object for the deployment
 * (`env.KEY_DIRECTORY.getByName(KEY_DIRECTORY_NAME)`, SQLite-backed) that lists them for
 * admins. It is written on every change an admin makes and read only to list: no request
 * of a caller ever reaches it (each key's own object checks that key).
 */
import { DurableObject } from "cloudflare:workers";
import { decodeKey, type KeyText } from "./record.ts";

export const KEY_DIRECTORY_NAME = "deployment";

/** A page of keys: each record as JSON text (a key's free-form meta is deeper than RPC types go), and how many there are. */
export interface KeyPage {
  records: string[];
  total: number;
}

export class KeyDirectoryObject extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`
      CREATE TABLE IF NOT EXISTS keys (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, record TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS keys_by_creation ON keys (created_at, id);
    `);
  }

  upsert(text: KeyText): void {
    const key = decodeKey(text);
    this.ctx.storage.sql.exec(
      "INSERT INTO keys (id, created_at, record) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET record = excluded.record",
      key.id,
      key.created_at,
      text,
    );
  }

  remove(id: string): void {
    this.ctx.storage.sql.exec("DELETE FROM keys WHERE id = ?", id);
  }

  /** A page of keys, newest first (page 1 is the first). */
  list(pageNo: number, perPage: number): KeyPage {
    const total = this.ctx.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM keys").one().n;
    const records = this.ctx.storage.sql
      .exec<{ record: string }>(
        "SELECT record FROM keys ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
        perPage,
        (Math.max(1, pageNo) - 1) * perPage,
      )
      .toArray()
      .map(({ record }) => record);
    return { records, total };
  }
}
