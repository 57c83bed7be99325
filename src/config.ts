/** @module The proxy's configuration: vars and secrets checked once per isolate with zod. */
import * as z from "zod/mini";

const DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4";

/** What the configuration reference says of a var, secret or binding (its default is read from the schema itself). */
export interface ConfigDoc {
  kind: "var" | "secret" | "binding";
  /** The rule, in words; the value's meaning when that is not obvious. */
  rule: string;
}

/** Each setting's documentation, kept beside its rule: the reference tables are generated from it. */
export const CONFIG_DOCS = z.registry<ConfigDoc>();

function documented<T extends z.ZodMiniType>(schema: T, doc: ConfigDoc): T {
  CONFIG_DOCS.add(schema, doc);
  return schema;
}

/** A string matching `pattern`, else `message`; a missing one "is required". */
const matching = (pattern: RegExp, message: string) =>
  z.string({ error: "is required" }).check(z.regex(pattern, message));

/** An optional var turned into what the proxy uses (`undefined` when not given). */
const optionalVar = <T>(transform: (value: string | undefined, ctx: z.core.ParsePayload) => T) =>
  z.pipe(z.optional(z.string()), z.transform(transform));

/** Vars arrive as strings (`wrangler dev --var NAME:value`) or, from TOML, as numbers. */
function wholeNumber(min: number, max: number, fallback: number, meaning = "") {
  const schema = z.pipe(
    z.optional(z.union([z.string(), z.number()])),
    z.transform((value: string | number | undefined, ctx) => {
      if (value === undefined) return fallback;
      const text = String(value).trim();
      const number = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
      if (Number.isInteger(number) && number >= min && number <= max) return number;
      ctx.issues.push({ code: "custom", input: value, message: `must be a whole number from ${min} to ${max}` });
      return z.NEVER;
    }),
  );
  return documented(schema, { kind: "var", rule: `${min}..${max}${meaning ? `: ${meaning}` : ""}` });
}

/** A decimal share from `min` to 1, e.g. `0.6` (vars arrive as strings, or from TOML as numbers). */
function share(min: number, fallback: number, meaning: string) {
  const schema = z.pipe(
    z.optional(z.union([z.string(), z.number()])),
    z.transform((value: string | number | undefined, ctx) => {
      if (value === undefined) return fallback;
      const text = String(value).trim();
      const number = /^(?:0|1)?(?:\.[0-9]+)?$/.test(text) && text !== "" && text !== "." ? Number(text) : Number.NaN;
      if (number >= min && number <= 1) return number;
      ctx.issues.push({
        code: "custom",
        input: value,
        message: `must be a decimal from ${min} to 1, e.g. ${fallback}`,
      });
      return z.NEVER;
    }),
  );
  return documented(schema, { kind: "var", rule: `${min}..1: ${meaning}` });
}

/** `<requests>/<seconds>`, e.g. `1000/300`. */
function allowance(fallback: string, meaning: string) {
  const rule = "must be <requests>/<seconds>: requests 1 to 1000000, seconds 1 to 3600, e.g. 1000/300";
  const schema = optionalVar((value, ctx) => {
    const match = /^\s*([0-9]+)\s*\/\s*([0-9]+)\s*$/.exec(value ?? fallback);
    const requests = Number(match?.[1]);
    const seconds = Number(match?.[2]);
    if (match && requests >= 1 && requests <= 1_000_000 && seconds >= 1 && seconds <= 3600) {
      return { requests, seconds };
    }
    ctx.issues.push({ code: "custom", input: value, message: rule });
    return z.NEVER;
  });
  return documented(schema, {
    kind: "var",
    rule: `\`<requests>/<seconds>\`, requests 1..1000000, seconds 1..3600: ${meaning}`,
  });
}

function splitCommaList(value: string): string[] {
  return value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1"]);

/** The token goes to Cloudflare's API, or to a local stand-in: never to a host a typo names. */
export function isAllowedBaseUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  if (url.username || url.password || url.search || url.hash) return false;
  if (url.protocol === "https:" && url.hostname === "api.cloudflare.com" && url.port === "") return true;
  return (url.protocol === "https:" || url.protocol === "http:") && LOOPBACK_HOSTS.has(url.hostname);
}

