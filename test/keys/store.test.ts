import { describe, expect, it, vi } from "vitest";
import { LOCAL_NARROW_API_KEY } from "../../dev/local-keys.ts";
import { logger } from "../../src/log.ts";
import {
  API_KEY,
  callProxy,
  captureLogs,
  dataCentre,
  errorBody,
  proxyWith,
  useFakeClock,
  useFakeUpstream,
} from "../support/proxy.ts";
import { asAdmin, createKey, TEAM, withKey } from "./support.ts";

const SESSIONS = "/sessions?per_page=1";

describe("POST /keys: a managed key, its secret shown once", () => {
  it("answers the secret once (no-store), and the key opens the routes of its scopes at once", async () => {
    useFakeClock();
    useFakeUpstream();
    const response = await callProxy("/keys", asAdmin("POST", TEAM));
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const { data } = (await response.json()) as { data: Record<string, unknown> & { secret: string; id: string } };
    expect(data).toMatchObject({
      id: expect.stringMatching(/^key_[0-9A-Za-z]{12}$/),
      secret: expect.stringMatching(/^rkp_live_[0-9A-Za-z]{44}$/),
      source: "managed",
      name: TEAM.name,
      owner: TEAM.owner,
      scopes: ["sessions:read"],
      enabled: true,
      expires_at: null,
      rate_limit: null,
      upstream_share: null,
      meta: {},
      last_used_at: null,
      created_at: "2026-11-22T12:00:00.000Z",
    });
    expect(data.start).toBe(data.secret.slice(0, 12));
    expect((await callProxy(SESSIONS, withKey(data.secret))).status).toBe(200);
    const outside = await callProxy("/status", withKey(data.secret));
    expect(await errorBody(outside)).toMatchObject({
      error: { code: 403, message: expect.stringContaining("status:read") },
    });
  });

  it.each([
    ["no name", { owner: "x", scopes: ["sessions:read"] }, "name"],
    ["an unknown scope", { ...TEAM, scopes: ["sessions:write"] }, "scopes.0"],
    ["no scope at all", { ...TEAM, scopes: [] }, "scopes"],
    ["a rate limit that is no tier", { ...TEAM, rate_limit: 100 }, "rate_limit"],
    ["an upstream share that is no allowance", { ...TEAM, upstream_share: "lots" }, "upstream_share"],
    ["meta over 2 KiB", { ...TEAM, meta: { note: "x".repeat(2100) } }, "meta"],
    ["an expiry in the past", { ...TEAM, expires_at: "2026-11-22T11:00:00Z" }, "expires_at"],
    ["a field keys do not have", { ...TEAM, recording_config: {} }, "recording_config"],
  ])("%s is a 400 naming it, and makes no key", async (_, body, path) => {
    useFakeClock();
    const response = await callProxy("/keys", asAdmin("POST", body));
    expect(await errorBody(response)).toMatchObject({
      error: { code: 400, type: "bad_request", issues: expect.arrayContaining([expect.objectContaining({ path })]) },
    });
    const list = (await (await callProxy("/keys", asAdmin("GET"))).json()) as { data: { keys: { source: string }[] } };
    expect(list.data.keys.filter((key) => key.source === "managed")).toEqual([]);
  });

  it("needs keys:admin: another key is refused, and so is anyone without a key", async () => {
    useFakeClock();
    const narrow = await callProxy("/keys", asAdmin("POST", TEAM, LOCAL_NARROW_API_KEY));
    expect(await errorBody(narrow)).toMatchObject({
      error: { code: 403, message: expect.stringContaining("keys:admin") },
    });
    expect((await callProxy("/keys", { anonymous: true })).status).toBe(401);
  });
});

