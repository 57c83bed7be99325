/**
 * @module What must never leave the proxy, and the one redaction every outgoing value
 * goes through: error bodies, the request id header and every log line. The secrets
 * are the API token, the API keys (known by their hashes) and, per request, the
 * credential the caller sent.
 */

const REDACTED = "[redacted]";
/** Shorter values are not treated as secrets: redacting them would mangle ordinary text. */
const MIN_SECRET_LENGTH = 8;

/** A secret as it may appear in text: as is, URL-encoded, or escaped inside a JSON string. */
function formsOf(secret: string): string[] {
  return [...new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)])];
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

export class Secrets {
  readonly #values: string[];
  readonly #keyHashes: ReadonlySet<string>;

  /** @param values secret values (the token); @param keyHashes the hex SHA-256 of every API key */
  constructor(values: readonly string[], keyHashes: readonly string[] = []) {
    this.#values = values.filter((value) => value.length >= MIN_SECRET_LENGTH);
    this.#keyHashes = new Set(keyHashes.map((hash) => hash.toLowerCase()));
  }

  /** These secrets plus more (the caller's credential, for one request). */
  with(values: readonly string[]): Secrets {
    return new Secrets([...this.#values, ...values], [...this.#keyHashes]);
  }

  /** The text with every form of every secret replaced. */
  redact(text: string): string {
    let clean = text;
    for (const secret of this.#values) {
      for (const form of formsOf(secret)) clean = clean.split(form).join(REDACTED);
    }
    return clean;
  }

  /** Whether the text holds a secret, or is itself one of the configured API keys. */
  async exposes(text: string): Promise<boolean> {
    if (this.redact(text) !== text) return true;
    return this.#keyHashes.size > 0 && this.#keyHashes.has(await sha256Hex(text));
  }
}

/** The credential a caller sent in `Authorization`: theirs, but never to be echoed or logged either. */
export function credentialOf(authorization: string | undefined): string[] {
  const credential = authorization?.replace(/^\S+\s+/, "").trim();
  return credential ? [credential] : [];
}