/** Public keys of an identity provider come over https; loopback http is allowed for the local one. */
function isAllowedJwksUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  if (url.username || url.password || url.hash) return false;
  return url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname));
}

/** Asymmetric JWS algorithms: a user token is checked against an identity provider's public keys. */
export const ASYMMETRIC_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
] as const;
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

/**
 * An optional text var: unset, or set to "" (wrangler.toml cannot unset an inherited var),
 * is not given; else it must pass `check`.
 */
const optionalText = (check: (value: string) => boolean, message: string) =>
  z.pipe(
    optionalVar((value) => (value === undefined || value.trim() === "" ? undefined : value.trim())),
    z.optional(z.string().check(z.refine(check, message))),
  );

/** A claim's name: letters, digits, and the `_ - . : /` that namespaced claims use (`https://app.example.com/roles`). */
const CLAIM_NAME = /^[A-Za-z0-9_.:/-]{1,200}$/;
/** A RealtimeKit preset's name, as the dashboard allows them. */
const PRESET_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** A JSON var: its parsed value, `undefined` when not given. */
const jsonVar = (shape: string, emptyValue?: unknown) =>
  optionalVar((value, ctx) => {
    if (value === undefined || value.trim() === "") return emptyValue;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      ctx.issues.push({ code: "custom", input: value, message: `must be ${shape} (it is not JSON)` });
      return z.NEVER;
    }
  });

const JOIN_PRESETS_SHAPE = '{"claim": "<claim>", "presets": {"<claim value>": "<preset>", "*": "<preset>"}}';

const joinPresets = z.pipe(
  jsonVar(JOIN_PRESETS_SHAPE),
  z.optional(
    z.strictObject(
      {
        claim: z
          .string({ error: "must name the claim that holds the user's role" })
          .check(z.regex(CLAIM_NAME, "must be a claim name")),
        presets: z
          .record(
            z.string(),
            z.string().check(z.regex(PRESET_NAME, "must be a preset name (letters, digits, _ or -)")),
            {
              error: 'must map claim values (or "*") to preset names',
            },
          )
          .check(z.refine((presets) => Object.keys(presets).length > 0, 'must map at least one claim value (or "*")')),
      },
      { error: `must be ${JOIN_PRESETS_SHAPE}` },
    ),
  ),
);

/** Who may join as what: the claim holding a user's role, and the preset each value gets. */
export type JoinPresets = NonNullable<z.output<typeof joinPresets>>;

/** An SPKI public key in PEM, as RealtimeKit publishes it (on one line or several; `\n` escapes, as copied out of JSON, are read as line breaks). */
const PUBLIC_KEY_PEM = /^-----BEGIN PUBLIC KEY-----\s*[A-Za-z0-9+/=\s]{100,}\s*-----END PUBLIC KEY-----$/;

const webhookPublicKey = z.pipe(
  optionalVar((value) => {
    const pem = value?.replace(/\\n/g, "\n").trim();
    return pem === "" ? undefined : pem;
  }),
  z.optional(
    z
      .string()
      .check(
        z.regex(
          PUBLIC_KEY_PEM,
          "must be a PEM public key (-----BEGIN PUBLIC KEY----- ... -----END PUBLIC KEY-----), as RealtimeKit publishes it",
        ),
      ),
  ),
);

function isExactOrigin(value: string): boolean {
  return URL.canParse(value) && new URL(value).origin === value;
}

/**
 * What the configuration checks against the route table: route names (`PUBLIC_ROUTES`)
 * and scopes (`API_KEYS`). The table passes it in, so that this module sits below it.
 */
export interface RouteCatalog {
  names: readonly [string, ...string[]];
  scopes: readonly [string, ...string[]];
  publicByDefault: readonly string[];
  neverPublic: readonly string[];
}

