import { env } from "cloudflare:workers";
import { describe, expect, expectTypeOf, it } from "vitest";
import openapi from "../../public/openapi.json";
import { checkConfig, createApp } from "../../src/app.ts";
import type { ProxySchema } from "../../src/client.ts";
import {
  ANSWERED_PATHS,
  allowedMethods,
  DEFAULT_PUBLIC_ROUTES,
  NEVER_PUBLIC_ROUTES,
  ROUTES,
  type Route,
  SCOPES,
  upstreamShapedPath,
} from "../../src/routes/table.ts";
import { callProxy, errorBody, useFakeUpstream } from "../support/proxy.ts";

const toOpenApi = (path: string) => path.replace(/:([A-Za-z]+)/g, "{$1}");
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];

function registered(): Set<string> {
  const parsed = checkConfig(env);
  if (!parsed.ok) throw new Error(parsed.problem);
  const app = createApp(parsed.config, env);
  return new Set(app.routes.map((route) => `${route.method} ${route.path}`));
}

/** A concrete path for a pattern, with this proxy's account and app and a valid id for each param. */
function concrete(pattern: string): string {
  return pattern
    .replace(":account", "0123456789abcdef0123456789abcdef")
    .replace(":app", "5f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")
    .replace(":meetingId", "qwerty-asdfgh")
    .replace(":sessionId", "5e551011-0000-4000-8000-000000000001")
    .replace(":keyId", "key_AAAAAAAAAAAA");
}

describe("the route table is the single source of truth", () => {
  it("every entry is in the router with its method, at its path and, when proxied or forwarded, at its upstream-shaped path", () => {
    const routes = registered();
    for (const route of ROUTES) {
      expect(routes, route.name).toContain(`${route.method} ${route.path}`);
      if (route.kind === "proxied" || route.kind === "forwarded")
        expect(routes, route.name).toContain(`${route.method} ${upstreamShapedPath(route)}`);
    }
  });

  it("every entry is in the OpenAPI document under its method, and the document has nothing else", () => {
    const expected = ROUTES.flatMap((route) =>
      (route.kind === "proxied" || route.kind === "forwarded"
        ? [route.path, upstreamShapedPath(route)]
        : [route.path]
      ).map((path) => `${route.method.toLowerCase()} ${toOpenApi(path)}`),
    );
    const documented = Object.entries(openapi.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method} ${path}`),
    );
    expect(documented.sort()).toEqual(expected.sort());
  });

  it("every entry is in the typed client, and the client has nothing else", () => {
    expectTypeOf<keyof ProxySchema>().toEqualTypeOf<Route["path"]>();
  });

  it("scopes, public defaults and never-public routes are what the entries say", () => {
    for (const route of ROUTES) {
      if (route.scope) expect(SCOPES).toContain(route.scope);
      expect(DEFAULT_PUBLIC_ROUTES.includes(route.name), route.name).toBe(route.publicByDefault);
      expect(NEVER_PUBLIC_ROUTES.includes(route.name), route.name).toBe(route.neverPublic);
      // A route that may never be public is never public by default either.
      if (route.neverPublic) expect(route.publicByDefault, route.name).toBe(false);
    }
    expect(new Set(SCOPES).size).toBe(SCOPES.length);
  });

  it.each(ANSWERED_PATHS.filter(({ path }) => path !== "/openapi.json" && path !== "/docs"))(
    "$path answers every other method 405 with exactly the methods it answers in Allow",
    async ({ path, methods }) => {
      const fake = useFakeUpstream();
      const allow = allowedMethods(methods);
      for (const method of METHODS.filter((candidate) => !allow.includes(candidate))) {
        const response = await callProxy(concrete(path), { method });
        expect(response.status, method).toBe(405);
        expect(response.headers.get("Allow")).toBe(allow.join(", "));
        expect(await errorBody(response)).toMatchObject({ error: { code: 405 } });
      }
      expect(fake.requests).toHaveLength(0);
    },
  );

  it("any other path is a 404 in the envelope, without the upstream", async () => {
    const fake = useFakeUpstream();
    for (const path of [
      "/meetings/qwerty-asdfgh/recordings",
      "/sessions/x/chat",
      "/client/v4/accounts",
      "/client/v4/user/tokens/verify",
    ]) {
      const response = await callProxy(path);
      expect(response.status).toBe(404);
      expect(await errorBody(response)).toMatchObject({ error: { code: 404, message: "no such route" } });
    }
    expect(fake.requests).toHaveLength(0);
  });
});
