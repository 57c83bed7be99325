/**
 * @module The OpenAPI 3.1 document, built from the very zod schemas that validate
 * requests (the route table) and describe answers (responses.ts). Built at build time
 * by `npm run docs` into public/; never imported by the Worker, so it costs the bundle
 * and the hot path nothing. A test fails when public/ is out of date.
 */
import * as z from "zod/mini";
import packageJson from "../../package.json" with { type: "json" };
import { ERROR_KINDS, errorSpec } from "../errors.ts";
import { ANSWERS, errorEnvelope } from "../routes/answers.ts";
import {
  type BuiltinRoute,
  type ForwardedRoute,
  type ProxiedRoute,
  ROUTES,
  SCOPES,
  upstreamShapedPath,
  type WebhookRoute,
  type WriteRoute,
} from "../routes/table.ts";

type AnyRoute = ProxiedRoute | BuiltinRoute | WriteRoute | WebhookRoute | ForwardedRoute;

type JsonObject = Record<string, unknown>;

/** The limits the document states; a deployment's MAX_PER_PAGE may differ (it says so). */
const DOCUMENTED_LIMITS = { maxPerPage: 100, scopes: SCOPES };

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

/** A status's description: when each kind the proxy answers with it happens, from the error table. */
function whenStatus(status: string): string {
  const kinds = ERROR_KINDS.filter((kind) => String(errorSpec(kind).status) === status);
  return kinds.map((kind) => `\`${kind}\`: ${errorSpec(kind).when}`).join("; ");
}

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
          description: whenStatus(status),
          headers,
          content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorEnvelope" } } },
        },
      ];
    }),
  );
}

/** The rule of one param, as JSON Schema: the inner schema behind `singleValue(...)`, read on its input side. */
function paramRule(field: z.core.$ZodType): { required: boolean; schema: JsonObject } {
  const required = !(field instanceof z.ZodMiniOptional);
  const inner = field instanceof z.ZodMiniOptional ? field.def.innerType : field;
  const rule = inner instanceof z.ZodMiniPipe ? inner.def.out : inner;
  const schema = z.toJSONSchema(rule, { io: "input", unrepresentable: "any", target: "draft-2020-12" }) as JsonObject;
  delete schema.$schema;
  return { required, schema };
}

function parameters(object: z.ZodMiniType, location: "path" | "query"): JsonObject[] {
  if (!(object instanceof z.ZodMiniObject)) return [];
  return Object.entries(object.def.shape).map(([name, field]) => {
    const { required, schema } = paramRule(field);
    const { description, ...rest } = schema;
    return { name, in: location, required: location === "path" || required, description, schema: rest };
  });
}

function security(route: AnyRoute): JsonObject[] {
  if (route.publicByDefault || route.kind === "webhook") return [];
  const key = { apiKey: route.scope ? [route.scope] : [] };
  return route.users ? [{ userToken: [] }, key] : [key];
}

function toOpenApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

function access(route: AnyRoute): string {
  const key = route.scope ? `an API key with the scope \`${route.scope}\`` : "any valid API key";
  const who = route.publicByDefault ? "public by default" : route.users ? `a signed-in user's token, or ${key}` : key;
  const change = route.neverPublic ? "never public (`PUBLIC_ROUTES` may not name it)" : "`PUBLIC_ROUTES` may change it";
  return `Access: ${who}; ${change}.`;
}

function bodyRef(route: AnyRoute): JsonObject {
  return { $ref: `#/components/schemas/${route.answer}` };
}

const ACCOUNT_AND_APP: JsonObject[] = [
  {
    name: "account",
    in: "path",
    required: true,
    description: "This proxy's CLOUDFLARE_ACCOUNT_ID (any other: 404)",
    schema: { type: "string" },
  },
  {
    name: "app",
    in: "path",
    required: true,
    description: "This proxy's REALTIMEKIT_APP_ID (any other: 404)",
    schema: { type: "string" },
  },
];

function proxyOperation(route: ProxiedRoute, shape: "short" | "upstream"): JsonObject {
  const query = route.query(DOCUMENTED_LIMITS);
  const samePath =
    shape === "short"
      ? `Also at \`${toOpenApiPath(upstreamShapedPath(route))}\`, the upstream's own path (for the official \`cloudflare\` SDK).`
      : `The upstream-shaped path of \`${route.path}\`: same validation, access, limits and cache entry.`;
  return {
    operationId: shape === "short" ? route.name : `${route.name}-upstream-path`,
    summary: route.summary,
    description: `${access(route)} Cached: fresh for ${route.cacheTtl}, then served stale while revalidating, on upstream errors and when the upstream budget is spent; upstream 404s ("no live session") are stored and served like successes; concurrent misses share one upstream call across data centres. ${samePath}`,
    security: security(route),
    parameters: [
      ...(shape === "upstream" ? ACCOUNT_AND_APP : []),
      ...parameters(route.params, "path"),
      ...parameters(query, "query"),
    ],
    responses: {
      "200": {
        description: "The upstream's success envelope, unchanged",
        headers: SUCCESS_HEADERS,
        content: { "application/json": { schema: bodyRef(route) } },
      },
      "304": { description: "Not Modified: the If-None-Match matched the ETag", headers: SUCCESS_HEADERS },
      ...errorResponses(["400", "401", "403", "404", "429", "500", "502", "503", "504"]),
    },
  };
}