// A secret's own text never reaches a message: not even a property name, which could be a
// raw key pasted in by mistake (zod would quote it).
const apiKeyEntry = (scopes: RouteCatalog["scopes"]) =>
  z.strictObject(
    {
      id: matching(/^[A-Za-z0-9_.-]{1,64}$/, "must be 1 to 64 letters, digits, _ . or -").check(
        // Managed keys' ids are key_ and 12 letters or digits: a config key of that form would be ambiguous.
        z.refine(
          (id) => !/^key_[0-9A-Za-z]{12}$/.test(id),
          "must not have a managed key's form (key_ and 12 letters or digits)",
        ),
      ),
      sha256: z.pipe(
        matching(/^[0-9a-fA-F]{64}$/, "must be the 64 hex digits of the key's SHA-256"),
        z.transform((hex: string) => hex.toLowerCase()),
      ),
      scopes: z
        .array(z.enum(scopes, { error: `must be among ${scopes.join(", ")}` }), { error: "must be a list" })
        .check(z.minLength(1, "must not be empty")),
    },
    {
      error: (issue) =>
        issue.code === "unrecognized_keys" ? "must have only the properties id, sha256 and scopes" : undefined,
    },
  );
export type ApiKeyEntry = z.output<ReturnType<typeof apiKeyEntry>>;

const API_KEYS_SHAPE = 'a JSON list of {"id", "sha256", "scopes"}';

const apiKeys = (scopes: RouteCatalog["scopes"]) =>
  z.pipe(
    jsonVar(API_KEYS_SHAPE, []),
    z
      .array(apiKeyEntry(scopes), { error: `must be ${API_KEYS_SHAPE}` })
      .check(
        z.refine(
          (keys) => new Set(keys.map((key) => key.sha256)).size === keys.length,
          "must not list one key hash twice",
        ),
      ),
  );

/** A Workers Rate Limiting binding (`[[ratelimits]]` in wrangler.toml), by the one method the proxy calls. */
export interface RateLimitBinding {
  limit(options: { key: string }): Promise<{ success: boolean }>;
}

/** A Workers Analytics Engine dataset binding, by the one method the proxy calls. */
export interface AnalyticsBinding {
  writeDataPoint(point: { indexes?: string[]; blobs?: string[]; doubles?: number[] }): void;
}

/**
 * A Durable Object namespace binding is only checked to be there: the code that calls it
 * reads it from `Env`, typed by `wrangler types` with its class's own methods.
 */
/** Every Durable Object binding the Worker needs, and its class (wrangler.toml declares each). */
export const DURABLE_OBJECTS = {
  BUDGET_GATE: "BudgetGateObject",
  SHARED_CACHE: "SharedCacheObject",
  MEETING_PARTICIPANTS: "MeetingParticipantsObject",
  CHANGE_FEED: "ChangeFeedObject",
  WEBHOOK_INBOX: "WebhookInboxObject",
  KEY_STORE: "ManagedKeyObject",
  KEY_DIRECTORY: "KeyDirectoryObject",
  IDEMPOTENCY: "IdempotencyObject",
} as const;

function durableObjectBinding(className: string) {
  return documented(
    z.custom<object>(
      (value) => typeof value === "object" && value !== null && typeof Reflect.get(value, "getByName") === "function",
      "binding is missing: declare it under [[durable_objects.bindings]] in wrangler.toml",
    ),
    { kind: "binding", rule: `the Durable Object class \`${className}\`, under \`[[durable_objects.bindings]]\`` },
  );
}

const allowedOrigins = documented(
  z.pipe(
    optionalVar((value) => splitCommaList(value ?? "")),
    z
      .array(z.string())
      .check(
        z.refine(
          (origins) => origins.every(isExactOrigin),
          "must be a comma list of exact origins such as https://app.example.com",
        ),
      ),
  ),
  { kind: "var", rule: "comma list of exact origins (scheme, host, port) allowed by CORS" },
);

const rateLimitBinding = () =>
  documented(
    z.custom<RateLimitBinding>(
      (value) => typeof value === "object" && value !== null && typeof Reflect.get(value, "limit") === "function",
      "binding is missing: declare it under [[ratelimits]] in wrangler.toml",
    ),
    { kind: "binding", rule: "a Rate Limiting binding, under `[[ratelimits]]` in wrangler.toml" },
  );

