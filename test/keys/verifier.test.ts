import { describe, expect, it } from "vitest";
import type { KeyVerdict } from "../../src/keys/key-object.ts";
import { newKeyId, newSecret, secretHash } from "../../src/keys/secret.ts";
import { CHECK_FRESH_MS, type Checked, type DataCentreChecks, KeyVerifier } from "../../src/keys/verifier.ts";
import { errorBody, proxyWith, useFakeClock, useFakeUpstream } from "../support/proxy.ts";
import { createKey, TEAM, withKey } from "./support.ts";

/** A data centre's cache of checks, as a Map with the Cache API's expiry. */
function dataCentreCache(now: () => number): DataCentreChecks & { entries: number } {
  const entries = new Map<string, { checked: Checked; until: number }>();
  return {
    get entries() {
      return entries.size;
    },
    async get(cacheKey) {
      const entry = entries.get(cacheKey);
      return entry && entry.until > now() ? entry.checked : undefined;
    },
    async put(cacheKey, checked, ttlMs) {
      entries.set(cacheKey, { checked, until: now() + ttlMs });
    },
  };
}

/** A store of keys, counting the lookups each key's object gets, that can be made to fail. */
function keyStoreModel() {
  const hashes = new Map<string, string>();
  const lookups = new Map<string, number[]>();
  const state = { down: false, clock: 0 };
  return {
    state,
    lookups,
    async add(): Promise<string> {
      const id = newKeyId();
      const secret = newSecret(id);
      hashes.set(id, await secretHash(secret));
      return secret;
    },
    lookup: async (keyId: string, hash: string): Promise<KeyVerdict> => {
      lookups.set(keyId, [...(lookups.get(keyId) ?? []), state.clock]);
      if (state.down) throw new Error("the key's object cannot be reached");
      if (hashes.get(keyId) !== hash) return { status: "unknown" };
      return {
        status: "valid",
        grant: {
          id: keyId,
          scopes: ["sessions:read"],
          enabled: true,
          expiresAt: null,
          rateLimit: null,
          upstreamShare: null,
        },
      };
    },
  };
}

const allowed = { addressAllowed: async () => true, background: (work: Promise<unknown>) => void work };

describe("KeyVerifier", () => {
  it("a known key costs no lookup for 4 s in an isolate, and other isolates of the data centre share the check", async () => {
    const store = keyStoreModel();
    const now = () => store.state.clock;
    const cache = dataCentreCache(now);
    const secret = await store.add();
    const isolates = [1, 2, 3].map(() => new KeyVerifier({ lookup: store.lookup, dataCentre: cache, now }));
    for (let ms = 0; ms < 12_000; ms += 100) {
      store.state.clock = ms;
      for (const isolate of isolates) expect((await isolate.verify(secret, allowed)).kind).toBe("known");
    }
    // 360 checks in 12 s: one lookup per 4 s for the whole data centre.
    expect([...store.lookups.values()].flat()).toEqual([0, 4_000, 8_000]);
  });

  it("a secret this isolate does not know pays at its address first: over the limit, nothing is looked up", async () => {
    const store = keyStoreModel();
    const verifier = new KeyVerifier({ lookup: store.lookup, dataCentre: dataCentreCache(() => 0), now: () => 0 });
    const limited = { ...allowed, addressAllowed: async () => false };
    expect(await verifier.verify(newSecret(newKeyId()), limited)).toEqual({ kind: "limited" });
    expect(store.lookups.size).toBe(0);
  });

  it("a flood of random keys reaches the store at most 10 times a second per isolate", async () => {
    const store = keyStoreModel();
    const now = () => store.state.clock;
    const verifier = new KeyVerifier({ lookup: store.lookup, dataCentre: dataCentreCache(now), now });
    const kinds = new Map<string, number>();
    for (let ms = 0; ms < 5_000; ms += 5) {
      store.state.clock = ms;
      const { kind } = await verifier.verify(newSecret(newKeyId()), allowed);
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    const lookups = [...store.lookups.values()].flat();
    expect(lookups.length).toBeLessThanOrEqual(10 + 5 * 10);
    expect(kinds.get("unknown")).toBe(lookups.length);
    expect(kinds.get("unavailable")).toBe(1_000 - lookups.length);
  });

  it("with the store unreachable, a key already known goes on; a new one is unavailable, never a pass", async () => {
    const store = keyStoreModel();
    const now = () => store.state.clock;
    const verifier = new KeyVerifier({ lookup: store.lookup, dataCentre: dataCentreCache(now), now });
    const known = await store.add();
    const fresh = await store.add();
    expect((await verifier.verify(known, allowed)).kind).toBe("known");
    store.state.down = true;
    store.state.clock = 60_000;
    expect((await verifier.verify(known, allowed)).kind).toBe("known");
    expect(await verifier.verify(fresh, allowed)).toEqual({ kind: "unavailable" });
  });

  it("scale: 300 data centres using 2 busy keys every second keep each key's object to 75 lookups a second", {
    timeout: 60_000,
  }, async () => {
    const store = keyStoreModel();
    const now = () => store.state.clock;
    const secrets = [await store.add(), await store.add()];
    const centres = Array.from({ length: 300 }, () => {
      const cache = dataCentreCache(now);
      return new KeyVerifier({ lookup: store.lookup, dataCentre: cache, now });
    });
    for (let ms = 0; ms < 20_000; ms += 1_000) {
      store.state.clock = ms;
      for (const centre of centres) for (const secret of secrets) await centre.verify(secret, allowed);
    }
    for (const times of store.lookups.values()) {
      const perSecond = new Map<number, number>();
      for (const at of times) perSecond.set(Math.floor(at / 1000), (perSecond.get(Math.floor(at / 1000)) ?? 0) + 1);
      // Each data centre asks once per 4 s: 300 / 4 = 75 a second on average, never 300.
      expect(times.length).toBe(300 * Math.ceil(20_000 / CHECK_FRESH_MS));
      expect(times.length / 20).toBe(75);
    }
  });
});

describe("the store unreachable, through the Worker", () => {
  it("a key nobody here knows is a 503 with Retry-After, not a pass and not a 401", async () => {
    useFakeClock();
    useFakeUpstream();
    const key = await createKey(TEAM);
    const broken = {
      getByName: () => ({
        verify: () => Promise.reject(new Error("down")),
      }),
    };
    const call = proxyWith({ KEY_STORE: broken });
    const response = await call("/sessions", withKey(key.secret));
    expect(await errorBody(response)).toMatchObject({ error: { code: 503, type: "key_store_unavailable" } });
    expect(Number(response.headers.get("Retry-After"))).toBeGreaterThan(0);
  });
});
