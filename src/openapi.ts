/**
 * @module The OpenAPI 3.1 document, built from the very zod schemas that validate
 * requests (the route table) and describe answers (responses.ts). Built at build time
 * by `npm run docs` into public/; never imported by the Worker, so it costs the bundle
 * and the hot path nothing. A test fails when public/ is out of date.
 */
import * as z from "zod";
import packageJson from "../package.json" with { type: "json" };
import { activeSessionEnvelope, errorEnvelope, healthBody, sessionsEnvelope, statusEnvelope } from "./responses.ts";
import { DEFAULT_PUBLIC_ROUTES, PROXY_ROUTES, type ProxyRoute, type RouteName } from "./routes.ts";

type JsonObject = Record<string, unknown>;
type AnyProxyRoute = ProxyRoute<z.ZodType, z.ZodType, unknown, string>;

/** The limits the document states; a deployment's MAX_PER_PAGE may differ (it says so). */
const DOCUMENTED_LIMITS = { maxPerPage: 100 };

/** Each proxied route's success body; `satisfies` makes a new route without one a type error. */
const SUCCESS_BODIES = {
  "active-session": activeSessionEnvelope,
  sessions: sessionsEnvelope,
} satisfies Record<Exclude<RouteName, "health" | "status">, z.ZodType>;

const header = (description: string, schema: JsonObject = { type: "string" }) => ({ description, schema });

const COMMON_HEADERS = {
  "X-Request-Id": header("The caller's request id when well formed (1..64 of A-Z a-z 0-9 _ -), else a new one"),
  "Server-Timing": header(
    "`total` (the proxy), `upstream` (time spent on the upstream, when called), `cache` (hit or miss)",
  ),
};

const SUCCESS_HEADERS = {
  ...COMMON_HEADERS,
  "Cache-Status": header("RFC 9211, e.g. `realtimekit-proxy; hit; ttl=7` or `realtimekit-proxy; fwd=miss; stored`"),
  Age: header("Seconds since the upstream answered", { type: "integer", minimum: 0 }),
  ETag: header("Strong validator of the body; send it back in If-None-Match for a 304"),
  "Cache-Control": header("`private, max-age=<seconds still fresh>`"),
};

const ERROR_STATUSES: Record<string, string> = {
  "400": "Invalid path or query params: `issues` lists every problem",
  "401": "No API key where the route needs one, or an unknown key (`WWW-Authenticate: Bearer`)",
  "403": "The API key lacks the route's scope",
  "404": "No such route, or the upstream found nothing (its message kept)",
  "429": "Over the caller's rate limit (`Retry-After`)",
  "500": "The proxy is misconfigured",
  "502": "The upstream failed, answered badly, or rejected the proxy's credentials",
  "503": "The upstream's rate limit was reached (`Retry-After`)",
  "504": "The upstream did not answer in time",
};

function errorResponses(statuses: string[]): JsonObject {
  return Object.fromEntries(
    statuses.map((status) => {
      const retry = status === "429" || status === "503";
      const headers = retry
        ? { ...COMMON_HEADERS, "Retry-After": header("Seconds to wait", { type: "integer", minimum: 0 }) }
        : COMMON_HEADERS;
      return [
        status,
        {
          description: ERROR_STATUSES[status],
          headers,
          content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorEnvelope" } } },
        },
      ];
    }),
  );
}

/** The rule of one param, as JSON Schema: the inner schema behind `singleValue(...)`, read on its input side. */
function paramRule(field: z.ZodType): { required: boolean; schema: JsonObject } {
  const required = !(field instanceof z.ZodOptional);
  const inner = field instanceof z.ZodOptional ? (field.unwrap() as z.ZodType) : field;
  const rule = inner instanceof z.ZodPipe ? (inner.out as z.ZodType) : inner;
  const schema = z.toJSONSchema(rule, { io: "input", unrepresentable: "any", target: "draft-2020-12" }) as JsonObject;
  delete schema.$schema;
  return { required, schema };
}

function parameters(object: z.ZodType, location: "path" | "query"): JsonObject[] {
  if (!(object instanceof z.ZodObject)) return [];
  return Object.entries(object.shape as Record<string, z.ZodType>).map(([name, field]) => {
    const { required, schema } = paramRule(field);
    const { description, ...rest } = schema;
    return { name, in: location, required: location === "path" || required, description, schema: rest };
  });
}

