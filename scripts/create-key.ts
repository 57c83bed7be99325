/**
 * @module `npm run key:create -- <id> <scope>... [--local]`: prints a new random API key
 * and its entry for the API_KEYS secret. Only the key's SHA-256 goes into API_KEYS; the
 * key itself is shown once, here, and stored nowhere. `--local` also adds the entry to
 * `.local-api-keys.json` (git-ignored), which `npm start` serves beside its built-in
 * local keys.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { LOCAL_KEYS_FILE } from "../dev/local-keys.ts";
import { API_KEY_PREFIX } from "../src/access/quota.ts";
import { SCOPES, type Scope } from "../src/routes/table.ts";

const KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;

function fail(message: string): never {
  console.error(`${message}\nusage: npm run key:create -- <id> <scope>... [--local]   (scopes: ${SCOPES.join(", ")})`);
  process.exit(2);
}

const args = process.argv.slice(2);
const local = args.includes("--local");
const [id, ...scopes] = args.filter((arg) => arg !== "--local");
if (!id || !KEY_ID.test(id)) fail("the key id must be 1 to 64 letters, digits, _ . or -");
if (scopes.length === 0) fail("give at least one scope");
const unknown = scopes.filter((scope) => !(SCOPES as readonly string[]).includes(scope));
if (unknown.length) fail(`unknown scope(s): ${unknown.join(", ")}`);

// 256 bits of randomness, URL-safe, behind a prefix that makes a leaked key recognisable.
const key = `${API_KEY_PREFIX}${randomBytes(32).toString("base64url")}`;
const entry = { id, sha256: createHash("sha256").update(key).digest("hex"), scopes: [...new Set(scopes)] as Scope[] };

console.log(`API key for "${id}" (give it to its owner; it is not stored anywhere):

  ${key}

API_KEYS is one JSON list of every key's entry. Add this entry to it:

  ${JSON.stringify(entry)}

so that the list reads, e.g. (with your other entries):

  [${JSON.stringify(entry)}]

and put the whole list again, for each environment that should accept the key:

  npx wrangler secret put API_KEYS --env production
  npx wrangler secret put API_KEYS --env staging`);

if (local) {
  const existing: unknown[] = existsSync(LOCAL_KEYS_FILE) ? JSON.parse(readFileSync(LOCAL_KEYS_FILE, "utf8")) : [];
  writeFileSync(LOCAL_KEYS_FILE, `${JSON.stringify([...existing, entry], null, 2)}\n`);
  console.log(
    `\nAdded to ${LOCAL_KEYS_FILE}: restart npm start to use the key locally (the built-in local keys stay).`,
  );
}
