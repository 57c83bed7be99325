/**
 * @module The key store as the Worker uses it: what an admin does with keys (a key with
 * `keys:admin`): create, list, read, change, roll and revoke managed keys, and read any
 * key's usage; and where each isolate sends its usage counts. Each change goes to the
 * key's own object (what every check of the key reads) and then to the directory (what
 * lists read), and is one audit line naming the admin's key id and what changed: never a
 * secret. Config keys (API_KEYS) are listed and read in the same shape, and never changed
 * here: they change with a deploy.
 */
import type { ApiKeyEntry } from "../config.ts";
import { ApiError } from "../errors.ts";
import { logger } from "../log.ts";
import { KEY_DIRECTORY_NAME } from "./directory-object.ts";
import { usageObjectName } from "./key-object.ts";
import {
  configKeyView,
  decodeKey,
  encodeKey,
  type KeyInput,
  type KeyPatch,
  type KeyView,
  type ManagedKey,
  newKeyRecord,
  patched,
} from "./record.ts";
import { newKeyId, newSecret, secretHash, startOf } from "./secret.ts";
import type { UsageBatch, UsageWindow } from "./usage.ts";

export interface KeyStoreOptions {
  store: Env["KEY_STORE"];
  directory: Env["KEY_DIRECTORY"];
  configKeys: readonly ApiKeyEntry[];
  now: () => number;
}

export interface KeyPaging {
  page_no: number;
  per_page: number;
  total_count: number;
}

const managedView = (key: ManagedKey): KeyView => ({ ...key, source: "managed" });

function notFound(id: string): ApiError {
  return new ApiError("not_found", `no key ${id}`);
}

function audit(action: string, keyId: string, by: string, details: Record<string, string | number> = {}): void {
  logger.write("info", { event: "key_audit", action, keyId, by, ...details });
}

export function keyStore({ store, directory, configKeys, now }: KeyStoreOptions) {
  const configKey = (id: string) => configKeys.find((entry) => entry.id === id);
  const listing = () => directory.getByName(KEY_DIRECTORY_NAME);

  /** The directory follows the key's object; when it cannot, the key works all the same and the next change or read mends the list. */
  async function listed(work: () => Promise<void>): Promise<void> {
    await work().catch((error: unknown) =>
      logger.write("error", {
        event: "key_directory_stale",
        hint: "the key directory Durable Object failed: the change took effect, GET /keys may not show it until the key is read or changed again",
        error: error instanceof Error ? error.name : typeof error,
      }),
    );
  }

  function refuseConfigKey(id: string): void {
    if (configKey(id)) {
      throw new ApiError("conflict", `${id} is a config key (API_KEYS): config keys change with a deploy`);
    }
  }

  return {
    async create(input: KeyInput, by: string): Promise<{ key: KeyView; secret: string }> {
      const id = newKeyId();
      const secret = newSecret(id);
      const text = encodeKey(newKeyRecord(id, startOf(secret), input, now()));
      if (!(await store.getByName(id).create(text, await secretHash(secret)))) {
        throw new ApiError("internal", "internal error");
      }
      await listed(() => listing().upsert(text));
      const key = decodeKey(text);
      audit("create", id, by, { scopes: key.scopes.join(" "), owner: key.owner });
      return { key: managedView(key), secret };
    },

    /** Managed keys newest first, then the config keys. */
    async list(pageNo: number, perPage: number): Promise<{ keys: KeyView[]; paging: KeyPaging }> {
      const page = Math.max(1, pageNo);
      const offset = (page - 1) * perPage;
      const found = await listing().list(page, perPage);
      const managed = found.records.map((record) => managedView(decodeKey(record)));
      const configFrom = Math.max(0, offset - found.total);
      const fromConfig = configKeys.map(configKeyView).slice(configFrom, configFrom + perPage - managed.length);
      return {
        keys: [...managed, ...fromConfig],
        paging: { page_no: page, per_page: perPage, total_count: found.total + configKeys.length },
      };
    },

    async get(id: string): Promise<KeyView> {
      const entry = configKey(id);
      if (entry) return configKeyView(entry);
      const text = await store.getByName(id).get();
      if (!text) throw notFound(id);
      await listed(() => listing().upsert(text));
      return managedView(decodeKey(text));
    },

    async update(id: string, patch: KeyPatch, by: string): Promise<KeyView> {
      refuseConfigKey(id);
      const object = store.getByName(id);
      const text = await object.get();
      if (!text) throw notFound(id);
      const { key: next, changed } = patched(decodeKey(text), patch);
      const saved = await object.put(encodeKey(next));
      if (!saved) throw notFound(id);
      await listed(() => listing().upsert(saved));
      audit("update", id, by, { changed: changed.join(" ") });
      return managedView(decodeKey(saved));
    },

    async roll(id: string, graceSeconds: number, by: string): Promise<{ key: KeyView; secret: string }> {
      refuseConfigKey(id);
      const secret = newSecret(id);
      const rolled = await store.getByName(id).roll(await secretHash(secret), startOf(secret), graceSeconds);
      if (!rolled) throw notFound(id);
      await listed(() => listing().upsert(rolled));
      audit("roll", id, by, { graceSeconds });
      return { key: managedView(decodeKey(rolled)), secret };
    },

    async revoke(id: string, by: string): Promise<void> {
      refuseConfigKey(id);
      if (!(await store.getByName(id).revoke())) throw notFound(id);
      await listed(() => listing().remove(id));
      audit("revoke", id, by);
    },

    async usage(id: string, window: UsageWindow) {
      const source = configKey(id) ? "config" : "managed";
      if (source === "managed" && !(await store.getByName(id).get())) throw notFound(id);
      return store.getByName(usageObjectName(source, id)).usage(window);
    },

    /** An isolate's counts for a key, sent to the object that keeps its usage. */
    record(source: "managed" | "config", id: string, batch: UsageBatch): Promise<void> {
      return store.getByName(usageObjectName(source, id)).record(batch);
    },
  };
}

export type KeyStore = ReturnType<typeof keyStore>;
