/**
 * @module `npm run check:deploy [-- --env NAME] [--for-deploy]`: checks each deployment
 * environment of wrangler.toml against the Worker's own config schema (src/config.ts),
 * so a change cannot break a deployed configuration unnoticed. With --for-deploy it
 * also refuses the placeholder ids, so nothing is deployed pointing nowhere.
 */
import { readdirSync, readFileSync } from "node:fs";
import { sep } from "node:path";
import { unstable_readConfig } from "wrangler";
import { RATE_LIMIT_PERIOD_SECONDS } from "../src/access/quota.ts";
import { configSchema, type RateLimitBinding } from "../src/config.ts";
import { KEY_RATE_TIERS, keyRateBinding } from "../src/rate-tiers.ts";
import { ROUTE_CATALOG } from "../src/routes/table.ts";

const DEPLOY_ENVS = ["staging", "production"];
const PLACEHOLDER_ID = /^[0-]+$/;

const args = process.argv.slice(2);
const forDeploy = args.includes("--for-deploy");
const envIndex = args.indexOf("--env");
const envs = envIndex >= 0 && args[envIndex + 1] ? [args[envIndex + 1] as string] : DEPLOY_ENVS;

/** Stand in for bindings wrangler.toml declares (their real values only exist in workerd). */
const declaredRateLimiter: RateLimitBinding = { limit: async () => ({ success: true }) };
const declaredDurableObject = { getByName: () => ({}) };
/** The Durable Object classes the Worker's entry exports (read from src/index.ts, not copied). */
const DURABLE_OBJECT_CLASSES = [
  ...readFileSync("src/index.ts", "utf8").matchAll(/^export \{ (\w+Object) \} from /gm),
].map((match) => match[1] ?? "");

function problemsOf(env: string): string[] {
  const config = unstable_readConfig({ config: "wrangler.toml", env });
  const problems: string[] = [];
  const doBindings: { name: string; class_name: string }[] = config.durable_objects.bindings;
  const bindings = {
    ...Object.fromEntries(config.ratelimits.map((binding: { name: string }) => [binding.name, declaredRateLimiter])),
    ...Object.fromEntries(doBindings.map((binding) => [binding.name, declaredDurableObject])),
  };
  // Secrets are never in wrangler.toml: a stand-in lets the schema check everything else.
  const parsed = configSchema(ROUTE_CATALOG).safeParse({
    ...config.vars,
    ...bindings,
    CLOUDFLARE_API_TOKEN: "secret-put-separately",
  });
  if (!parsed.success) {
    problems.push(...parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`));
  }
  const limiters = config.ratelimits as { name: string; simple: { limit: number; period: number } }[];
  for (const limiter of limiters) {
    if (limiter.simple.period !== RATE_LIMIT_PERIOD_SECONDS) {
      problems.push(
        `${limiter.name} has period ${limiter.simple.period}: 429s say Retry-After ${RATE_LIMIT_PERIOD_SECONDS}`,
      );
    }
  }
  // A managed key's rate_limit names a tier: its binding must hold exactly that many a minute.
  for (const tier of KEY_RATE_TIERS) {
    const binding = limiters.find((limiter) => limiter.name === keyRateBinding(tier));
    if (binding && binding.simple.limit !== tier) {
      problems.push(`${binding.name} has limit ${binding.simple.limit}: a key of that tier gets ${tier} a minute`);
    }
  }
  const migrated = config.migrations.flatMap(
    (migration: { new_sqlite_classes?: string[] }) => migration.new_sqlite_classes ?? [],
  );
  for (const binding of doBindings) {
    if (!DURABLE_OBJECT_CLASSES.includes(binding.class_name))
      problems.push(`${binding.name} binds ${binding.class_name}, which the Worker does not export`);
  }
  for (const className of DURABLE_OBJECT_CLASSES) {
    if (!migrated.includes(className)) problems.push(`[[migrations]] must create ${className} in new_sqlite_classes`);
  }
  if (config.assets?.binding !== "ASSETS" || !config.assets.run_worker_first) {
    problems.push("[assets] must bind ASSETS with run_worker_first = true (the Worker serves /docs and /openapi.json)");
  }
  if (!config.observability?.enabled)
    problems.push("[observability] must be enabled (the proxy's logs go to Workers Logs)");
  return problems;
}

/** The ids still at their all-zero placeholder: fine to check, never to deploy. */
function placeholdersOf(env: string): string[] {
  const vars = unstable_readConfig({ config: "wrangler.toml", env }).vars as Record<string, unknown>;
  return ["CLOUDFLARE_ACCOUNT_ID", "REALTIMEKIT_APP_ID"].filter((name) =>
    PLACEHOLDER_ID.test(String(vars[name] ?? "")),
  );
}

/** The docs state production's rate limits, and name every module: both must be true of the code. */
function docsProblems(): string[] {
  const operating = readFileSync("docs/operating.md", "utf8").replace(/\s+/g, " ");
  const architecture = readFileSync("docs/architecture.md", "utf8");
  const limits = unstable_readConfig({ config: "wrangler.toml", env: "production" }).ratelimits as {
    name: string;
    simple: { limit: number; period: number };
  }[];
  const stated = {
    PUBLIC_RATE_LIMITER: (l: { limit: number; period: number }) =>
      `PUBLIC_RATE_LIMITER\` (${l.limit} requests per ${l.period} s`,
    KEYED_RATE_LIMITER: (l: { limit: number; period: number }) => `KEYED_RATE_LIMITER\` (${l.limit} per ${l.period} s`,
  };
  const limitProblems = limits.flatMap((limiter) => {
    const phrase = stated[limiter.name as keyof typeof stated]?.(limiter.simple);
    return phrase && !operating.includes(phrase)
      ? [`docs/operating.md does not state ${limiter.name}'s limit: "${phrase}"`]
      : [];
  });
  // The source map names every module, so a newcomer finds each one.
  const unmapped = readdirSync("src", { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".ts"))
    .map((file) => `src/${file.split(sep).join("/")}`)
    .filter((file) => !architecture.includes(file));
  return [...limitProblems, ...unmapped.map((file) => `docs/architecture.md's source map does not name ${file}`)];
}

let failed = false;
const docs = docsProblems();
if (docs.length) {
  failed = true;
  console.log(`✗ docs/\n  - ${docs.join("\n  - ")}`);
}
for (const env of envs) {
  const placeholders = placeholdersOf(env);
  const problems = [
    ...problemsOf(env),
    ...(forDeploy
      ? placeholders.map((name) => `${name} is still the placeholder: set yours under [env.${env}.vars]`)
      : []),
  ];
  failed ||= problems.length > 0;
  if (problems.length) console.log(`✗ [env.${env}]\n  - ${problems.join("\n  - ")}`);
  else if (placeholders.length) {
    console.log(
      `✓ [env.${env}] valid, but not deployable yet: set ${placeholders.join(" and ")} (all-zero placeholders)`,
    );
  } else console.log(`✓ [env.${env}] deployable configuration`);
}
process.exitCode = failed ? 1 : 0;
