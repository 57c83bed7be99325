/** @module The architecture in one place: middleware order, the routes of the table, and error handling. */
import { Hono, type MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";
import { timing } from "hono/timing";
import { corsFor } from "./access/cors.ts";
import { callerIdentity, type VerifyUser } from "./access/identity.ts";
import { rateLimit, rejectRefusedCredentials, requireAccess } from "./access/middleware.ts";
import type { CacheStorageTier } from "./cache/local-tier.ts";
import { LiveSessionsView } from "./cache-objects/live-index.ts";
import { type Config, parseConfig } from "./config.ts";
import type { AppEnv } from "./context.ts";
import { serveAsset } from "./docs/assets.ts";
import { REFERENCE_PAGE_CSP } from "./docs/page.ts";
import { ApiError } from "./errors.ts";
import { UsageReporting } from "./keys/reporting.ts";
import { keyStore } from "./keys/store.ts";
import { UsageCounter } from "./keys/usage.ts";
import { cacheApiChecks, KeyVerifier } from "./keys/verifier.ts";
import { logger } from "./log.ts";
import { requestIdentity } from "./observability/request-id.ts";
import { requestLog, routeNamesOf } from "./observability/request-log.ts";
import { usageRecorder } from "./observability/usage.ts";
import { changeAnnouncer, dataCentreTiers, pushedFreshness, type ReadBindings } from "./reads/data-centre.ts";
import { BUILTIN_HANDLERS } from "./routes/builtin.ts";
import { forwardedHandlers } from "./routes/forwarded.ts";
import { jsonBody } from "./routes/json-body.ts";
import { writeHandlers } from "./routes/participant-writes.ts";
import { proxyHandlers, requireThisApp } from "./routes/proxy.ts";
import { renderError } from "./routes/render-error.ts";
import {
  ANSWERED_PATHS,
  allowedMethods,
  isUpstreamShaped,
  ROUTE_CATALOG,
  ROUTES,
  type RouteSettings,
  SCOPES,
  upstreamShapedPath,
} from "./routes/table.ts";
import { validate } from "./routes/validator.ts";
import { webhookHandler } from "./routes/webhook.ts";
import { runtime } from "./runtime.ts";
import { Secrets } from "./secrets.ts";
import { upstreamSettings } from "./upstream/request.ts";
import { JwksCache } from "./users/jwks.ts";
import { verifyUserToken } from "./users/user-token.ts";

/** The route names log lines give each path pattern and method, so logs never carry a raw URL. */
const ROUTE_NAMES = routeNamesOf(ANSWERED_PATHS);
const CORS_METHODS = [...new Set(ANSWERED_PATHS.flatMap(({ methods }) => allowedMethods(methods)))];

function baseApp(secrets: Secrets) {
  logger.protect(secrets);
  const app = new Hono<AppEnv>();
  app.use(requestIdentity(secrets));
  app.use(timing({ totalDescription: "proxy" }));
  app.use(requestLog(ROUTE_NAMES));
  app.use(
    secureHeaders({
      contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
      referrerPolicy: "no-referrer",
      // A route may set its own policy (the reference page's inline style).
      overwrite: false,
    }),
  );
  app.onError(renderError(secrets));
  app.notFound(() => {
    throw new ApiError("not_found", "no such route");
  });
  return app;
}

function methodNotAllowed(allow: string): MiddlewareHandler {
  return function methodNotAllowed() {
    throw new ApiError("method_not_allowed", `method not allowed; use ${allow}`, { headers: { Allow: allow } });
  };
}

/** Checks the Worker's env against the configuration schema and the route table. */
export function checkConfig(env: object) {
  return parseConfig(env, ROUTE_CATALOG);
}

/** The Durable Object namespaces the app calls. */
export type AppBindings = ReadBindings &
  Pick<Env, "MEETING_PARTICIPANTS" | "WEBHOOK_INBOX" | "KEY_STORE" | "KEY_DIRECTORY" | "IDEMPOTENCY">;

/** User sign-in, when configured: tokens checked against the identity provider's keys, cached in this isolate. */
function userVerifier(config: Config): VerifyUser | undefined {
  const { AUTH_JWKS_URL, AUTH_ISSUER, AUTH_AUDIENCE, AUTH_ALGORITHMS } = config;
  if (!AUTH_JWKS_URL || !AUTH_ISSUER || !AUTH_AUDIENCE) return undefined;
  const jwks = new JwksCache(AUTH_JWKS_URL, () => runtime.now());
  const settings = { issuer: AUTH_ISSUER, audience: AUTH_AUDIENCE, algorithms: AUTH_ALGORITHMS };
  return (token, background) => verifyUserToken(token, settings, jwks, runtime.now(), background);
}

export interface AppOptions {
  /** This data centre's Cache API tier; tests stand several data centres up with named caches. */
  localCache?: CacheStorageTier;
}

/** The proxy for one valid configuration and the deployment's Durable Objects; built once per isolate. */
export function createApp(config: Config, bindings: AppBindings, options: AppOptions = {}) {
  const localCache = options.localCache ?? caches.default;
  const now = () => runtime.now();
  const reads = {
    settings: upstreamSettings(config),
    tiers: dataCentreTiers(config, bindings, localCache),
    liveSessions: new LiveSessionsView(),
    source: config.ACTIVE_SESSION_SOURCE,
    pushed: pushedFreshness(config, bindings),
  };
  const keys = keyStore({
    store: bindings.KEY_STORE,
    directory: bindings.KEY_DIRECTORY,
    configKeys: config.API_KEYS,
    now,
  });
  const usage = new UsageReporting(new UsageCounter(), keys, now);
  const managedKeys = new KeyVerifier({
    lookup: (keyId, hash) => bindings.KEY_STORE.getByName(keyId).verify(hash),
    dataCentre: cacheApiChecks(localCache),
    now,
  });
  const app = baseApp(
    new Secrets(
      [config.CLOUDFLARE_API_TOKEN],
      config.API_KEYS.map((key) => key.sha256),
    ),
  );
  app.use(usageRecorder({ routeNames: ROUTE_NAMES, reporting: usage, analytics: config.USAGE }));
  // RealtimeKit's webhook answers before caller identity, CORS and rate limits: its sender
  // is known by the signature alone, and only deliveries that fail it are rate limited.
  const announce = changeAnnouncer(bindings);
  const webhooks = {
    config,
    inbox: bindings.WEBHOOK_INBOX,
    announce,
    limiter: config.PUBLIC_RATE_LIMITER,
  };
  for (const route of ROUTES) if (route.kind === "webhook") app.post(route.path, webhookHandler(webhooks));
  // Every request is counted once: preflights before cors() answers them (they never
  // reach the routes or the upstream), the rest after it, refused keys included.
  app.use(
    callerIdentity({
      configKeys: config.API_KEYS,
      managedKeys,
      addressLimiter: config.PUBLIC_RATE_LIMITER,
      verifyUser: userVerifier(config),
    }),
  );
  app.use(rateLimit(config, true));
  app.use(corsFor(config.ALLOWED_ORIGINS, CORS_METHODS));
  app.use(rateLimit(config, false));
  app.use(rejectRefusedCredentials());
  const settings: RouteSettings = { maxPerPage: config.MAX_PER_PAGE, scopes: SCOPES };
  const writes = { config, settings: reads.settings, participants: bindings.MEETING_PARTICIPANTS };
  const forwards = {
    config,
    settings: reads.settings,
    gate: bindings.BUDGET_GATE,
    idempotency: bindings.IDEMPOTENCY,
    participants: bindings.MEETING_PARTICIPANTS,
    tiers: reads.tiers,
    announce,
  };
  const builtins = {
    config,
    gate: bindings.BUDGET_GATE,
    inbox: bindings.WEBHOOK_INBOX,
    changeFeed: bindings.CHANGE_FEED,
    keys,
    usage,
  };
  for (const route of ROUTES) {
    if (route.kind === "webhook") continue;
    const access = requireAccess({
      isPublic: config.PUBLIC_ROUTES.includes(route.name),
      scope: route.scope,
      users: "users" in route ? route.users : false,
      selfParam: "selfParam" in route ? route.selfParam : undefined,
    });
    if (route.kind === "write") {
      // An upstream-shaped path names the account and app: only this proxy's own, before anything else.
      const handlers = writeHandlers(route, writes);
      if (isUpstreamShaped(route.path)) app.post(route.path, requireThisApp(config), access, ...handlers);
      else app.post(route.path, access, ...handlers);
      continue;
    }
    if (route.kind === "forwarded") {
      const handlers = forwardedHandlers(route, forwards, settings);
      app.on(route.method, route.path, access, ...handlers);
      app.on(route.method, upstreamShapedPath(route), requireThisApp(config), access, ...handlers);
      continue;
    }
    if (route.kind === "builtin") {
      const validators: MiddlewareHandler<AppEnv>[] = [
        ...("params" in route && route.params ? [validate("param", route.params)] : []),
        ...("query" in route && route.query ? [validate("query", route.query(settings))] : []),
        ...("json" in route && route.json ? [jsonBody(route.json(settings))] : []),
      ];
      app.on(route.method, route.path, access, ...validators, BUILTIN_HANDLERS[route.name](builtins));
      continue;
    }
    const handlers = proxyHandlers(route, config, reads, settings);
    app.get(route.path, access, ...handlers);
    app.get(upstreamShapedPath(route), requireThisApp(config), access, ...handlers);
  }
  // The API's description is public: it holds no data and no secret.
  app.get("/openapi.json", serveAsset("/openapi.json", "application/json"));
  app.get(
    "/docs",
    serveAsset("/docs.html", "text/html; charset=utf-8", { "Content-Security-Policy": REFERENCE_PAGE_CSP }),
  );
  for (const { path, methods } of ANSWERED_PATHS) app.all(path, methodNotAllowed(allowedMethods(methods).join(", ")));
  return app;
}

/** Answers every request with the misconfiguration error (readable cross-origin): the proxy fails closed. */
export function createMisconfiguredApp(problem: string, secrets: Secrets, allowedOrigins: readonly string[]) {
  const app = baseApp(secrets);
  app.use(corsFor(allowedOrigins, CORS_METHODS));
  app.all("*", () => {
    throw new ApiError("misconfigured", `proxy misconfigured: ${problem}`);
  });
  return app;
}
