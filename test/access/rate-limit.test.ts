import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { LOCAL_API_KEYS, LOCAL_NARROW_API_KEY } from "../../dev/local-keys.ts";
import { errorBody, LIVE_V2_MEETING, proxyWith, uncachedSessionsPath, useFakeUpstream } from "../support/proxy.ts";

// TIGHT_RATE_LIMITER ([env.test] in wrangler.toml) is the platform's binding with a limit of 3 per 60 s.
const ACTIVE = `/meetings/${LIVE_V2_MEETING}/active-session`;
const tightPublic = () => proxyWith({ PUBLIC_RATE_LIMITER: env.TIGHT_RATE_LIMITER });
const tightKeyed = () => proxyWith({ KEYED_RATE_LIMITER: env.TIGHT_RATE_LIMITER });
const fromIp = (ip: string) => ({ anonymous: true, headers: { "CF-Connecting-IP": ip } });

describe("rate limits", () => {
  it("over the limit is a 429 with Retry-After, in the envelope, without the upstream", async () => {
    const fake = useFakeUpstream();
    const proxyEnv = tightPublic();
    for (let i = 0; i < 3; i++) expect((await proxyEnv(ACTIVE, fromIp("198.51.100.1"))).status).toBe(200);
    const limited = await proxyEnv(ACTIVE, fromIp("198.51.100.1"));
    expect(limited.status).toBe(429);
    expect(limited.headers.get("Retry-After")).toBe("60");
    expect(await errorBody(limited)).toMatchObject({
      success: false,
      error: { code: 429, message: expect.stringContaining("rate limit") },
    });
    // active-session is cached: the three answers took one upstream call.
    expect(fake.requests).toHaveLength(1);
  });

  it("public callers are counted per client IP", async () => {
    useFakeUpstream();
    const proxyEnv = tightPublic();
    for (let i = 0; i < 4; i++) await proxyEnv("/health", fromIp("198.51.100.2"));
    expect((await proxyEnv("/health", fromIp("198.51.100.2"))).status).toBe(429);
    expect((await proxyEnv("/health", fromIp("198.51.100.3"))).status).toBe(200);
  });

  it("keyed callers are counted per key id, whatever their IP", async () => {
    useFakeUpstream();
    const proxyEnv = tightKeyed();
    const asKey = (ip: string) => ({ headers: { "CF-Connecting-IP": ip } });
    for (let i = 0; i < 3; i++) expect((await proxyEnv("/health", asKey(`203.0.113.${i}`))).status).toBe(200);
    expect((await proxyEnv("/health", asKey("203.0.113.99"))).status).toBe(429);
    const otherKey = await proxyEnv("/health", {
      headers: { Authorization: `Bearer ${LOCAL_NARROW_API_KEY}`, "CF-Connecting-IP": "203.0.113.99" },
    });
    expect(otherKey.status).toBe(200);
  });

  it("a request without CF-Connecting-IP still gets a bucket: limited, not exempt", async () => {
    const proxyEnv = tightPublic();
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await proxyEnv("/health", { anonymous: true })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it("comes before validation: a limited caller's invalid request is a 429 too", async () => {
    const fake = useFakeUpstream();
    const proxyEnv = tightPublic();
    for (let i = 0; i < 3; i++) await proxyEnv(ACTIVE, fromIp("198.51.100.4"));
    const invalid = await proxyEnv("/meetings/not-an-id/active-session", fromIp("198.51.100.4"));
    expect(invalid.status).toBe(429);
    expect(fake.requests).toHaveLength(1);
  });

  it("preflights are counted too: the fourth is refused", async () => {
    const proxyEnv = proxyWith({
      PUBLIC_RATE_LIMITER: env.TIGHT_RATE_LIMITER,
      ALLOWED_ORIGINS: "https://app.example.com",
    });
    const preflight = {
      method: "OPTIONS",
      anonymous: true,
      headers: {
        Origin: "https://app.example.com",
        "Access-Control-Request-Method": "GET",
        "CF-Connecting-IP": "198.51.100.5",
      },
    };
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await proxyEnv("/health", preflight)).status);
    expect(statuses).toEqual([204, 204, 204, 429]);
    expect((await proxyEnv("/health", fromIp("198.51.100.5"))).status).toBe(429);
  });

  it("unknown keys are counted by IP: guessing keys is limited", async () => {
    const proxyEnv = tightPublic();
    const guess = (n: number) => ({
      headers: { Authorization: `Bearer rkp_guess_number_${n}_0000000000000000`, "CF-Connecting-IP": "198.51.100.6" },
    });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await proxyEnv("/health", guess(i))).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
  });

  it("an IPv6 caller is counted by its /64", async () => {
    const proxyEnv = tightPublic();
    const statuses = [];
    for (const ip of ["2001:db8:a:b::1", "2001:db8:a:b:ffff::2", "2001:0db8:000a:000b::3", "2001:db8:a:b::4"]) {
      statuses.push((await proxyEnv("/health", fromIp(ip))).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect((await proxyEnv("/health", fromIp("2001:db8:a:c::1"))).status).toBe(200);
  });
});

describe("rate limits on cached routes", () => {
  const keyed = (id: string) =>
    proxyWith({
      KEYED_RATE_LIMITER: env.TIGHT_RATE_LIMITER,
      API_KEYS: JSON.stringify([{ ...LOCAL_API_KEYS[0], id }]),
    });

  it("a miss waits for the limiter: over the limit it is a 429 without any upstream call", async () => {
    const fake = useFakeUpstream();
    const proxyEnv = keyed("miss-waits");
    for (let i = 0; i < 3; i++) expect((await proxyEnv("/health")).status).toBe(200);
    const response = await proxyEnv(uncachedSessionsPath());
    expect(response.status).toBe(429);
    expect(response.headers.get("Retry-After")).toBe("60");
    expect(fake.requests).toHaveLength(0);
  });

  it("cache hits count too: a cached answer is not served over the limit", async () => {
    const fake = useFakeUpstream();
    const proxyEnv = keyed("hits-count");
    const path = uncachedSessionsPath();
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await proxyEnv(path)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(fake.requests).toHaveLength(1);
  });
});
