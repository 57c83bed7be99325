import { describe, expect, it } from "vitest";
import packageJson from "../package.json" with { type: "json" };
import { ROUTE_NAMES } from "../src/routes/table.ts";
import { callProxy, errorBody, LIVE_V2_MEETING, proxyWith, TOKEN, useFakeUpstream } from "./support/proxy.ts";
import { sendDelivery } from "./support/webhooks.ts";

describe("/health", () => {
  it("answers ok with the version when the configuration is valid", async () => {
    const fake = useFakeUpstream();
    const response = await callProxy("/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok", version: packageJson.version });
    expect(fake.requests).toHaveLength(0);
  });
});

describe("a misconfigured proxy", () => {
  it.each([
    ["a missing token", { CLOUDFLARE_API_TOKEN: undefined }, "CLOUDFLARE_API_TOKEN is required"],
    ["an empty token", { CLOUDFLARE_API_TOKEN: "" }, "CLOUDFLARE_API_TOKEN is required"],
    ["a missing account id", { CLOUDFLARE_ACCOUNT_ID: undefined }, "CLOUDFLARE_ACCOUNT_ID is required"],
    ["an empty account id", { CLOUDFLARE_ACCOUNT_ID: "" }, "CLOUDFLARE_ACCOUNT_ID must be 1 to 32"],
    ["an account id with a slash", { CLOUDFLARE_ACCOUNT_ID: "abc/../def" }, "CLOUDFLARE_ACCOUNT_ID must be"],
    ["an account id over 32 chars", { CLOUDFLARE_ACCOUNT_ID: "a".repeat(33) }, "CLOUDFLARE_ACCOUNT_ID must be"],
    ["an app id with a space", { REALTIMEKIT_APP_ID: "my app" }, "REALTIMEKIT_APP_ID must be"],
    ["an app id over 64 chars", { REALTIMEKIT_APP_ID: "a".repeat(65) }, "REALTIMEKIT_APP_ID must be"],
    [
      "a plain-http base URL",
      { CLOUDFLARE_API_BASE_URL: "http://api.example.com/v4" },
      "CLOUDFLARE_API_BASE_URL must be",
    ],
    [
      "a base URL with credentials",
      { CLOUDFLARE_API_BASE_URL: "https://u:p@api.example.com" },
      "CLOUDFLARE_API_BASE_URL",
    ],
    ["a base URL that is not a URL", { CLOUDFLARE_API_BASE_URL: "api.cloudflare.com" }, "CLOUDFLARE_API_BASE_URL"],
    [
      "a negative TTL",
      { SESSIONS_CACHE_TTL_SECONDS: "-1" },
      "SESSIONS_CACHE_TTL_SECONDS must be a whole number from 0 to 3600",
    ],
    ["a TTL over an hour", { SESSIONS_CACHE_TTL_SECONDS: "3601" }, "SESSIONS_CACHE_TTL_SECONDS"],
    [
      "a fractional timeout",
      { UPSTREAM_TIMEOUT_MS: "150.5" },
      "UPSTREAM_TIMEOUT_MS must be a whole number from 100 to 60000",
    ],
    ["a timeout under 100 ms", { UPSTREAM_TIMEOUT_MS: "99" }, "UPSTREAM_TIMEOUT_MS"],
    ["too many retries", { UPSTREAM_MAX_RETRIES: "6" }, "UPSTREAM_MAX_RETRIES must be a whole number from 0 to 5"],
    ["a zero page size", { MAX_PER_PAGE: "0" }, "MAX_PER_PAGE must be a whole number from 1 to 1000"],
    ["an SWR window over a day", { STALE_WHILE_REVALIDATE_SECONDS: "86401" }, "STALE_WHILE_REVALIDATE_SECONDS"],
    ["a stale-if-error window in words", { STALE_IF_ERROR_SECONDS: "five" }, "STALE_IF_ERROR_SECONDS"],
    ["an origin with a path", { ALLOWED_ORIGINS: "https://app.example.com/" }, "ALLOWED_ORIGINS must be"],
    [
      "a webhook key that is not a PEM public key",
      { REALTIMEKIT_WEBHOOK_PUBLIC_KEY: "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ" },
      "REALTIMEKIT_WEBHOOK_PUBLIC_KEY must be a PEM public key",
    ],
    [
      "a private key where the webhook's public key goes",
      { REALTIMEKIT_WEBHOOK_PUBLIC_KEY: `-----BEGIN PRIVATE KEY-----\n${"A".repeat(120)}\n-----END PRIVATE KEY-----` },
      "REALTIMEKIT_WEBHOOK_PUBLIC_KEY must be a PEM public key",
    ],
    [
      "a pushed TTL over an hour",
      { PUSHED_TTL_SECONDS: "3601" },
      "PUSHED_TTL_SECONDS must be a whole number from 0 to 3600",
    ],
    [
      "an unknown active-session source",
      { ACTIVE_SESSION_SOURCE: "auto" },
      "ACTIVE_SESSION_SOURCE must be meeting or live-sessions",
    ],
    [
      "an unknown public route",
      { PUBLIC_ROUTES: "health,everything" },
      `PUBLIC_ROUTES[1] must be a route name (${ROUTE_NAMES.join(", ")})`,
    ],
  ])("with %s answers 500 naming it", async (_, overrides, message) => {
    const fake = useFakeUpstream();
    const response = await proxyWith(overrides)("/health");
    expect(response.status).toBe(500);
    const body = await errorBody(response);
    expect(body).toMatchObject({ success: false, error: { code: 500 } });
    expect(body.error.message).toMatch(/^proxy misconfigured: /);
    expect(body.error.message).toContain(message);
    expect(response.headers.get("X-Request-Id")).toBeTruthy();
    expect(fake.requests).toHaveLength(0);
  });

  it("names every problem at once and never shows a value", async () => {
    const overrides = {
      CLOUDFLARE_ACCOUNT_ID: "secret-looking/account",
      CLOUDFLARE_API_BASE_URL: "ftp://files.example/secret-path",
      MAX_PER_PAGE: "12345678",
      CLOUDFLARE_API_TOKEN: undefined,
    };
    const response = await proxyWith(overrides)("/health");
    const text = await response.text();
    for (const name of ["CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_API_BASE_URL", "MAX_PER_PAGE", "CLOUDFLARE_API_TOKEN"]) {
      expect(text).toContain(name);
    }
    for (const value of ["secret-looking", "files.example", "secret-path", "12345678"]) {
      expect(text).not.toContain(value);
    }
  });

  it("refuses every route, not only /health", async () => {
    const fake = useFakeUpstream();
    const response = await proxyWith({ REALTIMEKIT_APP_ID: "" })(`/meetings/${LIVE_V2_MEETING}/active-session`);
    expect(response.status).toBe(500);
    expect(fake.requests).toHaveLength(0);
  });

  it("never shows the token, even when another value is wrong", async () => {
    const response = await proxyWith({ CLOUDFLARE_ACCOUNT_ID: TOKEN })("/health");
    expect(response.status).toBe(500);
    expect(await response.text()).not.toContain(TOKEN);
  });
});

