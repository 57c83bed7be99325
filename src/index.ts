/** @module The Worker entry: one app per isolate, built from the checked config. */
import { checkConfig, createApp, createMisconfiguredApp } from "./app.ts";
import { allowedOriginsOf, secretsOf } from "./config.ts";
import { Secrets } from "./secrets.ts";

export { BudgetGateObject } from "./budget/gate-object.ts";
export { SharedCacheObject } from "./cache-objects/shared-key-object.ts";
export { ChangeFeedObject } from "./changes/feed-object.ts";
export { KeyDirectoryObject } from "./keys/directory-object.ts";
export { ManagedKeyObject } from "./keys/key-object.ts";
export { MeetingParticipantsObject } from "./users/participants-object.ts";
export { WebhookInboxObject } from "./webhooks/inbox-object.ts";
export { IdempotencyObject } from "./writes/idempotency-object.ts";

type App = ReturnType<typeof createApp> | ReturnType<typeof createMisconfiguredApp>;

// Keyed by the env object, which workerd passes unchanged to every request of an isolate
// (the memory tier and coalescing depend on it; `npm run bench` shows both at work).
const apps = new WeakMap<object, App>();

function appFor(env: Env): App {
  let app = apps.get(env);
  if (!app) {
    const result = checkConfig(env);
    app = result.ok
      ? createApp(result.config, env)
      : createMisconfiguredApp(result.problem, new Secrets(secretsOf(env)), allowedOriginsOf(env));
    apps.set(env, app);
  }
  return app;
}

export default {
  fetch(request, env, ctx) {
    return appFor(env).fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
