/**
 * @module The requests a minute a managed key's own `rate_limit` may be. A Rate Limiting
 * binding has one fixed limit, so each tier is a binding of its own (`KEY_RATE_LIMIT_<tier>`
 * in wrangler.toml), all below the deployment's keyed limit (600 a minute).
 */
export const KEY_RATE_TIERS = [10, 30, 60, 120, 300] as const;
export type KeyRateTier = (typeof KEY_RATE_TIERS)[number];
export type KeyRateBinding = `KEY_RATE_LIMIT_${KeyRateTier}`;

/** The binding that limits a key of this tier. */
export function keyRateBinding(tier: KeyRateTier): KeyRateBinding {
  return `KEY_RATE_LIMIT_${tier}`;
}
