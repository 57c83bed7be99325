/**
 * @module RealtimeKit's webhook signature: base64 RSA-SHA256 (PKCS#1 v1.5) over the raw
 * body, in `rtk-signature`, checked against the PEM public key RealtimeKit publishes.
 * Hono's JWS helper does the work (it imports the PEM as SPKI and verifies with Web
 * Crypto); nothing here parses a key or a signature by hand.
 */
import { decodeBase64 } from "hono/utils/encode";
import { verifying } from "hono/utils/jwt/jws";

/** A signature of an RSA key up to 8192 bits is at most 1,024 bytes (1,368 in base64). */
const MAX_SIGNATURE_LENGTH = 1_400;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export type SignatureVerdict = "valid" | "missing" | "invalid";

/** The key could not be used: the configured PEM is not an RSA public key (the proxy's fault, not the sender's). */
export class UnusableWebhookKey extends Error {
  constructor() {
    super("REALTIMEKIT_WEBHOOK_PUBLIC_KEY is not an RSA public key in PEM (SPKI) form");
    this.name = "UnusableWebhookKey";
  }
}

/** Whether `signature` signs exactly these bytes with the key; throws UnusableWebhookKey when the key is unusable. */
export async function verifyWebhookSignature(
  publicKeyPem: string,
  signature: string | undefined,
  body: Uint8Array,
): Promise<SignatureVerdict> {
  if (signature === undefined || signature.trim() === "") return "missing";
  const encoded = signature.trim();
  if (encoded.length > MAX_SIGNATURE_LENGTH || !BASE64.test(encoded)) return "invalid";
  let bytes: Uint8Array;
  try {
    bytes = decodeBase64(encoded);
  } catch {
    return "invalid";
  }
  try {
    return (await verifying(publicKeyPem, "RS256", bytes, body)) ? "valid" : "invalid";
  } catch {
    // The signature is well-formed base64, so only the key can make verifying throw.
    throw new UnusableWebhookKey();
  }
}
