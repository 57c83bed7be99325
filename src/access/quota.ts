/**
 * @module What identifies a caller: the API key prefix, and the quota key a caller is
 * counted under (rate limits and the upstream budget alike).
 */
import type { Allowance } from "../budget/gate.ts";
import type { Caller } from "../context.ts";

/**
 * The period of every `[[ratelimits]]` binding in wrangler.toml: a 429 says to retry
 * after it (`npm run check:deploy` fails when a binding's period differs).
 */
export const RATE_LIMIT_PERIOD_SECONDS = 60;

/** Every key made by `npm run key:create` starts so, which makes a leaked key recognisable. */
export const API_KEY_PREFIX = "rkp_";

/**
 * The quota key a request is counted under, for rate limits and the upstream budget: the key
 * id when a valid key was sent, the user's id when a valid user token was, else the client IP; an IPv6 address counts by its /64,
 * since one host usually holds a whole /64. Without `CF-Connecting-IP` (only off
 * Cloudflare's edge, e.g. locally) every such request shares one "unknown" bucket.
 */
export function quotaKey(caller: Caller | undefined, clientIp: string | undefined): string {
  if (caller?.kind === "key") return `key:${caller.id}`;
  if (caller?.kind === "user") return `user:${caller.id}`;
  return `ip:${clientIp ? ipBucket(clientIp.trim()) : "unknown"}`;
}

/** A managed key's own upstream share, when it has one (else the caller spends CALLER_MISS_BUDGET). */
export function callerShareOf(caller: Caller | undefined): Allowance | undefined {
  return caller?.kind === "key" ? (caller.upstreamShare ?? undefined) : undefined;
}

function ipBucket(ip: string): string {
  if (!ip.includes(":")) return ip;
  const [head = "", tail] = ip.toLowerCase().split("::");
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tail ? tail.split(":") : [];
  const missing = tail === undefined ? 0 : 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(Math.max(0, missing)).fill("0"), ...tailGroups];
  const prefix = groups.slice(0, 4).map((group) => (Number.parseInt(group, 16) || 0).toString(16));
  return `${prefix.join(":")}::/64`;
}
