/**
 * @module `npm run key:create -- <id> <scope>...`: prints a new random API key and the
 * entry to add to the API_KEYS secret. Only the key's SHA-256 goes into API_KEYS; the
 * key itself is shown once, here, and stored nowhere.
 */
import { createHash, randomBytes } from "node:crypto";
import { API_KEY_PREFIX } from "../src/access/keys.ts";
import { SCOPES, type Scope } from "../src/routes/table.ts";

const KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;

function fail(message: string): never {
  console.error(`${message}\nusage: npm run key:create -- <id> <scope>...   (scopes: ${SCOPES.join(", ")})`);
  process.exit(2);
}

const [id, ...scopes] = process.argv.slice(2);
if (!id || !KEY_ID.test(id)) fail("the key id must be 1 to 64 letters, digits, _ . or -");
if (scopes.length === 0) fail("give at least one scope");
const unknown = scopes.filter((scope) => !(SCOPES as readonly string[]).includes(scope));
if (unknown.length) fail(`unknown scope(s): ${unknown.join(", ")}`);

// 256 bits of randomness, URL-safe, behind a prefix that makes a leaked key recognisable.
const key = `${API_KEY_PREFIX}${randomBytes(32).toString("base64url")}`;
const entry = { id, sha256: createHash("sha256").update(key).digest("hex"), scopes: [...new Set(scopes)] as Scope[] };

console.log(`API key for "${id}" (give it to its owner; it is not stored anywhere):

  ${key}

Entry to add to the JSON list in the API_KEYS secret:

  ${JSON.stringify(entry)}

Then: npx wrangler secret put API_KEYS   (paste the whole list)`);
