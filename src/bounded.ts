/**
 * @module Reading a body without trusting its size: the upstream's answers, an identity
 * provider's keys, a caller's JSON and a webhook's raw bytes are each read up to a cap,
 * and what passes it is never read further.
 */

/** Anything with a body and headers: a fetch Response or an incoming Request. */
interface HasBody {
  body: ReadableStream<Uint8Array> | null;
  headers: Headers;
}

/** The body's bytes, or `undefined` once they pass `maxBytes` (the rest is never read). */
export async function readBoundedBytes(message: HasBody, maxBytes: number): Promise<Uint8Array | undefined> {
  const declared = Number(message.headers.get("Content-Length"));
  if (declared > maxBytes) {
    await message.body?.cancel();
    return undefined;
  }
  if (!message.body) return new Uint8Array(0);
  const reader = message.body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > maxBytes) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  const whole = new Uint8Array(bytes);
  let offset = 0;
  for (const chunk of chunks) {
    whole.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return whole;
}

/** The body as UTF-8 text, or `undefined` once it passes `maxBytes`. */
export async function readBoundedText(message: HasBody, maxBytes: number): Promise<string | undefined> {
  const bytes = await readBoundedBytes(message, maxBytes);
  return bytes === undefined ? undefined : new TextDecoder().decode(bytes);
}
