import { describe, expect, it } from "vitest";
import { ERROR_KINDS, errorSpec } from "../../src/errors.ts";
import { callProxy, IDLE_V2_MEETING, proxyWith, useFakeUpstream } from "../support/proxy.ts";

describe("every error is one envelope that names its kind", () => {
  it.each([
    ["an invalid query", "/sessions?per_page=0", {}, 400, "bad_request"],
    [
      "an unknown key",
      "/sessions",
      { headers: { Authorization: "Bearer rkp_not_a_key_of_this_proxy" } },
      401,
      "unauthorized",
    ],
    ["no such route", "/nowhere", {}, 404, "not_found"],
    ["another method", "/sessions", { method: "PUT" }, 405, "method_not_allowed"],
    ["the upstream's 404", `/meetings/${IDLE_V2_MEETING}/active-session`, {}, 404, "not_found"],
  ])("%s: %i with type %s", async (_, path, init, status, type) => {
    useFakeUpstream();
    const response = await callProxy(path, init);
    expect(response.status).toBe(status);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    // None of these can succeed by being sent again: the official SDK is told not to retry.
    expect(response.headers.get("X-Should-Retry")).toBe("false");
    expect(await response.json()).toEqual({
      success: false,
      error: {
        code: status,
        type,
        message: expect.any(String),
        ...(status === 400 ? { issues: expect.any(Array) } : {}),
      },
    });
  });

  it("a failure that may pass later carries no X-Should-Retry: the SDK's own rules (and Retry-After) apply", async () => {
    const fake = useFakeUpstream();
    fake.failNext({ status: 503 }, { status: 503 }, { status: 503 });
    const response = await proxyWith({ SESSIONS_CACHE_TTL_SECONDS: "0" })("/sessions?search=retry");
    expect(response.status).toBe(502);
    expect(errorSpec("upstream_unavailable").retryable).toBe(true);
    expect(response.headers.get("X-Should-Retry")).toBeNull();
  });

  it("an upstream failure is typed by what failed, with the status of its kind", async () => {
    const fake = useFakeUpstream();
    fake.failNext({ status: 401 }, { status: 401 });
    const response = await proxyWith({ SESSIONS_CACHE_TTL_SECONDS: "0" })("/sessions?search=typed");
    expect(await response.json()).toMatchObject({ error: { code: 502, type: "upstream_credentials" } });
  });

  it("a misconfiguration is typed misconfigured, and names the variable only", async () => {
    const response = await proxyWith({ CLOUDFLARE_ACCOUNT_ID: "not valid!" })("/health");
    expect(await response.json()).toMatchObject({
      error: { code: 500, type: "misconfigured", message: expect.stringContaining("CLOUDFLARE_ACCOUNT_ID") },
    });
  });

  it("the table gives every kind a status, a description, and a hint only where an operator can act", () => {
    for (const kind of ERROR_KINDS) {
      const spec = errorSpec(kind);
      expect(spec.status, kind).toBeGreaterThanOrEqual(400);
      expect(spec.when.length, kind).toBeGreaterThan(10);
      // A caller's own mistake is never an operator's error line.
      if (spec.status < 500 && kind !== "caller_budget") expect(spec.hint, kind).toBeUndefined();
    }
  });
});