describe("GET /keys and GET /keys/:keyId", () => {
  it("lists managed keys newest first, then config keys (read-only), never a secret", async () => {
    const clock = useFakeClock();
    const first = await createKey({ ...TEAM, name: "first" });
    clock.advance(1_000);
    const second = await createKey({ ...TEAM, name: "second" });
    const response = await callProxy("/keys", asAdmin("GET"));
    const text = await response.clone().text();
    const { data, paging } = (await response.json()) as {
      data: { keys: { id: string; source: string }[] };
      paging: Record<string, number>;
    };
    expect(data.keys.map(({ id, source }) => [id, source])).toEqual([
      [second.id, "managed"],
      [first.id, "managed"],
      ["local-every-scope", "config"],
      ["local-active-session-only", "config"],
    ]);
    expect(paging).toEqual({ page_no: 1, per_page: 50, total_count: 4 });
    for (const secret of [first.secret, second.secret, API_KEY]) expect(text).not.toContain(secret);
    const page2 = (await (await callProxy("/keys?per_page=3&page_no=2", asAdmin("GET"))).json()) as {
      data: { keys: { id: string }[] };
    };
    expect(page2.data.keys.map(({ id }) => id)).toEqual(["local-active-session-only"]);
  });

  it("reads one key by id; an unknown id is a 404; a config key reads as source config", async () => {
    useFakeClock();
    const key = await createKey(TEAM);
    const { data } = (await (await callProxy(`/keys/${key.id}`, asAdmin("GET"))).json()) as {
      data: Record<string, unknown>;
    };
    expect(data).toMatchObject({ id: key.id, start: key.start, source: "managed" });
    expect(data).not.toHaveProperty("secret");
    expect((await callProxy("/keys/key_AAAAAAAAAAAA", asAdmin("GET"))).status).toBe(404);
    expect(await (await callProxy("/keys/local-every-scope", asAdmin("GET"))).json()).toMatchObject({
      data: { id: "local-every-scope", source: "config" },
    });
  });
});

describe("changes take effect everywhere within 5 s", () => {
  /** Three callers that keep their own caches: two isolates of one data centre, and another data centre. */
  async function everywhere() {
    const isolates = [proxyWith(), proxyWith(), await dataCentre("elsewhere")];
    return (secret: string, path = SESSIONS) =>
      Promise.all(isolates.map(async (call) => (await call(path, withKey(secret))).status));
  }

  it("revoked: every isolate and data centre refuses it within 5 s, as an unknown key", async () => {
    const clock = useFakeClock();
    useFakeUpstream();
    const key = await createKey(TEAM);
    const statuses = await everywhere();
    expect(await statuses(key.secret)).toEqual([200, 200, 200]);
    const revoked = await callProxy(`/keys/${key.id}`, asAdmin("DELETE"));
    expect(await revoked.json()).toEqual({ success: true, data: { id: key.id, revoked: true } });
    clock.advance(5_000);
    expect(await statuses(key.secret)).toEqual([401, 401, 401]);
    expect((await callProxy(`/keys/${key.id}`, asAdmin("GET"))).status).toBe(404);
  });

  it("disabled: refused within 5 s; enabled again: works within 5 s", async () => {
    const clock = useFakeClock();
    useFakeUpstream();
    const key = await createKey(TEAM);
    const statuses = await everywhere();
    await statuses(key.secret);
    await callProxy(`/keys/${key.id}`, asAdmin("PATCH", { enabled: false }));
    clock.advance(5_000);
    expect(await statuses(key.secret)).toEqual([401, 401, 401]);
    const refused = await proxyWith()(SESSIONS, withKey(key.secret));
    expect(await errorBody(refused)).toMatchObject({ error: { message: "this API key is disabled" } });
    await callProxy(`/keys/${key.id}`, asAdmin("PATCH", { enabled: true }));
    clock.advance(5_000);
    expect(await statuses(key.secret)).toEqual([200, 200, 200]);
  });

  it("a removed scope stops opening its routes within 5 s", async () => {
    const clock = useFakeClock();
    useFakeUpstream();
    const key = await createKey({ ...TEAM, scopes: ["sessions:read", "status:read"] });
    const statuses = await everywhere();
    expect(await statuses(key.secret, "/status")).toEqual([200, 200, 200]);
    const patched = await callProxy(`/keys/${key.id}`, asAdmin("PATCH", { scopes: ["sessions:read"] }));
    expect(await patched.json()).toMatchObject({ data: { scopes: ["sessions:read"] } });
    clock.advance(5_000);
    expect(await statuses(key.secret, "/status")).toEqual([403, 403, 403]);
  });

  it("expired: refused from its expiry on, wherever it was known", async () => {
    const clock = useFakeClock();
    useFakeUpstream();
    const key = await createKey({ ...TEAM, expires_at: "2026-11-22T12:00:03Z" });
    const statuses = await everywhere();
    expect(await statuses(key.secret)).toEqual([200, 200, 200]);
    clock.advance(3_000);
    expect(await statuses(key.secret)).toEqual([401, 401, 401]);
    const refused = await proxyWith()(SESSIONS, withKey(key.secret));
    expect(await errorBody(refused)).toMatchObject({ error: { message: "this API key has expired" } });
  });

  it("rolled: the new secret works at once, the old one for grace_seconds, then is an unknown key", async () => {
    const clock = useFakeClock();
    useFakeUpstream();
    const key = await createKey(TEAM);
    const response = await callProxy(`/keys/${key.id}/roll`, asAdmin("POST", { grace_seconds: 60 }));
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const rolled = ((await response.json()) as { data: { id: string; secret: string; start: string } }).data;
    expect(rolled.id).toBe(key.id);
    expect(rolled.secret).not.toBe(key.secret);
    expect(rolled.start).toBe(rolled.secret.slice(0, 12));
    const statuses = await everywhere();
    expect(await statuses(rolled.secret)).toEqual([200, 200, 200]);
    expect(await statuses(key.secret)).toEqual([200, 200, 200]);
    clock.advance(60_000);
    expect(await statuses(key.secret)).toEqual([401, 401, 401]);
    expect(await statuses(rolled.secret)).toEqual([200, 200, 200]);
  });

  it("rolled without grace: the old secret stops within 5 s", async () => {
    const clock = useFakeClock();
    useFakeUpstream();
    const key = await createKey(TEAM);
    await callProxy(`/keys/${key.id}/roll`, asAdmin("POST", {}));
    clock.advance(5_000);
    expect((await proxyWith()(SESSIONS, withKey(key.secret))).status).toBe(401);
  });
});

