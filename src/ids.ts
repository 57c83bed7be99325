/**
 * @module Meeting and session ids: what the upstream accepts, and the one canonical form
 * of a UUID. Kept apart so validation, the upstream request and the live index share it.
 */

/** A UUID, any version, any case. */
export const UUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;

/** A UUID (V2 meetings) or a V1 room name, in one pattern so the OpenAPI document shows it. */
export const MEETING_ID =
  /^(?:[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|[a-z]{6}-[a-z]{6})$/;

/**
 * A UUID is one value in any case (RFC 9562): canonicalised to lower case before
 * anything else sees it, so the cache key, the forwarded path, the index look-up and a
 * join all treat `ABC…` and `abc…` as one. Room names are lower case already.
 */
export function canonicalId(id: string): string {
  return UUID.test(id) ? id.toLowerCase() : id;
}
