/**
 * @module `npm run key:create -- <name> <scope>... [--owner <team>] [--expires-in <days>] [--url <proxy>] [--admin-key <key>]`:
 * creates a managed key through the proxy's admin API (`POST /keys`) and prints its secret,
 * once. `--url` is the proxy (the local one of `npm start` by default); the admin key (a key
 * with `keys:admin`) comes from `--admin-key` or `KEYS_ADMIN_KEY` (locally: the local key).
 *
 * `npm run key:create -- --config <id> <scope>... [--local]` prints a key for the API_KEYS
 * secret instead, as before managed keys: a new random key and its entry (only its
 * SHA-256 goes into API_KEYS); `--local` also adds the entry to `.local-api-keys.json`
 * (git-ignored), which `npm start` serves beside its built-in local keys.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { LOCAL_API_KEY, LOCAL_KEYS_FILE } from "../dev/local-keys.ts";
import { PROXY_URL } from "../dev/ports.ts";
import { API_KEY_PREFIX } from "../src/access/quota.ts";
import { SCOPES, type Scope } from "../src/routes/table.ts";

const KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const USAGE = `usage: npm run key:create -- <name> <scope>... [--owner <team>] [--expires-in <days>] [--url <proxy>] [--admin-key <key>]
       npm run key:create -- --config <id> <scope>... [--local]
scopes: ${SCOPES.join(", ")}`;

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

/** The value after a flag, removed from the arguments with it. */
function option(args: string[], flag: string): string | undefined {
  const at = args.indexOf(flag);
  if (at < 0) return undefined;
  const value = args[at + 1];
  if (value === undefined || value.startsWith("--")) fail(`${flag} needs a value`);
  args.splice(at, 2);
  return value;
}

function checkedScopes(scopes: string[]): Scope[] {
  if (scopes.length === 0) fail("give at least one scope");
  const unknown = scopes.filter((scope) => !(SCOPES as readonly string[]).includes(scope));
  if (unknown.length) fail(`unknown scope(s): ${unknown.join(", ")}`);
  return [...new Set(scopes)] as Scope[];
}

/** A key for the API_KEYS secret (a config key): changes with a deploy. */
function configKey(args: string[]): void {
  const local = args.includes("--local");
  const [id, ...scopes] = args.filter((arg) => arg !== "--local" && arg !== "--config");
  if (!id || !KEY_ID.test(id)) fail("the key id must be 1 to 64 letters, digits, _ . or -");
  // 256 bits of randomness, URL-safe, behind a prefix that makes a leaked key recognisable.
  const key = `${API_KEY_PREFIX}${randomBytes(32).toString("base64url")}`;
  const entry = { id, sha256: createHash("sha256").update(key).digest("hex"), scopes: checkedScopes(scopes) };
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
}

/** A managed key, made at run time through the admin API. */
async function managedKey(args: string[]): Promise<void> {
  const url = (option(args, "--url") ?? PROXY_URL).replace(/\/+$/, "");
  const local = /^https?:\/\/(localhost|127\.0\.0\.1)(:|\/|$)/.test(url);
  const adminKey = option(args, "--admin-key") ?? process.env.KEYS_ADMIN_KEY ?? (local ? LOCAL_API_KEY : undefined);
  if (!adminKey) fail(`give a key with keys:admin for ${url}: --admin-key <key>, or KEYS_ADMIN_KEY`);
  const owner = option(args, "--owner");
  const expiresInDays = option(args, "--expires-in");
  const [name, ...scopes] = args;
  if (!name) fail("give the key's name (what it is for), then its scopes");
  const days = expiresInDays === undefined ? undefined : Number(expiresInDays);
  if (days !== undefined && !(Number.isFinite(days) && days > 0)) fail("--expires-in is a number of days above 0");
  const body = {
    name,
    owner: owner ?? name,
    scopes: checkedScopes(scopes),
    ...(days === undefined ? {} : { expires_at: new Date(Date.now() + days * 86_400_000).toISOString() }),
  };
  let response: Response;
  try {
    response = await fetch(`${url}/keys`, {
      method: "POST",
      headers: { Authorization: `Bearer ${adminKey}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch {
    fail(`no proxy answers at ${url}${local ? " (is npm start running?)" : ""}`);
  }
  const answer = (await response.json().catch(() => ({}))) as {
    data?: { id: string; secret: string; scopes: string[]; expires_at: string | null };
    error?: { message?: string };
  };
  if (!response.ok || !answer.data) fail(`${url}/keys answered ${response.status}: ${answer.error?.message ?? ""}`);
  const { id, secret, expires_at: expiresAt } = answer.data;
  console.log(`Key ${id} for "${name}" (${answer.data.scopes.join(", ")}${expiresAt ? `, expires ${expiresAt}` : ""}).
Give it to its owner now: it is shown this once and stored nowhere.

  ${secret}

Its usage:   curl -H 'Authorization: Bearer ${secret}' ${url}/keys/${id}/usage
Revoke it:   curl -X DELETE -H 'Authorization: Bearer <admin key>' ${url}/keys/${id}`);
}

const args = process.argv.slice(2);
if (args.includes("--config")) configKey(args);
else await managedKey(args);