describe("config keys are read-only", () => {
  it.each([
    ["PATCH", "/keys/local-every-scope", { enabled: false }],
    ["POST", "/keys/local-every-scope/roll", {}],
    ["DELETE", "/keys/local-every-scope", undefined],
  ])("%s %s is a 409: config keys change with a deploy", async (method, path, body) => {
    useFakeClock();
    const response = await callProxy(path, asAdmin(method, body));
    expect(await errorBody(response)).toMatchObject({
      error: { code: 409, type: "conflict", message: expect.stringContaining("config keys change with a deploy") },
    });
  });

  it("a config key's id may not look like a managed key's", async () => {
    const entry = { id: "key_AAAAAAAAAAAA", sha256: "0".repeat(64), scopes: ["sessions:read"] };
    const response = await proxyWith({ API_KEYS: JSON.stringify([entry]) })("/health");
    expect(await errorBody(response)).toMatchObject({
      error: { code: 500, message: expect.stringContaining("must not have a managed key's form") },
    });
  });
});

describe("every change is an audit line, never a secret", () => {
  it("create, update, roll and revoke each write one line naming the admin's key id and what changed", async () => {
    useFakeClock();
    const logs = captureLogs();
    const key = await createKey(TEAM);
    await callProxy(`/keys/${key.id}`, asAdmin("PATCH", { owner: "team-b", rate_limit: 60 }));
    const rolled = (await (await callProxy(`/keys/${key.id}/roll`, asAdmin("POST", {}))).json()) as {
      data: { secret: string };
    };
    await callProxy(`/keys/${key.id}`, asAdmin("DELETE"));
    const audits = vi
      .mocked(logger.write)
      .mock.calls.filter(([, entry]) => entry.event === "key_audit")
      .map(([, entry]) => entry);
    expect(audits).toEqual([
      expect.objectContaining({ action: "create", keyId: key.id, by: "local-every-scope", scopes: "sessions:read" }),
      expect.objectContaining({
        action: "update",
        keyId: key.id,
        by: "local-every-scope",
        changed: "owner rate_limit",
      }),
      expect.objectContaining({ action: "roll", keyId: key.id, by: "local-every-scope", graceSeconds: 0 }),
      expect.objectContaining({ action: "revoke", keyId: key.id, by: "local-every-scope" }),
    ]);
    for (const line of logs) {
      expect(line).not.toContain(key.secret);
      expect(line).not.toContain(rolled.data.secret);
    }
  });
});

describe("KEYS_ADMIN=off", () => {
  it("the keys API does not exist, and managed keys made before keep working", async () => {
    useFakeClock();
    useFakeUpstream();
    const key = await createKey(TEAM);
    const off = proxyWith({ KEYS_ADMIN: "off" });
    expect(await errorBody(await off("/keys", asAdmin("POST", TEAM)))).toMatchObject({
      error: { code: 404, message: expect.stringContaining("KEYS_ADMIN") },
    });
    expect((await off(SESSIONS, withKey(key.secret))).status).toBe(200);
  });
});