function security(route: RouteName, scope: string | undefined): JsonObject[] {
  return DEFAULT_PUBLIC_ROUTES.includes(route) ? [] : [{ apiKey: scope ? [scope] : [] }];
}

function toOpenApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

function proxyOperation(route: AnyProxyRoute): JsonObject {
  const query = route.query(DOCUMENTED_LIMITS);
  return {
    operationId: route.name,
    summary: route.summary,
    description: `Access: ${
      DEFAULT_PUBLIC_ROUTES.includes(route.name) ? "public by default" : `an API key with the scope \`${route.scope}\``
    } (\`PUBLIC_ROUTES\` may change it). Cached: fresh for ${route.cacheTtl}, then served stale while revalidating, on upstream errors and when the upstream budget is spent; upstream 404s are stored for the TTL and never served stale. Concurrent misses share one upstream call across data centres.`,
    security: security(route.name, route.scope),
    parameters: [...parameters(route.params, "path"), ...parameters(query, "query")],
    responses: {
      "200": {
        description: "The upstream's success envelope, unchanged",
        headers: SUCCESS_HEADERS,
        content: {
          "application/json": {
            schema: { $ref: `#/components/schemas/${schemaId(route.name as keyof typeof SUCCESS_BODIES)}` },
          },
        },
      },
      "304": { description: "Not Modified: the If-None-Match matched the ETag", headers: SUCCESS_HEADERS },
      ...errorResponses(["400", "401", "403", "404", "429", "500", "502", "503", "504"]),
    },
  };
}

function schemaId(route: keyof typeof SUCCESS_BODIES): string {
  return String(z.globalRegistry.get(SUCCESS_BODIES[route])?.id);
}

function componentSchemas(): JsonObject {
  const registry = z.toJSONSchema(z.globalRegistry, {
    io: "output",
    target: "draft-2020-12",
    uri: (id) => `#/components/schemas/${id}`,
  });
  const schemas: JsonObject = {};
  for (const [id, schema] of Object.entries(registry.schemas)) {
    const { $schema: _ignored, ...rest } = schema as JsonObject;
    schemas[id] = rest;
  }
  return schemas;
}

/** The whole document. Deterministic: the same schemas give the same JSON. */
export function buildOpenApiDocument(): JsonObject {
  // Touch every schema so the registry holds them all before it is read.
  void [healthBody, statusEnvelope, errorEnvelope, ...Object.values(SUCCESS_BODIES)];
  const paths: JsonObject = {};
  for (const route of PROXY_ROUTES as readonly AnyProxyRoute[]) {
    paths[toOpenApiPath(route.path)] = { get: proxyOperation(route) };
  }
  paths["/health"] = {
    get: {
      operationId: "health",
      summary: "200 when the configuration is valid, else the misconfiguration 500",
      description: "Access: public by default (`PUBLIC_ROUTES` may change it; then any valid API key).",
      security: security("health", undefined),
      responses: {
        "200": {
          description: "The proxy is configured and up",
          headers: COMMON_HEADERS,
          content: { "application/json": { schema: { $ref: "#/components/schemas/Health" } } },
        },
        ...errorResponses(["401", "429", "500"]),
      },
    },
  };
  paths["/status"] = {
    get: {
      operationId: "status",
      summary: "The upstream budget: permits left, any pause, spend per route, callers over their share",
      description: "Access: an API key with the scope `status:read`; never public.",
      security: security("status", "status:read"),
      responses: {
        "200": {
          description: "The budget gate's state",
          headers: COMMON_HEADERS,
          content: { "application/json": { schema: { $ref: "#/components/schemas/StatusEnvelope" } } },
        },
        ...errorResponses(["401", "403", "429", "500", "503"]),
      },
    },
  };
  return {
    openapi: "3.1.0",
    info: {
      title: "realtimekit-proxy",
      version: packageJson.version,
      description:
        "A read-only, validated, cached proxy over Cloudflare RealtimeKit. Frontends call public routes without any token; internal teams call keyed routes with `Authorization: Bearer <API key>`. Every error is `{success: false, error: {code, message}}`. Rate limits: 429 with `Retry-After` when over.",
    },
    paths,
    components: {
      schemas: componentSchemas(),
      securitySchemes: {
        apiKey: {
          type: "http",
          scheme: "bearer",
          description:
            "An API key made with `npm run key:create` (prefix `rkp_`). The requirement lists the scope the key must hold.",
        },
      },
    },
  };
}
