import { describe, expect, it, vi } from "vitest";
import { jwtPart, LOCAL_SIGN_IN } from "../../dev/fake-upstream/identity.ts";
import { logger } from "../../src/log.ts";
import { userIdOf } from "../../src/users/user-token.ts";
import {
  callProxy,
  errorBody,
  LIVE_V2_MEETING,
  proxyAnsweringFirst,
  proxyWith,
  useFakeClock,
  useFakeUpstream,
} from "../support/proxy.ts";

const JOIN = `/meetings/${LIVE_V2_MEETING}/join`;
const asUser = (token: string, method = "POST") => ({ method, headers: { Authorization: `Bearer ${token}` } });
const NOW_SECONDS = Date.UTC(2026, 10, 22, 12, 0, 0) / 1000;

/** An HMAC-SHA256 signature keyed by `secret`, as an attacker confusing algorithms would make one. */
async function hs256(signed: string, secret: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(signed)));
  return btoa(String.fromCharCode(...signature))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

/** Every way a user token can be wrong, each made as an attacker (or a broken client) would. */
const BAD_TOKENS: [string, RegExp, (fake: ReturnType<typeof useFakeUpstream>) => Promise<string>][] = [
  ["expired", /expired/, (fake) => fake.identity.signIn({ sub: "alice" }, { expiresIn: -61 })],
  [
    "not valid yet",
    /not valid yet/,
    (fake) => fake.identity.signIn({ sub: "alice" }, { override: { nbf: NOW_SECONDS + 120 } }),
  ],
  [
    "issued in the future",
    /issued in the future/,
    (fake) => fake.identity.signIn({ sub: "alice" }, { override: { iat: NOW_SECONDS + 120 } }),
  ],
  [
    "without an expiry",
    /no expiry/,
    (fake) => fake.identity.signIn({ sub: "alice" }, { override: { exp: undefined } }),
  ],
  [
    "of the wrong issuer",
    /wrong issuer/,
    (fake) => fake.identity.signIn({ sub: "alice" }, { override: { iss: "https://evil.example" } }),
  ],
  [
    "for another audience",
    /wrong audience/,
    (fake) => fake.identity.signIn({ sub: "alice" }, { override: { aud: "another-app" } }),
  ],
  [
    "signed with an unknown key id",
    /unknown key id/,
    (fake) => fake.identity.signIn({ sub: "alice" }, { kid: "rotated-away" }),
  ],
  [
    "signed by a key not in the JWKS (with a published key id)",
    /signature does not match/,
    (fake) => fake.identity.signIn({ sub: "alice" }, { unpublishedKey: true }),
  ],
  [
    "with alg none",
    /algorithm not allowed/,
    async (fake) => {
      const valid = await fake.identity.signIn({ sub: "alice" });
      const payload = valid.split(".")[1];
      return `${jwtPart({ alg: "none", typ: "JWT", kid: (await fake.identity.publicJwk()).kid })}.${payload}.`;
    },
  ],
  [
    "HS256-signed with the RSA public key (algorithm confusion)",
    /algorithm not allowed/,
    async (fake) => {
      const publicJwk = await fake.identity.publicJwk();
      const payload = (await fake.identity.signIn({ sub: "alice" })).split(".")[1];
      const signed = `${jwtPart({ alg: "HS256", typ: "JWT", kid: publicJwk.kid })}.${payload}`;
      return `${signed}.${await hs256(signed, JSON.stringify(publicJwk))}`;
    },
  ],
  [
    "with a tampered payload",
    /signature does not match/,
    async (fake) => {
      const [header, , signature] = (await fake.identity.signIn({ sub: "alice", role: "guest" })).split(".");
      const now = NOW_SECONDS;
      const payload = jwtPart({
        iss: LOCAL_SIGN_IN.issuer,
        aud: LOCAL_SIGN_IN.audience,
        sub: "alice",
        role: "host",
        iat: now,
        exp: now + 3600,
      });
      return `${header}.${payload}.${signature}`;
    },
  ],
  ["without a subject", /no subject/, (fake) => fake.identity.signIn({ sub: "" })],
  ["that is not a JWT at all", /malformed/, async () => "not.a.jwt"],
];

