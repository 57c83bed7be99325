import { describe, expect, it } from "vitest";
import { ANSWERED_PATHS, allowedMethods } from "../../src/routes/table.ts";
import { LIVE_V2_MEETING, proxyWith, uncachedSessionsPath, useFakeUpstream } from "../support/proxy.ts";

const APP_ORIGIN = "https://app.example.com";
const LOCAL_ORIGIN = "http://localhost:5173";
const corsProxy = () => proxyWith({ ALLOWED_ORIGINS: `${APP_ORIGIN}, ${LOCAL_ORIGIN}` });
const ACTIVE = `/meetings/${LIVE_V2_MEETING}/active-session`;

function preflight(origin: string) {
  return {
    method: "OPTIONS",
    anonymous: true,
    headers: {
      Origin: origin,
      "Access-Control-Request-Method": "GET",
      "Access-Control-Request-Headers": "authorization, if-none-match",
    },
  };
}

function varyOf(response: Response): string[] {
  return (response.headers.get("Vary") ?? "").split(",").map((value) => value.trim().toLowerCase());
}

describe("CORS preflight", () => {
  it("from a listed origin is answered 204 with the allowed methods and headers, without the upstream", async () => {
    const fake = useFakeUpstream();
    const response = await corsProxy()("/sessions", preflight(APP_ORIGIN));
    expect(response.status).toBe(204);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe(APP_ORIGIN);
    // Every method some route of the table answers, and nothing else (no PUT, no PATCH).
    const methods = response.headers.get("Access-Control-Allow-Methods")?.split(",") ?? [];
    expect(new Set(methods)).toEqual(new Set(ANSWERED_PATHS.flatMap(({ methods }) => allowedMethods(methods))));
    // The proxy's own request headers, and those the official cloudflare SDK sends.
    const allowed = response.headers.get("Access-Control-Allow-Headers")?.split(",") ?? [];
    for (const name of ["Authorization", "If-None-Match", "X-Request-Id", "api-version", "X-Stainless-Retry-Count"]) {
      expect(allowed).toContain(name);
    }
    expect(response.headers.get("Access-Control-Max-Age")).toBe("600");
    expect(varyOf(response)).toContain("origin");
    expect(fake.requests).toHaveLength(0);
  });

  it("a browser's join (POST with Authorization and Content-Type) is allowed from a listed origin", async () => {
    const fake = useFakeUpstream();
    const response = await corsProxy()(`/meetings/${LIVE_V2_MEETING}/join`, {
      method: "OPTIONS",
      anonymous: true,
      headers: {
        Origin: APP_ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe(APP_ORIGIN);
    expect(response.headers.get("Access-Control-Allow-Methods")?.split(",")).toContain("POST");
    const allowed = (response.headers.get("Access-Control-Allow-Headers") ?? "").toLowerCase().split(",");
    expect(allowed).toEqual(expect.arrayContaining(["authorization", "content-type"]));
    expect(fake.requests).toHaveLength(0);
  });

  it("from an unlisted origin gets no Access-Control-Allow-Origin", async () => {
    const fake = useFakeUpstream();
    const response = await corsProxy()("/sessions", preflight("https://evil.example"));
    expect(response.headers.has("Access-Control-Allow-Origin")).toBe(false);
    expect(varyOf(response)).toContain("origin");
    expect(fake.requests).toHaveLength(0);
  });

  it("does not need an API key, even for a keyed route", async () => {
    const response = await corsProxy()(uncachedSessionsPath(), preflight(LOCAL_ORIGIN));
    expect(response.status).toBe(204);
  });

  it("origins must match exactly: scheme, host and port", async () => {
    for (const origin of [
      "http://app.example.com",
      "https://app.example.com:8443",
      "https://sub.app.example.com",
      "null",
    ]) {
      const response = await corsProxy()("/sessions", preflight(origin));
      expect(response.headers.has("Access-Control-Allow-Origin"), origin).toBe(false);
    }
  });
});

describe("CORS on answers", () => {
  it("a listed origin gets its origin back and the exposed headers", async () => {
    useFakeUpstream();
    const response = await corsProxy()(ACTIVE, { anonymous: true, headers: { Origin: APP_ORIGIN } });
    expect(response.status).toBe(200);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe(APP_ORIGIN);
    expect(response.headers.get("Access-Control-Expose-Headers")).toBe(
      "X-Request-Id,Cache-Status,Age,ETag,Retry-After,X-Should-Retry",
    );
    expect(response.headers.has("Access-Control-Allow-Credentials")).toBe(false);
    expect(varyOf(response)).toContain("origin");
  });

  it("errors carry CORS headers too, so a browser can read them", async () => {
    const call = corsProxy();
    const cases = [
      [uncachedSessionsPath(), true, 401],
      ["/sessions?per_page=0", false, 400],
      ["/nowhere", true, 404],
    ] as const;
    for (const [path, anonymous, status] of cases) {
      const response = await call(path, { anonymous, headers: { Origin: APP_ORIGIN } });
      expect(response.status).toBe(status);
      expect(response.headers.get("Access-Control-Allow-Origin"), path).toBe(APP_ORIGIN);
    }
  });

  it("an unlisted origin gets no Access-Control-Allow-Origin", async () => {
    useFakeUpstream();
    const response = await corsProxy()(ACTIVE, { anonymous: true, headers: { Origin: "https://evil.example" } });
    expect(response.headers.has("Access-Control-Allow-Origin")).toBe(false);
  });

  it("Vary: Origin is on every response, with or without an Origin", async () => {
    useFakeUpstream();
    const call = corsProxy();
    for (const path of [ACTIVE, "/health", "/nowhere", uncachedSessionsPath()]) {
      expect(varyOf(await call(path)), path).toContain("origin");
    }
  });

  it("never a wildcard: without ALLOWED_ORIGINS no origin is allowed", async () => {
    useFakeUpstream();
    const response = await proxyWith()(ACTIVE, { anonymous: true, headers: { Origin: APP_ORIGIN } });
    expect(response.headers.has("Access-Control-Allow-Origin")).toBe(false);
    expect(varyOf(response)).toContain("origin");
  });

  it("a 304 keeps the CORS headers", async () => {
    useFakeUpstream();
    const call = corsProxy();
    const etag = (await call(ACTIVE, { headers: { Origin: APP_ORIGIN } })).headers.get("ETag") ?? "";
    const response = await call(ACTIVE, { headers: { Origin: APP_ORIGIN, "If-None-Match": etag } });
    expect(response.status).toBe(304);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe(APP_ORIGIN);
  });
});
