/**
 * @module Fields of the upstream's answers the proxy never passes on: a meeting's recording
 * and AI settings hold storage credentials and stream keys, which stay with whoever holds
 * the Cloudflare token (a key that may read or change meetings may not set them either).
 * Dropped before an answer is stored or sent, so no cache tier ever holds them.
 */

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The success envelope without `fields` in its `data`: the object itself, or each object of a list. */
export function withoutFields(body: string, fields: readonly string[]): string {
  if (fields.length === 0) return body;
  const parsed: unknown = JSON.parse(body);
  if (!isRecord(parsed)) return body;
  const strip = (item: unknown) =>
    isRecord(item) ? Object.fromEntries(Object.entries(item).filter(([name]) => !fields.includes(name))) : item;
  const data = Array.isArray(parsed.data) ? parsed.data.map(strip) : strip(parsed.data);
  return JSON.stringify({ ...parsed, data });
}