describe("user tokens: every failure is a 401 naming it, never echoing the token, before any upstream call", () => {
  it.each(BAD_TOKENS)("a token %s", async (_, failure, make) => {
    useFakeClock();
    const fake = useFakeUpstream();
    const token = await make(fake);
    const response = await callProxy(JOIN, asUser(token));
    expect(response.status).toBe(401);
    expect(response.headers.get("WWW-Authenticate")).toContain('error="invalid_token"');
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({ error: { code: 401, message: expect.stringMatching(failure) } });
    expect(text).not.toContain(token);
    expect(fake.requests).toHaveLength(0);
  });

  it("a token in the query string is refused, even a valid one", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const token = await fake.identity.signIn({ sub: "alice" });
    for (const query of [`access_token=${token}`, `x=${token}`]) {
      const response = await callProxy(`${JOIN}?${query}`, { method: "POST", anonymous: true });
      expect(response.status).toBe(401);
      expect(response.headers.get("WWW-Authenticate")).toContain('error="invalid_request"');
      expect(await response.text()).not.toContain(token);
    }
    expect(fake.requests).toHaveLength(0);
  });

  it("tolerates 60 s of clock drift, and no more", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const justExpired = await fake.identity.signIn({ sub: "alice" }, { expiresIn: -59 });
    expect((await callProxy(JOIN, asUser(justExpired))).status).toBe(200);
    const issuedSoon = await fake.identity.signIn({ sub: "alice" }, { override: { iat: NOW_SECONDS + 59 } });
    expect((await callProxy(JOIN, asUser(issuedSoon))).status).toBe(200);
  });

  it("the user's id is the documented derivation of iss and sub, and logs name it, not the person", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const token = await fake.identity.signIn({ sub: "alice@example.com" });
    await callProxy(`/meetings/${LIVE_V2_MEETING}/active-session`, { headers: { Authorization: `Bearer ${token}` } });
    const id = await userIdOf(LOCAL_SIGN_IN.issuer, "alice@example.com");
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    const line = vi.mocked(logger.write).mock.calls.find(([, entry]) => entry.event === "request")?.[1];
    expect(line).toMatchObject({ caller: `user:${id}` });
    expect(JSON.stringify(line)).not.toContain("alice");
  });

  it("a user token grants no key scope", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const token = await fake.identity.signIn({ sub: "alice", role: "host" });
    const response = await callProxy("/sessions", { headers: { Authorization: `Bearer ${token}` } });
    expect(await errorBody(response)).toMatchObject({
      error: { code: 403, message: expect.stringContaining("grants no key scope") },
    });
    expect(fake.requests).toHaveLength(0);
  });

  it("without sign-in configured, a user token is a 401 that says so", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const token = await fake.identity.signIn({ sub: "alice" });
    const response = await proxyWith({ AUTH_JWKS_URL: "" })(`/meetings/${LIVE_V2_MEETING}/active-session`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(await errorBody(response)).toMatchObject({
      error: { code: 401, message: expect.stringContaining("sign-in is not configured") },
    });
  });
});