/** The whole configuration's schema, checking route names and scopes against the route table's catalog. */
export function configSchema(catalog: RouteCatalog) {
  const { names: ROUTE_NAMES, neverPublic: NEVER_PUBLIC_ROUTES } = catalog;
  return z
    .object({
      CLOUDFLARE_API_TOKEN: documented(
        z.string({ error: "is required (a Worker secret)" }).check(z.minLength(1, "is required (a Worker secret)")),
        { kind: "secret", rule: "the Cloudflare API token the proxy calls RealtimeKit with (permission Realtime)" },
      ),
      CLOUDFLARE_ACCOUNT_ID: documented(matching(/^[A-Za-z0-9]{1,32}$/, "must be 1 to 32 letters or digits"), {
        kind: "var",
        rule: "1..32 letters or digits",
      }),
      REALTIMEKIT_APP_ID: documented(matching(/^[A-Za-z0-9-]{1,64}$/, "must be 1 to 64 letters, digits or hyphens"), {
        kind: "var",
        rule: "1..64 letters, digits or `-` (real app ids are 36-character UUIDs)",
      }),
      CLOUDFLARE_API_BASE_URL: documented(
        z.pipe(
          optionalVar((value) => value ?? DEFAULT_BASE_URL),
          z.pipe(
            z
              .string()
              .check(
                z.refine(
                  isAllowedBaseUrl,
                  "must be https://api.cloudflare.com/... or an http(s) URL on localhost or 127.0.0.1, without credentials, query or fragment",
                ),
              ),
            z.transform((value: string) => value.replace(/\/+$/, "")),
          ),
        ),
        {
          kind: "var",
          rule: "`https://api.cloudflare.com/...`, or http(s) on localhost/127.0.0.1 only: the token goes to no other host",
        },
      ),
      ACTIVE_SESSION_CACHE_TTL_SECONDS: wholeNumber(
        0,
        60,
        5,
        "seconds active-session answers are fresh (0: not stored)",
      ),
      ACTIVE_SESSION_SOURCE: documented(
        z.pipe(
          z.optional(z.enum(["meeting", "live-sessions"], { error: "must be meeting or live-sessions" })),
          z.transform((value: "meeting" | "live-sessions" | undefined) => value ?? "live-sessions"),
        ),
        {
          kind: "var",
          rule: "`live-sessions` (every meeting read from one index of the app's live sessions: spend grows with pages, not meetings) or `meeting` (one upstream call per meeting)",
        },
      ),
      PUSHED_TTL_SECONDS: wholeNumber(
        0,
        3600,
        300,
        "how long the shared tier keeps an active-session answer while webhooks keep it current",
      ),
      SESSIONS_CACHE_TTL_SECONDS: wholeNumber(
        0,
        3600,
        10,
        "seconds the session routes' answers are fresh (0: not stored)",
      ),
      MEETINGS_CACHE_TTL_SECONDS: wholeNumber(
        0,
        3600,
        30,
        "seconds the meetings' answers (the list, one meeting) are fresh (0: not stored); writes through the proxy drop them at once",
      ),
      STALE_WHILE_REVALIDATE_SECONDS: wholeNumber(0, 86400, 30, "seconds past the TTL served at once while refreshed"),
      STALE_IF_ERROR_SECONDS: wholeNumber(
        0,
        86400,
        300,
        "seconds past the TTL served when the upstream fails or the budget refuses",
      ),
      UPSTREAM_TIMEOUT_MS: wholeNumber(100, 60000, 5000, "per upstream attempt"),
      UPSTREAM_MAX_RETRIES: wholeNumber(0, 5, 2, "retries of reads on network errors, timeouts, 408 and 5xx"),
      MAX_PER_PAGE: wholeNumber(1, 1000, 100, "the largest `per_page` callers may ask for"),
      UPSTREAM_BUDGET: allowance("1000/300", "the whole deployment's upstream allowance"),
      CALLER_MISS_BUDGET: allowance("200/300", "the upstream calls one caller may cause"),
      JOIN_BUDGET_SHARE: share(
        0.1,
        0.6,
        "the most of `UPSTREAM_BUDGET` joins (adds, refreshes, edits) may take together, so reads always keep the rest",
      ),
      JOIN_TOKEN_REUSE_SECONDS: wholeNumber(
        0,
        86400,
        3600,
        "the longest a participant token is handed out again to the same person joining again (0: every join gets a fresh one)",
      ),
      UPSTREAM_PAUSE_SECONDS: wholeNumber(0, 3600, 300, "the pause after an upstream 429 that names no reset time"),
      STALE_IF_SLOW_MS: wholeNumber(
        0,
        60000,
        1000,
        "how long a caller who could get a stored answer waits for a slow upstream",
      ),
      ALLOWED_ORIGINS: allowedOrigins,
      PUBLIC_ROUTES: documented(
        z.pipe(
          optionalVar((value) => (value === undefined ? [...catalog.publicByDefault] : splitCommaList(value))),
          z.array(z.enum(ROUTE_NAMES, { error: `must be a route name (${ROUTE_NAMES.join(", ")})` })).check((ctx) => {
            for (const route of ctx.value.filter((name) => NEVER_PUBLIC_ROUTES.includes(name))) {
              ctx.issues.push({
                code: "custom",
                input: route,
                message: `must not name ${route}: it is never public (${NEVER_PUBLIC_ROUTES.join(", ")} never are)`,
              });
            }
          }),
        ),
        {
          kind: "var",
          rule: `comma list of route names; ${NEVER_PUBLIC_ROUTES.map((name) => `\`${name}\``).join(", ")} may never be named`,
        },
      ),
      AUTH_JWKS_URL: documented(
        optionalText(
          isAllowedJwksUrl,
          "must be an https URL (http only on localhost or 127.0.0.1), without credentials",
        ),
        {
          kind: "var",
          rule: "the JWKS URL of your identity provider (https; loopback http for local runs); empty: no user sign-in, and `join` answers only keys",
        },
      ),
      AUTH_ISSUER: documented(
        optionalText((value) => value.length <= 500, "must be at most 500 characters"),
        {
          kind: "var",
          rule: "required with `AUTH_JWKS_URL`: the exact `iss` of user tokens",
        },
      ),
      AUTH_AUDIENCE: documented(
        optionalText((value) => value.length <= 500, "must be at most 500 characters"),
        {
          kind: "var",
          rule: "required with `AUTH_JWKS_URL`: an `aud` user tokens must carry",
        },
      ),
      AUTH_ALGORITHMS: documented(
        z.pipe(
          optionalVar((value) => splitCommaList(value ?? "RS256,ES256")),
          z
            .array(
              z.enum(ASYMMETRIC_ALGORITHMS, {
                error: `must list asymmetric algorithms only (${ASYMMETRIC_ALGORITHMS.join(", ")}); none and HS* are never accepted`,
              }),
            )
            .check(z.minLength(1, "must list at least one algorithm")),
        ),
        {
          kind: "var",
          rule: `comma list of asymmetric JWS algorithms (${ASYMMETRIC_ALGORITHMS.join(", ")}); \`none\` and \`HS*\` are refused`,
        },
      ),
      JOIN_PRESETS: documented(joinPresets, {
        kind: "var",
        rule: `required with \`AUTH_JWKS_URL\`: \`${JOIN_PRESETS_SHAPE}\`, the preset each user joins with; its values are also the presets keys may ask for`,
      }),
      JOIN_MEETINGS_CLAIM: documented(
        optionalText((value) => CLAIM_NAME.test(value), "must be a claim name"),
        {
          kind: "var",
          rule: "a claim listing the meeting ids a user may join; empty: any meeting of the app",
        },
      ),
      REALTIMEKIT_WEBHOOK_PUBLIC_KEY: documented(webhookPublicKey, {
        kind: "var",
        rule: "the PEM public key RealtimeKit signs webhooks with (`data.publicKey` of its `/.well-known/webhooks.json`); empty: `POST /webhooks/realtimekit` answers 404",
      }),
      API_KEYS: documented(apiKeys(catalog.scopes), {
        kind: "secret",
        rule: 'JSON list of `{"id", "sha256", "scopes"}`, one entry per key (`npm run key:create`)',
      }),
      KEYS_ADMIN: documented(
        z.pipe(
          z.optional(z.enum(["on", "off"], { error: "must be on or off" })),
          z.transform((value: "on" | "off" | undefined) => value ?? "on"),
        ),
        {
          kind: "var",
          rule: "`on` or `off`: the managed keys' admin API (scope `keys:admin`); off, its routes answer 404 (managed keys already made keep working)",
        },
      ),
      PUBLIC_RATE_LIMITER: rateLimitBinding(),
      KEYED_RATE_LIMITER: rateLimitBinding(),
      KEY_RATE_LIMIT_10: rateLimitBinding(),
      KEY_RATE_LIMIT_30: rateLimitBinding(),
      KEY_RATE_LIMIT_60: rateLimitBinding(),
      KEY_RATE_LIMIT_120: rateLimitBinding(),
      KEY_RATE_LIMIT_300: rateLimitBinding(),
      USAGE: documented(
        z.optional(
          z.custom<AnalyticsBinding>(
            (value) =>
              typeof value === "object" && value !== null && typeof Reflect.get(value, "writeDataPoint") === "function",
            "must be an Analytics Engine dataset, under [[analytics_engine_datasets]] in wrangler.toml",
          ),
        ),
        {
          kind: "binding",
          rule: "optional: a Workers Analytics Engine dataset, one data point per request; absent, nothing is written",
        },
      ),
      BUDGET_GATE: durableObjectBinding(DURABLE_OBJECTS.BUDGET_GATE),
      SHARED_CACHE: durableObjectBinding(DURABLE_OBJECTS.SHARED_CACHE),
      MEETING_PARTICIPANTS: durableObjectBinding(DURABLE_OBJECTS.MEETING_PARTICIPANTS),
      CHANGE_FEED: durableObjectBinding(DURABLE_OBJECTS.CHANGE_FEED),
      WEBHOOK_INBOX: durableObjectBinding(DURABLE_OBJECTS.WEBHOOK_INBOX),
      KEY_STORE: durableObjectBinding(DURABLE_OBJECTS.KEY_STORE),
      KEY_DIRECTORY: durableObjectBinding(DURABLE_OBJECTS.KEY_DIRECTORY),
      IDEMPOTENCY: durableObjectBinding(DURABLE_OBJECTS.IDEMPOTENCY),
    })
    .check((ctx) => {
      // User sign-in needs all of it: whose tokens, for whom, and what they may join as.
      if (ctx.value.AUTH_JWKS_URL === undefined) return;
      for (const name of ["AUTH_ISSUER", "AUTH_AUDIENCE", "JOIN_PRESETS"] as const) {
        if (ctx.value[name] === undefined) {
          ctx.issues.push({
            code: "custom",
            path: [name],
            input: undefined,
            message: "is required with AUTH_JWKS_URL",
          });
        }
      }
    });
}

