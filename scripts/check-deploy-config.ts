/**
 * @module `npm run check:deploy [-- --env NAME] [--for-deploy]`: checks each deployment
 * environment of wrangler.toml against the Worker's own config schema (src/config.ts),
 * so a change cannot break a deployed configuration unnoticed. With --for-deploy it
 * also refuses the placeholder ids, so nothing is deployed pointing nowhere.
 */
import { unstable_readConfig } from "wrangler";
import { configSchema, type RateLimitBinding } from "../src/config.ts";

const DEPLOY_ENVS = ["staging", "production"];
const PLACEHOLDER_ID = /^[0-]+$/;

const args = process.argv.slice(2);
const forDeploy = args.includes("--for-deploy");
const envIndex = args.indexOf("--env");
const envs = envIndex >= 0 && args[envIndex + 1] ? [args[envIndex + 1] as string] : DEPLOY_ENVS;

/** Stands in for a binding wrangler.toml declares (its real value only exists in workerd). */
const declaredRateLimiter: RateLimitBinding = { limit: async () => ({ success: true }) };

function problemsOf(env: string): string[] {
  const config = unstable_readConfig({ config: "wrangler.toml", env });
  const problems: string[] = [];
  const bindings = Object.fromEntries(
    config.ratelimits.map((binding: { name: string }) => [binding.name, declaredRateLimiter]),
  );
  // Secrets are never in wrangler.toml: a stand-in lets the schema check everything else.
  const parsed = configSchema.safeParse({ ...config.vars, ...bindings, CLOUDFLARE_API_TOKEN: "secret-put-separately" });
  if (!parsed.success) {
    problems.push(...parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`));
  }
  if (config.assets?.binding !== "ASSETS" || !config.assets.run_worker_first) {
    problems.push("[assets] must bind ASSETS with run_worker_first = true (the Worker serves /docs and /openapi.json)");
  }
  if (!config.observability?.enabled)
    problems.push("[observability] must be enabled (the proxy's logs go to Workers Logs)");
  if (forDeploy) {
    for (const name of ["CLOUDFLARE_ACCOUNT_ID", "REALTIMEKIT_APP_ID"]) {
      const value = String((config.vars as Record<string, unknown>)[name] ?? "");
      if (PLACEHOLDER_ID.test(value))
        problems.push(`${name} is still the placeholder: set yours under [env.${env}.vars]`);
    }
  }
  return problems;
}

let failed = false;
for (const env of envs) {
  const problems = problemsOf(env);
  failed ||= problems.length > 0;
  console.log(
    problems.length ? `✗ [env.${env}]\n  - ${problems.join("\n  - ")}` : `✓ [env.${env}] deployable configuration`,
  );
}
process.exitCode = failed ? 1 : 0;
