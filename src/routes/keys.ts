/**
 * @module The handlers of the keys API (a key with `keys:admin`; a key may read its own
 * usage): create, list, read, change, roll and revoke managed keys, and any key's usage.
 * Every answer is `no-store`: the ones that carry a secret above all. Off (KEYS_ADMIN=off),
 * these routes do not exist.
 */
import type { Context, Handler } from "hono";
import type { Config } from "../config.ts";
import type { AppEnv } from "../context.ts";
import { ApiError } from "../errors.ts";
import type { KeyInput, KeyPatch } from "../keys/record.ts";
import type { UsageReporting } from "../keys/reporting.ts";
import type { KeyStore } from "../keys/store.ts";
import type { UsageWindow } from "../keys/usage.ts";
import { runtime } from "../runtime.ts";
import type { Route } from "./table.ts";

const NO_STORE = { "Cache-Control": "no-store" };
const DEFAULT_KEYS_PER_PAGE = 50;

export interface KeyRouteContext {
  config: Config;
  keys: KeyStore;
  usage: UsageReporting;
}

type KeysContext = Context<AppEnv, string, { out: { param: { keyId: string }; query: Record<string, unknown> } }>;

/** The admin's (or the key's own) id, for the audit line. */
function by(c: Context<AppEnv>): string {
  const caller = c.get("caller");
  return caller.kind === "key" ? caller.id : "unknown";
}

/** An expiry must lie ahead: a key created or changed to be expired already is a mistake. */
function refusePastExpiry(body: { expires_at?: string | null }): void {
  if (body.expires_at && Date.parse(body.expires_at) <= runtime.now()) {
    const message = "must be in the future";
    throw new ApiError("bad_request", `invalid request: expires_at ${message}`, {
      issues: [{ path: "expires_at", message }],
    });
  }
}

/** The handler, once the keys API is known to be on. */
function whenOn(config: Config, handler: (c: KeysContext) => Promise<Response>): Handler<AppEnv> {
  return function keysApi(c) {
    if (config.KEYS_ADMIN === "off") {
      throw new ApiError("not_found", "no such route: the keys API is off on this proxy (KEYS_ADMIN)");
    }
    return handler(c as KeysContext);
  };
}

/** One handler per route of the keys API. */
export const KEY_HANDLERS = {
  "create-key": ({ config, keys }: KeyRouteContext) =>
    whenOn(config, async (c) => {
      const body = c.get("body") as KeyInput;
      refusePastExpiry(body);
      const { key, secret } = await keys.create(body, by(c));
      return c.json({ success: true, data: { ...key, secret } }, 200, NO_STORE);
    }),
  keys: ({ config, keys }: KeyRouteContext) =>
    whenOn(config, async (c) => {
      const { page_no: pageNo = 1, per_page: perPage = DEFAULT_KEYS_PER_PAGE } = c.req.valid("query") as {
        page_no?: number;
        per_page?: number;
      };
      const { keys: listed, paging } = await keys.list(pageNo, perPage);
      return c.json({ success: true, data: { keys: listed }, paging }, 200, NO_STORE);
    }),
  key: ({ config, keys }: KeyRouteContext) =>
    whenOn(config, async (c) =>
      c.json({ success: true, data: await keys.get(c.req.valid("param").keyId) }, 200, NO_STORE),
    ),
  "update-key": ({ config, keys }: KeyRouteContext) =>
    whenOn(config, async (c) => {
      const body = c.get("body") as KeyPatch;
      refusePastExpiry(body);
      const key = await keys.update(c.req.valid("param").keyId, body, by(c));
      return c.json({ success: true, data: key }, 200, NO_STORE);
    }),
  "roll-key": ({ config, keys }: KeyRouteContext) =>
    whenOn(config, async (c) => {
      const { grace_seconds: grace = 0 } = c.get("body") as { grace_seconds?: number };
      const { key, secret } = await keys.roll(c.req.valid("param").keyId, grace, by(c));
      return c.json({ success: true, data: { ...key, secret } }, 200, NO_STORE);
    }),
  "key-usage": ({ config, keys, usage }: KeyRouteContext) =>
    whenOn(config, async (c) => {
      const { keyId } = c.req.valid("param");
      const { window = "24h" } = c.req.valid("query") as { window?: UsageWindow };
      const source = config.API_KEYS.some((entry) => entry.id === keyId) ? "config" : "managed";
      // This isolate's counts first, so the answer holds every request it saw.
      await usage.send({ source, id: keyId });
      return c.json({ success: true, data: await keys.usage(keyId, window) }, 200, NO_STORE);
    }),
  "revoke-key": ({ config, keys }: KeyRouteContext) =>
    whenOn(config, async (c) => {
      const { keyId } = c.req.valid("param");
      await keys.revoke(keyId, by(c));
      return c.json({ success: true, data: { id: keyId, revoked: true } }, 200, NO_STORE);
    }),
} satisfies Partial<Record<Extract<Route, { kind: "builtin" }>["name"], (context: KeyRouteContext) => Handler<AppEnv>>>;
