/**
 * @module What a managed key's secret is: `rkp_live_`, then 12 characters that name the
 * key (its id is `key_` and those 12), then 32 random ones, all base62. The id inside lets
 * a request's key be checked by that key's own Durable Object without a lookup table
 * (ids are not secret: lists and logs show them); the 32 random characters (190 bits) are
 * the secret. Only its SHA-256 is ever stored.
 */
import { sha256Hex } from "../digest.ts";

export const MANAGED_KEY_PREFIX = "rkp_live_";
const ID_PREFIX = "key_";
const ID_PART_LENGTH = 12;
const RANDOM_PART_LENGTH = 32;
/** How much of a secret lists show, so people can tell their keys apart. */
const START_LENGTH = 12;
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const MANAGED_SECRET = new RegExp(
  `^${MANAGED_KEY_PREFIX}([0-9A-Za-z]{${ID_PART_LENGTH}})[0-9A-Za-z]{${RANDOM_PART_LENGTH}}$`,
);

/** A managed key's id: `key_` and 12 base62 characters. */
export const MANAGED_KEY_ID = new RegExp(`^${ID_PREFIX}[0-9A-Za-z]{${ID_PART_LENGTH}}$`);

/** `length` base62 characters from Web Crypto's randomness, without modulo bias. */
function randomBase62(length: number): string {
  let text = "";
  while (text.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      // 248 is the largest multiple of 62 within a byte: bytes above it would favour some characters.
      if (byte < 248 && text.length < length) text += BASE62[byte % 62];
    }
  }
  return text;
}

/** A new key id. */
export function newKeyId(): string {
  return `${ID_PREFIX}${randomBase62(ID_PART_LENGTH)}`;
}

/** A new secret for the key: shown once, stored nowhere. */
export function newSecret(keyId: string): string {
  return `${MANAGED_KEY_PREFIX}${keyId.slice(ID_PREFIX.length)}${randomBase62(RANDOM_PART_LENGTH)}`;
}

/** The key id a presented secret names, when it has a managed key's form; else `undefined`. */
export function keyIdOf(secret: string): string | undefined {
  const idPart = MANAGED_SECRET.exec(secret)?.[1];
  return idPart === undefined ? undefined : `${ID_PREFIX}${idPart}`;
}

/** What lists show of a secret. */
export function startOf(secret: string): string {
  return secret.slice(0, START_LENGTH);
}

/** What is stored of a secret, and what a presented one is compared by. */
export function secretHash(secret: string): Promise<string> {
  return sha256Hex(secret);
}
