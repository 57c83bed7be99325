/** @module What an API key is: its recognisable prefix and the scopes it may hold (one per proxied route). */

/** Every key made by `npm run key:create` starts so, which makes a leaked key recognisable. */
export const API_KEY_PREFIX = "rkp_";

export const SCOPES = ["active-session:read", "sessions:read", "status:read"] as const;
export type Scope = (typeof SCOPES)[number];