describe("settings from vars", () => {
  it("MAX_PER_PAGE bounds per_page", async () => {
    useFakeUpstream();
    expect((await proxyWith({ MAX_PER_PAGE: "5" })("/sessions?per_page=5")).status).toBe(200);
    const response = await proxyWith({ MAX_PER_PAGE: "5" })("/sessions?per_page=6");
    expect(response.status).toBe(400);
    expect(await errorBody(response)).toMatchObject({
      error: { issues: [{ path: "per_page", message: "must be from 1 to 5" }] },
    });
  });

  it("CLOUDFLARE_API_BASE_URL points the proxy at another upstream, trailing slash or not", async () => {
    const fake = useFakeUpstream();
    await proxyWith({ CLOUDFLARE_API_BASE_URL: "http://127.0.0.1:9999/client/v4/" })("/sessions?status=LIVE");
    expect(fake.requests[0]?.url).toMatch(
      /^http:\/\/127\.0\.0\.1:9999\/client\/v4\/accounts\/[0-9a-f]+\/realtime\/kit\/[0-9a-f-]+\/sessions\?status=LIVE$/,
    );
  });

  it("ACTIVE_SESSION_SOURCE defaults to the live-sessions index (the test suite's own config sets meeting)", async () => {
    const fake = useFakeUpstream();
    const response = await proxyWith({ ACTIVE_SESSION_SOURCE: undefined })(
      `/meetings/${LIVE_V2_MEETING}/active-session`,
    );
    expect(response.status).toBe(200);
    expect(fake.requests.map((request) => new URL(request.url).search)).toEqual([
      "?status=LIVE&page_no=1&per_page=100",
    ]);
  });

  it("a webhook key copied out of JSON, with \\n escapes, or on one line, is read as the PEM it is", async () => {
    const fake = useFakeUpstream();
    const pem = await fake.webhooks.publicKeyPem();
    for (const form of [pem.replace(/\n/g, "\\n"), pem.replace(/\n/g, "")]) {
      const request = await fake.webhooks.delivery("http://proxy.test", { event: "meeting.chatSynced", form });
      const response = await sendDelivery(proxyWith({ REALTIMEKIT_WEBHOOK_PUBLIC_KEY: form }), request);
      expect(await response.json()).toMatchObject({ data: { outcome: "ignored" } });
    }
  });

  it("http is allowed to localhost", async () => {
    useFakeUpstream();
    const response = await proxyWith({ CLOUDFLARE_API_BASE_URL: "http://localhost:8788/client/v4" })("/health");
    expect(response.status).toBe(200);
  });
});
