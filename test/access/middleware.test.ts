import { describe, expect, it } from "vitest";
import { LOCAL_API_KEYS, LOCAL_NARROW_API_KEY } from "../../dev/local-keys.ts";
import {
  API_KEY,
  callProxy,
  captureLogs,
  errorBody,
  LIVE_V2_MEETING,
  proxyWith,
  uncachedSessionsPath,
  useFakeUpstream,
} from "../support/proxy.ts";

const ACTIVE = `/meetings/${LIVE_V2_MEETING}/active-session`;
const bearer = (key: string) => ({ headers: { Authorization: `Bearer ${key}` } });

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

async function keysJson(keys: { id: string; key: string; scopes: string[] }[]): Promise<string> {
  return JSON.stringify(
    await Promise.all(keys.map(async ({ id, key, scopes }) => ({ id, sha256: await sha256Hex(key), scopes }))),
  );
}

describe("API keys", () => {
  it("the local keys' published hashes are their SHA-256", async () => {
    expect(await sha256Hex(API_KEY)).toBe(LOCAL_API_KEYS[0]?.sha256);
    expect(await sha256Hex(LOCAL_NARROW_API_KEY)).toBe(LOCAL_API_KEYS[1]?.sha256);
  });

  it("/sessions without a key is a 401 with a Bearer challenge, without the upstream", async () => {
    const fake = useFakeUpstream();
    const response = await callProxy(uncachedSessionsPath(), { anonymous: true });
    expect(response.status).toBe(401);
    expect(response.headers.get("WWW-Authenticate")).toBe('Bearer realm="realtimekit-proxy"');
    expect(await errorBody(response)).toMatchObject({
      success: false,
      error: { code: 401, message: expect.stringContaining("API key") },
    });
    expect(fake.requests).toHaveLength(0);
  });

  it("an unknown key is a 401 with error=invalid_token", async () => {
    const fake = useFakeUpstream();
    const response = await callProxy(uncachedSessionsPath(), bearer("rkp_not_a_key_we_know_of_at_all_0000000000"));
    expect(response.status).toBe(401);
    expect(response.headers.get("WWW-Authenticate")).toBe('Bearer realm="realtimekit-proxy", error="invalid_token"');
    expect(await errorBody(response)).toMatchObject({ error: { code: 401, message: "unknown API key" } });
    expect(fake.requests).toHaveLength(0);
  });

  it.each(["Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "Token abc"])(
    "a malformed Authorization (%s) is a 401",
    async (value) => {
      const response = await callProxy(uncachedSessionsPath(), { headers: { Authorization: value } });
      expect(response.status).toBe(401);
      expect(response.headers.get("WWW-Authenticate")).toContain('error="invalid_request"');
    },
  );

  it("the scheme is case-insensitive", async () => {
    useFakeUpstream();
    expect((await callProxy(uncachedSessionsPath(), { headers: { Authorization: `bearer ${API_KEY}` } })).status).toBe(
      200,
    );
  });

  it("a key over 256 characters is unknown, whatever its start", async () => {
    const response = await callProxy(uncachedSessionsPath(), bearer(`${API_KEY}${"x".repeat(300)}`));
    expect(response.status).toBe(401);
  });

  it("a key without the route's scope is a 403 naming the scope, without the upstream", async () => {
    const fake = useFakeUpstream();
    const response = await callProxy(uncachedSessionsPath(), bearer(LOCAL_NARROW_API_KEY));
    expect(response.status).toBe(403);
    expect(await errorBody(response)).toMatchObject({
      error: { code: 403, message: "this API key lacks the scope sessions:read" },
    });
    expect(fake.requests).toHaveLength(0);
  });

  it("a key for one scope cannot reach another route", async () => {
    const fake = useFakeUpstream();
    const sessionsOnly = "rkp_test_sessions_only_key_000000000000000000";
    const overrides = {
      PUBLIC_ROUTES: "health",
      API_KEYS: await keysJson([{ id: "sessions-team", key: sessionsOnly, scopes: ["sessions:read"] }]),
    };
    expect((await proxyWith(overrides)(uncachedSessionsPath(), bearer(sessionsOnly))).status).toBe(200);
    const response = await proxyWith(overrides)(ACTIVE, bearer(sessionsOnly));
    expect(response.status).toBe(403);
    expect(await errorBody(response)).toMatchObject({
      error: { message: expect.stringContaining("active-session:read") },
    });
    expect(fake.requests).toHaveLength(1);
  });

  it("a key holding the scope reaches its route", async () => {
    useFakeUpstream();
    expect((await callProxy(ACTIVE, bearer(LOCAL_NARROW_API_KEY))).status).toBe(200);
  });

  it("an unknown key is refused even on a public route", async () => {
    const response = await callProxy(ACTIVE, bearer("rkp_wrong_key_on_a_public_route_000000000000"));
    expect(response.status).toBe(401);
  });

  it("during a rotation both keys of one id work", async () => {
    useFakeUpstream();
    const [oldKey, newKey] = [
      "rkp_rotation_old_key_00000000000000000000000",
      "rkp_rotation_new_key_00000000000000000000000",
    ];
    const overrides = {
      API_KEYS: await keysJson([
        { id: "team-a", key: oldKey, scopes: ["sessions:read"] },
        { id: "team-a", key: newKey, scopes: ["sessions:read"] },
      ]),
    };
    expect((await proxyWith(overrides)(uncachedSessionsPath(), bearer(oldKey))).status).toBe(200);
    expect((await proxyWith(overrides)(uncachedSessionsPath(), bearer(newKey))).status).toBe(200);
  });

  it("logs name the key id, never the key", async () => {
    const logs = captureLogs();
    await callProxy(uncachedSessionsPath(), bearer(LOCAL_NARROW_API_KEY));
    expect(logs.some((line) => line.includes("local-active-session-only"))).toBe(true);
    await callProxy(uncachedSessionsPath(), bearer("rkp_unknown_key_value_for_the_log_test_00000"));
    for (const line of logs) {
      expect(line).not.toContain(LOCAL_NARROW_API_KEY);
      expect(line).not.toContain("rkp_unknown_key_value_for_the_log_test_00000");
    }
  });
});

describe("public routes", () => {
  it("active-session and health are public by default", async () => {
    useFakeUpstream();
    expect((await callProxy(ACTIVE, { anonymous: true })).status).toBe(200);
    expect((await callProxy("/health", { anonymous: true })).status).toBe(200);
  });

  it("PUBLIC_ROUTES can make /sessions public", async () => {
    useFakeUpstream();
    const response = await proxyWith({ PUBLIC_ROUTES: "active-session,sessions,health" })(uncachedSessionsPath(), {
      anonymous: true,
    });
    expect(response.status).toBe(200);
  });

  it("PUBLIC_ROUTES can make active-session need a key", async () => {
    const fake = useFakeUpstream();
    const response = await proxyWith({ PUBLIC_ROUTES: "health" })(ACTIVE, { anonymous: true });
    expect(response.status).toBe(401);
    expect(fake.requests).toHaveLength(0);
  });

  it("an empty PUBLIC_ROUTES makes even /health need a key (any key)", async () => {
    const proxyEnv = proxyWith({ PUBLIC_ROUTES: "" });
    expect((await proxyEnv("/health", { anonymous: true })).status).toBe(401);
    expect((await proxyEnv("/health", bearer(LOCAL_NARROW_API_KEY))).status).toBe(200);
  });
});

describe("access comes before the cache", () => {
  it("a cached /sessions answer is never served to a caller without the scope", async () => {
    const fake = useFakeUpstream();
    const proxyEnv = proxyWith();
    const path = uncachedSessionsPath();
    expect((await proxyEnv(path)).status).toBe(200);
    expect((await proxyEnv(path)).headers.get("Cache-Status")).toMatch(/; hit; /);

    const anonymous = await proxyEnv(path, { anonymous: true });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.has("Cache-Status")).toBe(false);
    const narrow = await proxyEnv(path, bearer(LOCAL_NARROW_API_KEY));
    expect(narrow.status).toBe(403);
    expect(await narrow.text()).not.toContain('sessions":[');
    expect(fake.requests).toHaveLength(1);
  });
});

