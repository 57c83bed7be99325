import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { describe, expect, it, vi } from "vitest";
import { MemoryTier } from "../../src/cache/memory-tier.ts";
import { logger } from "../../src/log.ts";
import { renderError } from "../../src/routes/render-error.ts";
import { Secrets } from "../../src/secrets.ts";
import { captureLogs, errorBody, proxyWith, TOKEN, useFakeUpstream } from "../support/proxy.ts";

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

describe("a misconfiguration never echoes a secret", () => {
  it("a raw key pasted into API_KEYS as a property name is not in the 500 or the logs", async () => {
    const logs = captureLogs();
    const rawKey = "rkp_pasted_by_mistake_0123456789abcdefghij";
    const apiKeys = JSON.stringify([{ id: "team", sha256: "a".repeat(64), scopes: ["sessions:read"], [rawKey]: true }]);
    const response = await proxyWith({ API_KEYS: apiKeys })("/health");
    const text = await response.text();
    expect(response.status).toBe(500);
    expect(text).toContain("API_KEYS[0] must have only the properties id, sha256 and scopes");
    expect(text).not.toContain(rawKey);
    expect(logs.join("\n")).not.toContain(rawKey);
  });

  it("the misconfiguration 500 carries CORS headers, so a browser can read it", async () => {
    const response = await proxyWith({ CLOUDFLARE_ACCOUNT_ID: "", ALLOWED_ORIGINS: "https://app.example.com" })(
      "/health",
      { anonymous: true, headers: { Origin: "https://app.example.com" } },
    );
    expect(response.status).toBe(500);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example.com");
  });
});

describe("the token goes to Cloudflare's API or to loopback, nowhere else", () => {
  it.each([
    "https://api.cloudfIare.com/client/v4",
    "https://api.cloudflare.com.example.net/client/v4",
    "https://example.com/client/v4",
    "https://api.cloudflare.com:8443/client/v4",
    "http://api.cloudflare.com/client/v4",
  ])("CLOUDFLARE_API_BASE_URL=%s is a misconfiguration, and no request is made", async (baseUrl) => {
    const fake = useFakeUpstream();
    const response = await proxyWith({ CLOUDFLARE_API_BASE_URL: baseUrl })("/meetings/qwerty-asdfgh/active-session");
    expect(await errorBody(response)).toMatchObject({
      error: {
        code: 500,
        message: expect.stringContaining("CLOUDFLARE_API_BASE_URL must be https://api.cloudflare.com"),
      },
    });
    expect(fake.requests).toHaveLength(0);
  });
});

describe("request ids never carry a secret", () => {
  it("a request id that is a configured API key, without the rkp_ prefix, is replaced", async () => {
    const key = "TeamKeyWithoutPrefix_0123456789";
    const call = proxyWith({
      API_KEYS: JSON.stringify([{ id: "legacy", sha256: await sha256Hex(key), scopes: ["sessions:read"] }]),
    });
    const response = await call("/health", { anonymous: true, headers: { "X-Request-Id": key } });
    expect(response.headers.get("X-Request-Id")).not.toBe(key);
    const plain = await call("/health", { anonymous: true, headers: { "X-Request-Id": "web-1234" } });
    expect(plain.headers.get("X-Request-Id")).toBe("web-1234");
  });
});

describe("one redaction for every value that leaves", () => {
  it("catches a secret as is, URL-encoded and JSON-escaped", () => {
    const secrets = new Secrets(['tok/en+"quoted"']);
    const text = `a tok/en+"quoted" b ${encodeURIComponent('tok/en+"quoted"')} c ${JSON.stringify('tok/en+"quoted"')}`;
    expect(secrets.redact(text)).toBe('a [redacted] b [redacted] c "[redacted]"');
  });

  it("every log line is redacted of the token, whatever a caller of the logger put in it", async () => {
    const logs = captureLogs();
    await proxyWith()("/health");
    logger.write("info", { event: "test", value: `the token is ${TOKEN}` });
    expect(logs.join("\n")).not.toContain(TOKEN);
    expect(logs.at(-1)).toContain("[redacted]");
  });
});

describe("the error handler", () => {
  function appThrowing(error: unknown) {
    const app = new Hono();
    app.onError(renderError(new Secrets([TOKEN])));
    app.get("/", () => {
      throw error;
    });
    return app;
  }

  it("keeps an HTTPException's status, in the envelope", async () => {
    const response = await appThrowing(new HTTPException(413, { message: "too large" })).request("/");
    expect(response.status).toBe(413);
    expect(await errorBody(response)).toMatchObject({ success: false, error: { code: 413 } });
  });

  it("logs an unexpected error's stack, scrubbed of secrets, and answers a fixed 500", async () => {
    const write = vi.spyOn(logger, "write");
    const response = await appThrowing(new Error(`boom with ${TOKEN}`)).request("/");
    expect(response.status).toBe(500);
    expect(await response.text()).not.toContain(TOKEN);
    const line = write.mock.calls.find(([, entry]) => entry.event === "unhandled_error")?.[1];
    expect(line?.stack).toContain("boom with [redacted]");
    expect(line?.stack).toContain("at ");
  });
});

describe("the memory tier's bound", () => {
  it("counts keys as well as values, so a flood of long keys cannot grow it", () => {
    const tier = new MemoryTier<string>(1_000, (key, value) => key.length + value.length);
    for (let i = 0; i < 100; i++) tier.set(`${"k".repeat(200)}${i}`, "v");
    expect(tier.bytes).toBeLessThanOrEqual(1_000);
    expect(tier.size).toBeLessThanOrEqual(4);
  });
});