export type Config = z.output<ReturnType<typeof configSchema>>;

export type ConfigResult = { ok: true; config: Config } | { ok: false; problem: string };

/** Checks the Worker's env. A failure names what is wrong and never a value: secrets may be among them. */
export function parseConfig(env: object, catalog: RouteCatalog): ConfigResult {
  const parsed = configSchema(catalog).safeParse(env);
  if (parsed.success) return { ok: true, config: parsed.data };
  const problem = parsed.error.issues.map((issue) => `${formatPath(issue.path)} ${issue.message}`).join("; ");
  return { ok: false, problem };
}

/** `API_KEYS[0].sha256`: names the place, never the value. */
function formatPath(path: readonly PropertyKey[]): string {
  return path.map((part, i) => (typeof part === "number" ? `[${part}]` : `${i ? "." : ""}${String(part)}`)).join("");
}

/** The allowed origins when that var alone is valid, so that even a misconfiguration's 500 is readable by browsers. */
export function allowedOriginsOf(env: object): string[] {
  const parsed = allowedOrigins.safeParse(Reflect.get(env, "ALLOWED_ORIGINS"));
  return parsed.success ? parsed.data : [];
}

/** The secret values present in env, even when the rest of it is invalid: never to be echoed. */
export function secretsOf(env: object): string[] {
  const token: unknown = Reflect.get(env, "CLOUDFLARE_API_TOKEN");
  return typeof token === "string" && token !== "" ? [token] : [];
}
