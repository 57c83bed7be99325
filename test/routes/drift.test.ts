import { env } from "cloudflare:workers";
import { describe, expect, expectTypeOf, it } from "vitest";
import openapi from "../../public/openapi.json";
import { checkConfig, createApp } from "../../src/app.ts";
import type { ProxySchema } from "../../src/client.ts";
import {
  DEFAULT_PUBLIC_ROUTES,
  NEVER_PUBLIC_ROUTES,
  ROUTES,
  type Route,
  SCOPES,
  upstreamShapedPath,
} from "../../src/routes/table.ts";
import { callProxy, errorBody, useFakeUpstream } from "../support/proxy.ts";

const toOpenApi = (path: string) => path.replace(/:([A-Za-z]+)/g, "{$1}");

function registeredGets(): Set<string> {
  const parsed = checkConfig(env);
  if (!parsed.ok) throw new Error(parsed.problem);
  const app = createApp(parsed.config, env);
  return new Set(app.routes.filter((route) => route.method === "GET").map((route) => route.path));
}

describe("the route table is the single source of truth", () => {
  it("every entry is in the router, at its path and, when proxied, at its upstream-shaped path", () => {
    const gets = registeredGets();
    for (const route of ROUTES) {
      expect(gets, route.name).toContain(route.path);
      if (route.kind === "proxied") expect(gets, route.name).toContain(upstreamShapedPath(route));
    }
  });

  it("every entry is in the OpenAPI document, and the document has nothing else", () => {
    const expected = ROUTES.flatMap((route) =>
      route.kind === "proxied" ? [route.path, upstreamShapedPath(route)] : [route.path],
    ).map(toOpenApi);
    expect(Object.keys(openapi.paths).sort()).toEqual(expected.sort());
  });

  it("every entry is in the typed client, and the client has nothing else", () => {
    expectTypeOf<keyof ProxySchema>().toEqualTypeOf<Route["path"]>();
  });

  it("scopes, public defaults and never-public routes come from the table", () => {
    expect(SCOPES).toEqual(["active-session:read", "sessions:read", "participants:read", "status:read"]);
    expect(DEFAULT_PUBLIC_ROUTES).toEqual(["active-session", "health"]);
    expect(NEVER_PUBLIC_ROUTES).toEqual(["session-participants", "status"]);
  });

  it.each(
    ROUTES.flatMap((route) => (route.kind === "proxied" ? [route.path, upstreamShapedPath(route)] : [route.path])),
  )("%s answers other methods 405 with exactly the methods it answers in Allow", async (pattern) => {
    const fake = useFakeUpstream();
    const path = pattern
      .replace(":account", "0123456789abcdef0123456789abcdef")
      .replace(":app", "5f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")
      .replace(":meetingId", "qwerty-asdfgh")
      .replace(":sessionId", "5e551011-0000-4000-8000-000000000001");
    for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
      const response = await callProxy(path, { method });
      expect(response.status).toBe(405);
      expect(response.headers.get("Allow")).toBe("GET, HEAD, OPTIONS");
      expect(await errorBody(response)).toMatchObject({ error: { code: 405 } });
    }
    expect(fake.requests).toHaveLength(0);
  });

  it("any other path is a 404 in the envelope, without the upstream", async () => {
    const fake = useFakeUpstream();
    for (const path of ["/meetings", "/sessions/x/chat", "/client/v4/accounts", "/client/v4/user/tokens/verify"]) {
      const response = await callProxy(path);
      expect(response.status).toBe(404);
      expect(await errorBody(response)).toMatchObject({ error: { code: 404, message: "no such route" } });
    }
    expect(fake.requests).toHaveLength(0);
  });
});