describe("a malformed API_KEYS", () => {
  it.each([
    ["not JSON", "{id: 1", "API_KEYS must be a JSON list"],
    ["not a list", '{"id":"a"}', "API_KEYS must be a JSON list"],
    [
      "a short hash",
      '[{"id":"a","sha256":"abc","scopes":["sessions:read"]}]',
      "API_KEYS[0].sha256 must be the 64 hex digits",
    ],
    [
      "an unknown scope",
      `[{"id":"a","sha256":"${"a".repeat(64)}","scopes":["sessions:write"]}]`,
      "API_KEYS[0].scopes[0] must be among",
    ],
    ["no scopes", `[{"id":"a","sha256":"${"a".repeat(64)}","scopes":[]}]`, "API_KEYS[0].scopes must not be empty"],
    ["a bad id", `[{"id":"a b","sha256":"${"a".repeat(64)}","scopes":["sessions:read"]}]`, "API_KEYS[0].id must be"],
    [
      "one hash twice",
      `[{"id":"a","sha256":"${"b".repeat(64)}","scopes":["sessions:read"]},{"id":"c","sha256":"${"B".repeat(64)}","scopes":["sessions:read"]}]`,
      "API_KEYS must not list one key hash twice",
    ],
  ])("(%s) is a misconfiguration, not a silent 'nobody may call'", async (_, value, message) => {
    const response = await proxyWith({ API_KEYS: value })("/health", { anonymous: true });
    expect(response.status).toBe(500);
    const body = await errorBody(response);
    expect(body.error.message).toContain(message);
    expect(body.error.message).not.toContain("aaaaaaaa");
    expect(body.error.message).not.toContain("bbbbbbbb");
  });

  it("no API_KEYS at all means no key works, and public routes still do", async () => {
    useFakeUpstream();
    const proxyEnv = proxyWith({ API_KEYS: undefined });
    expect((await proxyEnv(uncachedSessionsPath())).status).toBe(401);
    expect((await proxyEnv(ACTIVE, { anonymous: true })).status).toBe(200);
  });
});
