/**
 * @module API keys for `npm start` and the tests only: published here on purpose, so
 * they must never be put in a deployment's API_KEYS. Make real keys with
 * `npm run key:create`.
 */
import { SCOPES } from "../src/routes/table.ts";

/** Holds every scope. */
export const LOCAL_API_KEY = "rkp_local_only_every_scope_never_deploy_this_key";
/** Holds only active-session:read. */
export const LOCAL_NARROW_API_KEY = "rkp_local_only_active_session_scope_never_deploy";

/** Keys made with `npm run key:create -- ... --local`: `npm start` adds them to the two above. */
export const LOCAL_KEYS_FILE = ".local-api-keys.json";

/** The API_KEYS entries for the two keys above (a test checks the hashes). */
export const LOCAL_API_KEYS = [
  {
    id: "local-every-scope",
    sha256: "d5f69cbb785e2add9678d1f119410f1c9c37c645f3cfc97396f4fee3d0f0783d",
    // Every scope of the route table: a new route's scope is in it at once.
    scopes: [...SCOPES],
  },
  {
    id: "local-active-session-only",
    sha256: "607b01ac10933c4c42f8b124ca5ce82aa61c2edd193d0ec6ac31144f559eff77",
    scopes: ["active-session:read"],
  },
];
