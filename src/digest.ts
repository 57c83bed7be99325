/**
 * @module SHA-256 in hex, the one digest the proxy takes: API keys' hashes, ETags, users'
 * ids and webhook deliveries' ids. Hono's helper does the work with Web Crypto.
 */
import { sha256 } from "hono/utils/crypto";

/** The hex SHA-256 of the text's UTF-8 bytes, or of the bytes. */
export async function sha256Hex(data: string | Uint8Array): Promise<string> {
  const hex = await sha256(data);
  // Hono answers null only where Web Crypto is missing, which no Worker runtime is.
  if (hex === null) throw new Error("Web Crypto is not available to hash with");
  return hex;
}