describe("the identity provider's keys", () => {
  it("are fetched once per isolate, however many users sign in", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const call = proxyWith();
    for (const sub of ["alice", "bob", "carol", "dave"]) {
      expect((await call(JOIN, asUser(await fake.identity.signIn({ sub })))).status).toBe(200);
    }
    expect(fake.identity.jwksRequests).toBe(1);
  });

  it("an unknown key id refetches them at most once per 30 s: forged ids cannot hammer the provider", async () => {
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    const call = proxyWith();
    expect((await call(JOIN, asUser(await fake.identity.signIn({ sub: "alice" })))).status).toBe(200);
    for (let i = 0; i < 20; i++) {
      const forged = await fake.identity.signIn({ sub: "mallory" }, { kid: `forged-${i}` });
      expect((await call(JOIN, asUser(forged))).status).toBe(401);
    }
    // The first fetch only: an unknown id within 30 s of it is looked for in the keys held.
    expect(fake.identity.jwksRequests).toBe(1);
    clock.advance(30_000);
    for (let i = 0; i < 5; i++) {
      await call(JOIN, asUser(await fake.identity.signIn({ sub: "mallory" }, { kid: `forged-again-${i}` })));
    }
    expect(fake.identity.jwksRequests).toBe(2);
  });

  it("with max-age=0, keys are kept at least 60 s: a hundred sign-ins make one fetch", async () => {
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    fake.identity.trouble({ maxAgeSeconds: 0 });
    const call = proxyWith();
    const token = await fake.identity.signIn({ sub: "alice" });
    for (let i = 0; i < 100; i++) {
      expect((await call(`/meetings/${LIVE_V2_MEETING}/active-session`, asUser(token, "GET"))).status).toBe(200);
      clock.advance(500);
    }
    // 50 s of requests: one fetch, the keys held throughout.
    expect(fake.identity.jwksRequests).toBe(1);
  });

  it("stale keys are refreshed in the background: a slow provider delays no request", async () => {
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    const call = proxyAnsweringFirst();
    const token = await fake.identity.signIn({ sub: "alice" });
    const read = `/meetings/${LIVE_V2_MEETING}/active-session`;
    expect((await call(read, asUser(token, "GET"))).response.status).toBe(200);
    clock.advance(601_000);
    let release = () => {};
    fake.identity.trouble({ until: new Promise<void>((resolve) => (release = resolve)) });
    // The provider hangs; requests are answered at once with the keys held, while one refresh waits behind them.
    const answered = [];
    for (let i = 0; i < 10; i++) answered.push(await call(read, asUser(token, "GET")));
    expect(answered.map(({ response }) => response.status)).toEqual(Array(10).fill(200));
    expect(fake.identity.jwksRequests).toBe(2);
    release();
    await Promise.all(answered.map(({ settled }) => settled));
  });

  it("while the provider is down, the keys held keep working, and it is asked again only every 30 s", async () => {
    const clock = useFakeClock();
    const fake = useFakeUpstream();
    const call = proxyWith();
    const token = await fake.identity.signIn({ sub: "alice" });
    const read = `/meetings/${LIVE_V2_MEETING}/active-session`;
    expect((await call(read, asUser(token, "GET"))).status).toBe(200);
    clock.advance(601_000);
    fake.identity.trouble({ down: true });
    for (let i = 0; i < 40; i++) {
      expect((await call(read, asUser(token, "GET"))).status).toBe(200);
      clock.advance(1_000);
    }
    // The first fetch, then one failed refresh every 30 s (at 0 s and 30 s of the 40).
    expect(fake.identity.jwksRequests).toBe(3);
  });

  it("when they cannot be fetched, a user token is a 503 with Retry-After, never a pass", async () => {
    useFakeClock();
    const fake = useFakeUpstream();
    const token = await fake.identity.signIn({ sub: "alice" });
    const call = proxyWith({ AUTH_JWKS_URL: "http://127.0.0.1:8788/idp/nowhere.json" });
    const response = await call(JOIN, asUser(token));
    expect(await errorBody(response)).toMatchObject({ error: { code: 503 } });
    expect(Number(response.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(fake.requests).toHaveLength(0);
  });
});

describe("the sign-in configuration", () => {
  it.each([
    [{ AUTH_ISSUER: "" }, "AUTH_ISSUER is required with AUTH_JWKS_URL"],
    [{ AUTH_AUDIENCE: "" }, "AUTH_AUDIENCE is required with AUTH_JWKS_URL"],
    [{ JOIN_PRESETS: "" }, "JOIN_PRESETS is required with AUTH_JWKS_URL"],
    [{ AUTH_ALGORITHMS: "RS256,HS256" }, "AUTH_ALGORITHMS[1] must list asymmetric algorithms only"],
    [{ AUTH_ALGORITHMS: "none" }, "AUTH_ALGORITHMS[0] must list asymmetric algorithms only"],
    [{ AUTH_JWKS_URL: "http://idp.example.com/jwks.json" }, "AUTH_JWKS_URL must be an https URL"],
    [{ JOIN_PRESETS: '{"claim":"role","presets":{"host":"a b"}}' }, "JOIN_PRESETS.presets.host must be a preset name"],
  ])("%o is a misconfiguration naming it", async (overrides, message) => {
    const response = await proxyWith(overrides)("/health");
    expect(await errorBody(response)).toMatchObject({
      error: { code: 500, message: expect.stringContaining(message) },
    });
  });
});
