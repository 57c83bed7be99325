/** @module The architecture in one place: middleware order, the routes of the table, and error handling. */
import { type Context, type Handler, Hono } from "hono";
import { cors } from "hono/cors";
import { secureHeaders } from "hono/secure-headers";
import { timing } from "hono/timing";
import packageJson from "../package.json" with { type: "json" };
import { callerIdentity, rateLimit, rejectRefusedKeys, requireAccess } from "./access/middleware.ts";
import { gateStub } from "./budget/gate-object.ts";
import type { CacheStorageTier } from "./cache/local-tier.ts";
import { type Config, parseConfig } from "./config.ts";
import type { AppEnv } from "./context.ts";
import { serveAsset } from "./docs/assets.ts";
import { REFERENCE_PAGE_CSP } from "./docs/page.ts";
import { ApiError } from "./errors.ts";
import { logger } from "./log.ts";
import { requestIdentity } from "./observability/request-id.ts";
import { requestLog } from "./observability/request-log.ts";
import type { ReadServer } from "./reads/answer-read.ts";
import { dataCentreTiers, type ReadBindings } from "./reads/data-centre.ts";
import { LiveSessionsView } from "./reads/live-index.ts";
import { proxyHandlers, requireThisApp } from "./routes/proxy.ts";
import { renderError } from "./routes/render-error.ts";
import { ROUTE_CATALOG, ROUTES, type Route, upstreamShapedPath } from "./routes/table.ts";
import { Secrets } from "./secrets.ts";
import { upstreamSettings } from "./upstream/request.ts";

const ALLOWED_METHODS = "GET, HEAD, OPTIONS";
const CORS_EXPOSED_HEADERS = ["X-Request-Id", "Cache-Status", "Age", "ETag", "Retry-After"];
const CORS_ALLOWED_HEADERS = [
  "Authorization",
  "If-None-Match",
  "X-Request-Id",
  // What the official `cloudflare` SDK sends with every request.
  "Content-Type",
  "api-version",
  "X-Stainless-Arch",
  "X-Stainless-Lang",
  "X-Stainless-OS",
  "X-Stainless-Package-Version",
  "X-Stainless-Retry-Count",
  "X-Stainless-Runtime",
  "X-Stainless-Runtime-Version",
  "X-Stainless-Timeout",
];

/** Every path the proxy answers, by the name its log lines give it. */
const PATHS_BY_NAME: [string, string][] = [
  ...ROUTES.flatMap((route): [string, string][] =>
    route.kind === "proxied"
      ? [
          [route.path, route.name],
          [upstreamShapedPath(route), route.name],
        ]
      : [[route.path, route.name]],
  ),
  ["/openapi.json", "openapi"],
  ["/docs", "docs"],
];
const ROUTE_NAMES_BY_PATH: Record<string, string> = Object.fromEntries(PATHS_BY_NAME);

function baseApp(secrets: Secrets) {
  logger.protect(secrets);
  const app = new Hono<AppEnv>();
  app.use(requestIdentity(secrets));
  app.use(timing({ totalDescription: "proxy" }));
  app.use(requestLog(ROUTE_NAMES_BY_PATH));
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

function corsFor(allowedOrigins: readonly string[]) {
  return cors({
    origin: (origin) => (allowedOrigins.includes(origin) ? origin : null),
    allowMethods: ["GET", "HEAD", "OPTIONS"],
    allowHeaders: CORS_ALLOWED_HEADERS,
    exposeHeaders: CORS_EXPOSED_HEADERS,
    maxAge: 600,
  });
}

function methodNotAllowed(): never {
  throw new ApiError("method_not_allowed", `method not allowed; use ${ALLOWED_METHODS}`, {
    headers: { Allow: ALLOWED_METHODS },
  });
}

/** The handlers of the routes the proxy answers itself; a new local route without one does not compile. */
const LOCAL_HANDLERS = {
  health: () => (c: Context) => c.json({ status: "ok", version: packageJson.version }),
  status: (config: Config, bindings: ReadBindings) =>
    async function status(c: Context) {
      const allowances = { budget: config.UPSTREAM_BUDGET, callerBudget: config.CALLER_MISS_BUDGET };
      const data = await gateStub(bindings.BUDGET_GATE)
        .status(allowances)
        .catch(() => {
          throw new ApiError("gate_unavailable", "the budget gate could not be reached");
        });
      return c.json({ success: true, data });
    },
} satisfies Record<Extract<Route, { kind: "local" }>["name"], (config: Config, bindings: ReadBindings) => Handler>;

export interface AppOptions {
  /** This data centre's Cache API tier; tests stand several data centres up with named caches. */
  localCache?: CacheStorageTier;
}

/** Checks the Worker's env against the configuration schema and the route table. */
export function checkConfig(env: object) {
  return parseConfig(env, ROUTE_CATALOG);
}

/** The proxy for one valid configuration; built once per isolate. */
export function createApp(config: Config, bindings: ReadBindings, options: AppOptions = {}) {
  const reads: ReadServer = {
    settings: upstreamSettings(config),
    tiers: dataCentreTiers(config, bindings, options.localCache ?? caches.default),
    liveSessions: new LiveSessionsView(),
    source: config.ACTIVE_SESSION_SOURCE,
  };
  const app = baseApp(
    new Secrets(
      [config.CLOUDFLARE_API_TOKEN],
      config.API_KEYS.map((key) => key.sha256),
    ),
  );
  // Every request is counted once: preflights before cors() answers them (they never
  // reach the routes or the upstream), the rest after it, refused keys included.
  app.use(callerIdentity(config.API_KEYS));
  app.use(rateLimit(config, true));
  app.use(corsFor(config.ALLOWED_ORIGINS));
  app.use(rateLimit(config, false));
  app.use(rejectRefusedKeys());
  for (const route of ROUTES) {
    const access = requireAccess({ isPublic: config.PUBLIC_ROUTES.includes(route.name), scope: route.scope });
    if (route.kind === "local") {
      app.get(route.path, access, LOCAL_HANDLERS[route.name](config, bindings));
      continue;
    }
    const handlers = proxyHandlers(route, config, reads);
    app.get(route.path, access, ...handlers);
    app.get(upstreamShapedPath(route), requireThisApp(config), access, ...handlers);
  }
  // The API's description is public: it holds no data and no secret.
  app.get("/openapi.json", serveAsset("/openapi.json", "application/json"));
  app.get(
    "/docs",
    serveAsset("/docs.html", "text/html; charset=utf-8", { "Content-Security-Policy": REFERENCE_PAGE_CSP }),
  );
  for (const [path] of PATHS_BY_NAME) app.all(path, methodNotAllowed);
  return app;
}

/** Answers every request with the misconfiguration error (readable cross-origin): the proxy fails closed. */
export function createMisconfiguredApp(problem: string, secrets: Secrets, allowedOrigins: readonly string[]) {
  const app = baseApp(secrets);
  app.use(corsFor(allowedOrigins));
  app.all("*", () => {
    throw new ApiError("misconfigured", `proxy misconfigured: ${problem}`);
  });
  return app;
}
