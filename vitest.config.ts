import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { FAKE_ACCOUNT_ID, FAKE_API_TOKEN, FAKE_APP_ID } from "./dev/fake-upstream/data.ts";
import { localSignInVars } from "./dev/fake-upstream/identity.ts";
import { LOCAL_API_KEYS } from "./dev/local-keys.ts";

export default defineConfig({
  plugins: [
    cloudflareTest({
      // [env.test]: rate limits that the suite's requests never trip, and one tight limiter.
      wrangler: { configPath: "./wrangler.toml", environment: "test" },
      // workerd's verbose mode prints each exception an RPC method throws even when its
      // caller catches it (tests break the Durable Objects on purpose, and assert the
      // proxy's own error lines instead), and a line for each object reset() stops
      // mid-request between tests. A passing run prints only the test results.
      verbose: false,
      miniflare: {
        // Test values for the vars and secrets that wrangler.toml leaves to each deployment.
        bindings: {
          CLOUDFLARE_API_TOKEN: FAKE_API_TOKEN,
          CLOUDFLARE_ACCOUNT_ID: FAKE_ACCOUNT_ID,
          REALTIMEKIT_APP_ID: FAKE_APP_ID,
          API_KEYS: JSON.stringify(LOCAL_API_KEYS),
          // User sign-in against the fake's identity provider (every outbound fetch goes to the fake).
          ...localSignInVars("http://127.0.0.1:8788"),
        },
      },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/support/setup.ts"],
    globalSetup: ["test/global-setup.ts"],
    // The proxy logs a JSON line per request; show them only for failing tests.
    silent: "passed-only",
    // CI machines are small and shared: a test that takes 1 s alone can take 5 s beside
    // another suite. No test leans on a 5 s default; the few heavy ones say their own budget.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
