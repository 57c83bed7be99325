import { describe, expect, inject, it } from "vitest";
import apiDoc from "../../docs/api.md?raw";
import operatingDoc from "../../docs/operating.md?raw";
import readme from "../../README.md?raw";
import { buildOpenApiDocument } from "../../src/docs/openapi.ts";
import { REFERENCE_PAGE_CSP, renderReferencePage } from "../../src/docs/page.ts";
import { GENERATED_TABLES, withTable } from "../../src/docs/reference-tables.ts";
import { ROUTES, SCOPES } from "../../src/routes/table.ts";

const sessionsRoute = ROUTES[1];

import { callProxy, useFakeUpstream } from "../support/proxy.ts";

const STALE = "public/ is out of date with the schemas: run `npm run docs` and commit the result";

describe("GET /openapi.json", () => {
  it("serves the document built from the current schemas", async () => {
    const fake = useFakeUpstream();
    const response = await callProxy("/openapi.json", { anonymous: true });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("application/json");
    expect(await response.json(), STALE).toEqual(buildOpenApiDocument());
    expect(fake.requests).toHaveLength(0);
  });

  it("is a valid OpenAPI 3.1 document (checked by @seriousme/openapi-schema-validator)", () => {
    const verdict = inject("openapiVerdict");
    expect(verdict.version).toBe("3.1");
    expect(verdict.errors).toBe("[]");
    expect(verdict.valid).toBe(true);
  });

  it("lists every query param the /sessions schema validates", () => {
    const document = buildOpenApiDocument() as {
      paths: Record<string, { get: { parameters: { name: string }[] } }>;
    };
    const documented = document.paths["/sessions"]?.get.parameters.map((p) => p.name);
    expect(documented).toEqual(Object.keys(sessionsRoute.query({ maxPerPage: 100, scopes: SCOPES }).shape));
  });

  it("marks keyed routes with their scope and public routes with no requirement", () => {
    const document = buildOpenApiDocument() as { paths: Record<string, { get: { security: unknown[] } }> };
    expect(document.paths["/sessions"]?.get.security).toEqual([{ apiKey: ["sessions:read"] }]);
    expect(document.paths["/meetings/{meetingId}/active-session"]?.get.security).toEqual([]);
  });
});

describe("GET /docs", () => {
  it("serves the reference page rendered from the document, offline: no script, no CDN", async () => {
    const response = await callProxy("/docs", { anonymous: true });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("Content-Security-Policy")).toBe(REFERENCE_PAGE_CSP);
    expect(response.headers.get("X-Request-Id")).toBeTruthy();
    const html = await response.text();
    expect(html, STALE).toBe(renderReferencePage(buildOpenApiDocument()));
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\//i);
    for (const route of ["/meetings/{meetingId}/active-session", "/sessions", "/health", "per_page", "sessions:read"]) {
      expect(html).toContain(route);
    }
  });

  it("other methods are 405", async () => {
    expect((await callProxy("/docs", { method: "POST" })).status).toBe(405);
  });
});

describe("the generated tables of the docs", () => {
  const files: Record<string, string> = {
    "README.md": readme,
    "docs/api.md": apiDoc,
    "docs/operating.md": operatingDoc,
  };

  it.each(GENERATED_TABLES)("$file holds the $name table the code generates now", ({ file, name, table }) => {
    const text = files[file] ?? "";
    expect(withTable(text, name, table()), `${file} is out of date: run npm run docs and commit the result`).toBe(text);
  });

  it("the configuration table names every setting the schema checks, with a rule", () => {
    for (const line of table("configuration").split("\n").slice(2))
      expect(line).toMatch(/^\| `[A-Z0-9_]+` \| (var|secret|binding) \| .+ \| .+ \|$/);
  });
});

function table(name: string): string {
  return GENERATED_TABLES.find((generated) => generated.name === name)?.table() ?? "";
}