function builtinOperation(route: BuiltinRoute): JsonObject {
  const body = route.json?.(DOCUMENTED_LIMITS);
  const self = route.selfParam
    ? ` A key may also call it about itself (its own id as \`${route.selfParam}\`), without the scope.`
    : "";
  return {
    operationId: route.name,
    summary: route.summary,
    description: `${access(route)}${self} Never cached (\`Cache-Control: no-store\`).`,
    security: security(route),
    parameters: [
      ...(route.params ? parameters(route.params, "path") : []),
      ...(route.query ? parameters(route.query(DOCUMENTED_LIMITS), "query") : []),
    ],
    ...jsonRequestBody(body),
    responses: {
      ...successResponse(route),
      ...errorResponses(
        route.publicByDefault
          ? ["401", "429", "500"]
          : route.params || route.json
            ? ["400", "401", "403", "404", "409", "415", "429", "500", "503"]
            : ["401", "403", "429", "500", "503"],
      ),
    },
  };
}

/** A route's own JSON body, when it takes one (a builtin or forwarded route's). */
function jsonRequestBody(body: z.ZodMiniType | undefined): JsonObject {
  if (!body) return {};
  return {
    requestBody: {
      required: true,
      description: "At most 4 KiB, `Content-Type: application/json`.",
      content: { "application/json": { schema: ref(body) } },
    },
  };
}

/** The success answer: its envelope, under the common headers. */
function successResponse(route: AnyRoute): JsonObject {
  return {
    "200": {
      description: route.summary,
      headers: COMMON_HEADERS,
      content: { "application/json": { schema: bodyRef(route) } },
    },
  };
}

const ref = (schema: z.ZodMiniType): JsonObject => ({
  $ref: `#/components/schemas/${String(z.globalRegistry.get(schema)?.id)}`,
});

function requestBodyOf(route: WriteRoute): JsonObject | undefined {
  const { user, key } = route.requestBody;
  const schemas = [user, key].filter((schema): schema is z.ZodMiniType => schema !== undefined);
  if (schemas.length === 0) return undefined;
  const schema = schemas.length === 1 && schemas[0] ? ref(schemas[0]) : { oneOf: schemas.map(ref) };
  return {
    // A signed-in user may send no body at all; a backend's key must.
    required: user === undefined,
    description: user
      ? "A signed-in user sends UserJoinRequest (or nothing); a backend's key sends KeyJoinRequest. At most 4 KiB, `Content-Type: application/json`."
      : "At most 4 KiB, `Content-Type: application/json`.",
    content: { "application/json": { schema } },
  };
}

function forwardedOperation(route: ForwardedRoute, shape: "short" | "upstream"): JsonObject {
  const body = route.json?.(DOCUMENTED_LIMITS);
  const creates = route.creates
    ? " Creating is not idempotent upstream: it is sent once and never retried; with an `Idempotency-Key` header (1..255 printable characters) a repeat by the same caller within 24 hours gets the first answer again (`Idempotent-Replayed: true`) without an upstream call, a concurrent repeat waits for the first, and the same key with another body is a 409."
    : "";
  const samePath =
    shape === "short"
      ? ` Also at \`${toOpenApiPath(upstreamShapedPath(route))}\`, the upstream's own path (for the official \`cloudflare\` SDK).`
      : ` The upstream-shaped path of \`${route.path}\`.`;
  return {
    operationId: shape === "short" ? route.name : `${route.name}-upstream-path`,
    summary: route.summary,
    description: `${access(route)} Sent to the upstream exactly as given (once validated); never cached (\`Cache-Control: no-store\`); the stored answers it changes are dropped or renewed at once.${creates}${samePath}`,
    security: security(route),
    parameters: [
      ...(shape === "upstream" ? ACCOUNT_AND_APP : []),
      ...parameters(route.params, "path"),
      ...(route.creates
        ? [
            {
              name: "Idempotency-Key",
              in: "header",
              required: false,
              description: "Makes a repeat of this create safe: the same answer, once (24 hours, per caller)",
              schema: { type: "string", minLength: 1, maxLength: 255 },
            },
          ]
        : []),
    ],
    ...jsonRequestBody(body),
    responses: {
      ...successResponse(route),
      ...errorResponses(["400", "401", "403", "404", "409", "415", "429", "500", "502", "503", "504"]),
    },
  };
}

