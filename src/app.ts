/** @module The architecture in one place: middleware order, routes, and error handling. */
import { Hono } from "hono";
import { cors } from "hono/cors";
import { secureHeaders } from "hono/secure-headers";
import { timing } from "hono/timing";
import packageJson from "../package.json" with { type: "json" };
import { type AccessVariables, callerIdentity, rateLimit, requireAccess } from "./access.ts";
import { serveAsset } from "./assets.ts";
import { gateStub } from "./budget/gate-object.ts";
import { type DirectCallThrottle, isolateDirectCalls, RefusalMemory } from "./budget/refusals.ts";
import { demandFor } from "./cache/answer.ts";
import { type CacheStorageTier, LocalTier } from "./cache/local-tier.ts";
import { loadThroughGate, type SharedRequest, type SharedResult, toFailure } from "./cache/shared-key.ts";
import { sharedCacheStub } from "./cache/shared-object.ts";
import { TieredCache } from "./cache/tiers.ts";
import { type Config, secretsOf } from "./config.ts";
import { REFERENCE_PAGE_CSP } from "./docs-page.ts";
import { ApiError, errorHandler } from "./errors.ts";
import { logger } from "./log.ts";
import { type ProxyDeps, proxyRoute } from "./proxy.ts";
import { requestIdentity } from "./request-id.ts";
import { type ObservedVariables, requestLog } from "./request-log.ts";
import { activeSessionRoute, type RouteName, sessionsRoute } from "./routes.ts";
import { runtime } from "./runtime.ts";
import { newTrace, upstreamSettings } from "./upstream.ts";

export interface AppEnv {
  Bindings: Env;
  Variables: { requestId: string } & AccessVariables & ObservedVariables;
}

const ALLOWED_METHODS = "GET, HEAD, OPTIONS";
const CORS_EXPOSED_HEADERS = ["X-Request-Id", "Cache-Status", "Age", "ETag", "Retry-After"];
const CORS_ALLOWED_HEADERS = ["Authorization", "If-None-Match", "X-Request-Id"];

/** Route pattern → route name, for log lines. */
const ROUTE_NAMES: Record<string, string> = {
  "/health": "health",
  "/status": "status",
  [activeSessionRoute.path]: activeSessionRoute.name,
  [sessionsRoute.path]: sessionsRoute.name,
  "/openapi.json": "openapi",
  "/docs": "docs",
};

function baseApp(secrets: readonly string[]) {
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
  app.onError(errorHandler(secrets));
  app.notFound(() => {
    throw new ApiError("not_found", "no such route");
  });
  return app;
}

function methodNotAllowed(): never {
  throw new ApiError("method_not_allowed", `method not allowed; use ${ALLOWED_METHODS}`, {
    headers: { Allow: ALLOWED_METHODS },
  });
}

export interface AppOptions {
  /** This data centre's Cache API tier; tests stand several data centres up with named caches. */
  localCache?: CacheStorageTier;
}

/**
 * When the key's shared object cannot be reached, the data centre loads by itself, still
 * through the budget gate (or, with the gate down too, one direct call a second).
 */
function loadWithoutSharedTier(config: Config, throttle: DirectCallThrottle) {
  const deps = {
    token: config.CLOUDFLARE_API_TOKEN,
    gate: gateStub(config.BUDGET_GATE),
    throttle,
    now: () => runtime.now(),
  };
  return async function loadWithoutSharedTier(request: SharedRequest): Promise<SharedResult> {
    logger.write("error", {
      event: "shared_tier_unreachable",
      route: request.route,
      hint: "a shared cache Durable Object failed: this data centre calls the upstream itself, through the budget gate",
    });
    const trace = newTrace();
    try {
      const demand = demandFor(request.copyProducedAt, request, runtime.now());
      const answer = await loadThroughGate(deps, request, demand, trace);
      return { kind: "answer", answer, fetched: true, trace };
    } catch (error) {
      return { kind: "failure", failure: toFailure(error), trace };
    }
  };
}

/** The proxy for one valid configuration; built once per isolate. */
export function createApp(config: Config, options: AppOptions = {}) {
  const deps: ProxyDeps = {
    config,
    settings: upstreamSettings(config),
    tiers: new TieredCache({
      local: new LocalTier(options.localCache ?? caches.default, () => runtime.now()),
      askShared: (request) => sharedCacheStub(config.SHARED_CACHE, request.key).serve(request),
      whenSharedDown: loadWithoutSharedTier(config, isolateDirectCalls),
      windows: {
        staleWhileRevalidateSeconds: config.STALE_WHILE_REVALIDATE_SECONDS,
        staleIfErrorSeconds: config.STALE_IF_ERROR_SECONDS,
      },
      refusals: new RefusalMemory(),
      now: () => runtime.now(),
    }),
  };
  const isPublic = (route: RouteName) => config.PUBLIC_ROUTES.includes(route);
  const app = baseApp(secretsOf(config));
  // Preflights end in cors(), before the limiter and the routes: they never reach the upstream.
  app.use(
    cors({
      origin: (origin) => (config.ALLOWED_ORIGINS.includes(origin) ? origin : null),
      allowMethods: ["GET", "HEAD", "OPTIONS"],
      allowHeaders: CORS_ALLOWED_HEADERS,
      exposeHeaders: CORS_EXPOSED_HEADERS,
      maxAge: 600,
    }),
  );
  app.use(callerIdentity(config.API_KEYS));
  app.use(rateLimit());
  const routes = app
    .get("/health", requireAccess(isPublic("health"), undefined), (c) =>
      c.json({ status: "ok", version: packageJson.version }),
    )
    .get("/status", requireAccess(isPublic("status"), "status:read"), async (c) => {
      const status = await gateStub(config.BUDGET_GATE)
        .status({ budget: config.UPSTREAM_BUDGET, callerBudget: config.CALLER_MISS_BUDGET })
        .catch(() => {
          throw new ApiError("gate_unavailable", "the budget gate could not be reached");
        });
      return c.json({ success: true as const, data: status });
    })
    .get(
      activeSessionRoute.path,
      requireAccess(isPublic(activeSessionRoute.name), activeSessionRoute.scope),
      ...proxyRoute(activeSessionRoute, deps),
    )
    .get(
      sessionsRoute.path,
      requireAccess(isPublic(sessionsRoute.name), sessionsRoute.scope),
      ...proxyRoute(sessionsRoute, deps),
    )
    // The API's description is public: it holds no data and no secret.
    .get("/openapi.json", serveAsset("/openapi.json", "application/json"))
    .get(
      "/docs",
      serveAsset("/docs.html", "text/html; charset=utf-8", { "Content-Security-Policy": REFERENCE_PAGE_CSP }),
    );
  for (const path of Object.keys(ROUTE_NAMES)) app.all(path, methodNotAllowed);
  return routes;
}

/** Answers every request with the misconfiguration error: the proxy fails closed. */
export function createMisconfiguredApp(problem: string, secrets: readonly string[]) {
  const app = baseApp(secrets);
  app.all("*", () => {
    throw new ApiError("misconfigured", `proxy misconfigured: ${problem}`);
  });
  return app;
}

export type AppType = ReturnType<typeof createApp>;
