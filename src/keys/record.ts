/**
 * @module What a managed key is: its record as the key's object keeps it (never the secret,
 * only its SHA-256), what an admin sends to create or change one, the view every answer
 * shows (config keys in the same shape, read-only), and what verifying a secret grants.
 */
import type { Allowance } from "../budget/gate.ts";

/**
 * A key's record crosses Durable Objects' RPC as JSON text: its free-form `meta` is deeper
 * than RPC's types can follow.
 */
export type KeyText = string;

export function encodeKey(key: ManagedKey): KeyText {
  return JSON.stringify(key);
}

export function decodeKey(text: KeyText): ManagedKey {
  return JSON.parse(text) as ManagedKey;
}

/** A managed key as its object keeps it and the directory lists it (no secret, no hash). */
export interface ManagedKey {
  id: string;
  name: string;
  owner: string;
  scopes: string[];
  /** The first characters of its secret, so people can tell their keys apart. */
  start: string;
  created_at: string;
  expires_at: string | null;
  enabled: boolean;
  /** Requests a minute (one of the rate-limit tiers); null: the deployment's default. */
  rate_limit: number | null;
  /** Its upstream share (`<requests>/<seconds>`, in place of CALLER_MISS_BUDGET); null: the default. */
  upstream_share: string | null;
  meta: Record<string, unknown>;
  /** Coarse: written at most once a minute. */
  last_used_at: string | null;
}

/** What an admin gives when creating a key. */
export interface KeyInput {
  name: string;
  owner: string;
  scopes: string[];
  expires_at?: string | null;
  rate_limit?: number | null;
  upstream_share?: string | null;
  meta?: Record<string, unknown>;
  enabled?: boolean;
}

/** What an admin may change of a key. */
export type KeyPatch = Partial<KeyInput>;

/** Every key as answers show it: managed keys, and config keys (from API_KEYS, read-only) in the same shape. */
export type KeyView = ManagedKey & { source: "managed" | "config" };

/** What a valid secret grants a request, as a verifier caches it (plain data: it crosses RPC and the Cache API). */
export interface KeyGrant {
  id: string;
  scopes: string[];
  enabled: boolean;
  /** When it stops working (ms), if ever. */
  expiresAt: number | null;
  rateLimit: number | null;
  upstreamShare: Allowance | null;
}

/** `<requests>/<seconds>` as an allowance. */
export function parseShare(share: string | null): Allowance | null {
  const match = share === null ? null : /^([0-9]+)\/([0-9]+)$/.exec(share);
  return match ? { requests: Number(match[1]), seconds: Number(match[2]) } : null;
}

export function grantOf(key: ManagedKey): KeyGrant {
  return {
    id: key.id,
    scopes: key.scopes,
    enabled: key.enabled,
    expiresAt: key.expires_at === null ? null : Date.parse(key.expires_at),
    rateLimit: key.rate_limit,
    upstreamShare: parseShare(key.upstream_share),
  };
}

/** A config key (API_KEYS) in the shape of a managed one: listed, read-only. */
export function configKeyView(entry: { id: string; scopes: readonly string[] }): KeyView {
  return {
    id: entry.id,
    name: entry.id,
    owner: "",
    scopes: [...entry.scopes],
    start: "",
    created_at: "",
    expires_at: null,
    enabled: true,
    rate_limit: null,
    upstream_share: null,
    meta: {},
    last_used_at: null,
    source: "config",
  };
}

/** A new key's record from an admin's input, at `now`. */
export function newKeyRecord(id: string, start: string, input: KeyInput, now: number): ManagedKey {
  return {
    id,
    name: input.name,
    owner: input.owner,
    scopes: [...new Set(input.scopes)],
    start,
    created_at: new Date(now).toISOString(),
    expires_at: input.expires_at ?? null,
    enabled: input.enabled ?? true,
    rate_limit: input.rate_limit ?? null,
    upstream_share: input.upstream_share ?? null,
    meta: input.meta ?? {},
    last_used_at: null,
  };
}

/** The record with a patch applied; the names of the fields it changed (for the audit line). */
export function patched(key: ManagedKey, patch: KeyPatch): { key: ManagedKey; changed: string[] } {
  const next: ManagedKey = {
    ...key,
    ...(patch.name === undefined ? {} : { name: patch.name }),
    ...(patch.owner === undefined ? {} : { owner: patch.owner }),
    ...(patch.scopes === undefined ? {} : { scopes: [...new Set(patch.scopes)] }),
    ...(patch.expires_at === undefined ? {} : { expires_at: patch.expires_at }),
    ...(patch.rate_limit === undefined ? {} : { rate_limit: patch.rate_limit }),
    ...(patch.upstream_share === undefined ? {} : { upstream_share: patch.upstream_share }),
    ...(patch.meta === undefined ? {} : { meta: patch.meta }),
    ...(patch.enabled === undefined ? {} : { enabled: patch.enabled }),
  };
  const changed = (Object.keys(next) as (keyof ManagedKey)[]).filter(
    (field) => JSON.stringify(next[field]) !== JSON.stringify(key[field]),
  );
  return { key: next, changed };
}