function writeOperation(route: WriteRoute): JsonObject {
  const body = requestBodyOf(route);
  return {
    operationId: route.name,
    summary: route.summary,
    description: `${access(route)} Never cached: every answer is \`Cache-Control: no-store\`, and its token is a secret. Answers 404 unless JOIN_PRESETS is set.`,
    security: security(route),
    parameters: parameters(route.params, "path"),
    ...(body ? { requestBody: body } : {}),
    responses: {
      ...successResponse(route),
      ...errorResponses(["400", "401", "403", "404", "415", "429", "500", "502", "503", "504"]),
    },
  };
}

function webhookOperation(route: WebhookRoute): JsonObject {
  return {
    operationId: route.name,
    summary: route.summary,
    description:
      "Called by RealtimeKit, not by clients: register this URL as the app's webhook (events meeting.started, meeting.ended, meeting.participantJoined, meeting.participantLeft). No key: the raw body (at most 1 MiB) must carry RealtimeKit's signature in `rtk-signature` (base64 RSA-SHA256 over the raw body), checked against REALTIMEKIT_WEBHOOK_PUBLIC_KEY before it is read; without a valid one, 401 and nothing done. A repeated `rtk-uuid` (or body), another app's event, an unknown event or one older than what is known: 200, ignored. Answers 404 unless REALTIMEKIT_WEBHOOK_PUBLIC_KEY is set.",
    security: [],
    parameters: [
      {
        name: "rtk-signature",
        in: "header",
        required: true,
        description: "Base64 RSA-SHA256 (PKCS#1 v1.5) signature of the raw body",
        schema: { type: "string" },
      },
      {
        name: "rtk-uuid",
        in: "header",
        required: false,
        description: "The delivery's id: a repeated one is acknowledged and ignored",
        schema: { type: "string" },
      },
    ],
    requestBody: {
      required: true,
      description: "RealtimeKit's event, as it signed it",
      content: { "application/json": { schema: { type: "object" } } },
    },
    responses: {
      ...successResponse(route),
      ...errorResponses(["400", "401", "404", "413", "429", "500", "503"]),
    },
  };
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

/** The whole document, every path from the route table. Deterministic: the same schemas give the same JSON. */
export function buildOpenApiDocument(): JsonObject {
  // Touch every schema so the registry holds them all before it is read.
  void [
    errorEnvelope,
    ...Object.values(ANSWERS),
    ...ROUTES.map((route) => ("json" in route ? route.json?.(DOCUMENTED_LIMITS) : undefined)),
  ];
  const paths: JsonObject = {};
  for (const route of ROUTES as readonly AnyRoute[]) {
    if (route.kind === "write") {
      paths[toOpenApiPath(route.path)] = { post: writeOperation(route) };
      continue;
    }
    if (route.kind === "forwarded") {
      const method = route.method.toLowerCase();
      for (const [path, shape] of [
        [route.path, "short"],
        [upstreamShapedPath(route), "upstream"],
      ] as const) {
        const at = toOpenApiPath(path);
        paths[at] = { ...(paths[at] as JsonObject), [method]: forwardedOperation(route, shape) };
      }
      continue;
    }
    if (route.kind === "webhook") {
      paths[route.path] = { post: webhookOperation(route) };
      continue;
    }
    if (route.kind === "builtin") {
      const path = toOpenApiPath(route.path);
      paths[path] = { ...(paths[path] as JsonObject), [route.method.toLowerCase()]: builtinOperation(route) };
      continue;
    }
    for (const [path, shape] of [
      [route.path, "short"],
      [upstreamShapedPath(route), "upstream"],
    ] as const) {
      const at = toOpenApiPath(path);
      paths[at] = { ...(paths[at] as JsonObject), get: proxyOperation(route, shape) };
    }
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "realtimekit-proxy",
      version: packageJson.version,
      description:
        "A validated, cached proxy over Cloudflare RealtimeKit: reads over meetings and sessions, and joining a meeting. Frontends call public routes without any token, and join with their signed-in user's token; internal teams call keyed routes with `Authorization: Bearer <API key>`. Every proxied route also answers at the upstream's own path under `/client/v4`, so the official `cloudflare` SDK works against the proxy with `baseURL` set to `<proxy>/client/v4` and `apiToken` set to a proxy API key. Every error is `{success: false, error: {code, type, message}}`. Rate limits: 429 with `Retry-After` when over.",
    },
    paths,
    components: {
      schemas: componentSchemas(),
      securitySchemes: {
        apiKey: {
          type: "http",
          scheme: "bearer",
          description:
            "An API key: a managed one (`rkp_live_...`, made with POST /keys or `npm run key:create`) or a config one (API_KEYS). The requirement lists the scope the key must hold.",
        },
        userToken: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description:
            "A signed-in user's token from the app's own identity provider (AUTH_JWKS_URL, AUTH_ISSUER, AUTH_AUDIENCE). It grants no key scope.",
        },
      },
    },
  };
}
