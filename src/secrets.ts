/**
 * @module What must never leave the proxy, and the one redaction every outgoing value
 * goes through: error bodies, the request id header and every log line. The secrets
 * are the API token, the API keys (known by their hashes) and, per request, the
 * credential the caller sent.
 */
import { sha256Hex } from "./digest.ts";

const REDACTED = "[redacted]";
/** Shorter values are not treated as secrets: redacting them would mangle ordinary text. */
const MIN_SECRET_LENGTH = 8;

/** A secret as it may appear in text: as is, URL-encoded, or escaped inside a JSON string. */
function formsOf(secret: string): string[] {
  return [...new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)])];
}

/** Percent-encoding undone once; the text itself when it is not valid percent-encoding. */
function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Every string in a JSON text (keys included), as JSON-decoding leaves it and with its percent-encoding undone. */
function decodedStrings(text: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  const strings: string[] = [];
  const visit = (value: unknown): void => {
    if (typeof value === "string") strings.push(value);
    else if (Array.isArray(value)) value.forEach(visit);
    else if (typeof value === "object" && value !== null) {
      for (const [key, inner] of Object.entries(value)) {
        strings.push(key);
        visit(inner);
      }
    }
  };
  visit(parsed);
  // Encoded more than once is still the secret: undo it until nothing changes (bounded).
  return strings.flatMap((value) => {
    const forms = [value];
    for (let round = 0; round < 3; round++) {
      const decoded = percentDecoded(forms[forms.length - 1] ?? value);
      if (decoded === forms[forms.length - 1]) break;
      forms.push(decoded);
    }
    return forms;
  });
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

  /**
   * Whether a JSON text carries a secret: in its raw text, or in any of its strings once
   * decoded (JSON escapes such as `\u002d`, percent-encoding). A success body passes
   * through unchanged, so an exact substring match would let an escaped secret out.
   */
  foundInJson(text: string): boolean {
    if (this.redact(text) !== text) return true;
    return decodedStrings(text).some((value) => this.redact(value) !== value);
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
