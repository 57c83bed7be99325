/**
 * @module What `npm run sim`'s scenarios share: a seeded generator, SHA-256 at once (so a
 * rerun prints the same table), a Map for a Durable Object's storage, the clock's turns,
 * the configuration, and the statistics the tables print.
 */
import { createHash } from "node:crypto";
import { FAKE_ACCOUNT_ID, FAKE_API_TOKEN, FAKE_APP_ID } from "../dev/fake-upstream/data.ts";
import { type Config, DURABLE_OBJECTS, parseConfig } from "../src/config.ts";
import { KEY_RATE_TIERS, keyRateBinding } from "../src/rate-tiers.ts";
import { ROUTE_CATALOG } from "../src/routes/table.ts";
import type { SyncKv } from "../src/sync-kv.ts";

export const WINDOW_MS = 300_000;
export const START = Date.UTC(2026, 10, 30, 8, 0, 0);

/**
 * SHA-256 computed at once rather than on the thread pool, with the same bytes out. The
 * proxy hashes every answer it stores (ETags); with the platform's asynchronous digest,
 * whether a background refresh lands before or after the next poll would depend on the
 * machine's threads, and a rerun would differ by a few answers.
 */
function digestAtOnce(...[algorithm, data]: Parameters<typeof crypto.subtle.digest>): Promise<ArrayBuffer> {
  const name = typeof algorithm === "string" ? algorithm : algorithm.name;
  if (name.toUpperCase() !== "SHA-256") throw new Error(`the sim hashes SHA-256 only, not ${name}`);
  const bytes = ArrayBuffer.isView(data)
    ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    : new Uint8Array(data);
  return Promise.resolve(new Uint8Array(createHash("sha256").update(bytes).digest()).buffer);
}
/** Makes the platform's digest the one above, for the whole run. */
export function digestAtOnceForever(): void {
  Object.defineProperty(crypto.subtle, "digest", { value: digestAtOnce });
}

/** A turn of the event loop: the simulated upstream answers one later, as a real one answers a round trip later. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A deterministic generator, so every run replays the same day. */
export function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

/** A Durable Object's synchronous storage, as a Map. */
export function mapStore(): SyncKv {
  const entries = new Map<string, unknown>();
  return {
    get: <T>(key: string) => entries.get(key) as T | undefined,
    put: (key, value) => void entries.set(key, value),
    delete: (key) => entries.delete(key),
    list: <T>({ prefix }: { prefix: string }) =>
      [...entries].filter(([key]) => key.startsWith(prefix)) as [string, T][],
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** The most requests any 5-minute window saw (sliding). */
export function busiestWindow(arrivals: number[]): number {
  let max = 0;
  for (let i = 0, j = 0; i < arrivals.length; i++) {
    while ((arrivals[i] ?? 0) - (arrivals[j] ?? 0) >= WINDOW_MS) j++;
    max = Math.max(max, i - j + 1);
  }
  return max;
}

/** Every binding the configuration checks for, doing nothing: the simulation drives the pure logic itself. */
function inertBindings(): Record<string, unknown> {
  const limiter = { limit: async () => ({ success: true }) };
  const limiters = ["PUBLIC_RATE_LIMITER", "KEYED_RATE_LIMITER", ...KEY_RATE_TIERS.map(keyRateBinding)];
  return {
    ...Object.fromEntries(limiters.map((name) => [name, limiter])),
    ...Object.fromEntries(Object.keys(DURABLE_OBJECTS).map((name) => [name, { getByName: () => ({}) }])),
  };
}

/** The proxy's configuration as the simulation runs it: the fake's ids and token, these vars, bindings that do nothing. */
export function configFor(vars: Record<string, string> = {}): Config {
  const parsed = parseConfig(
    {
      CLOUDFLARE_API_TOKEN: FAKE_API_TOKEN,
      CLOUDFLARE_ACCOUNT_ID: FAKE_ACCOUNT_ID,
      REALTIMEKIT_APP_ID: FAKE_APP_ID,
      CLOUDFLARE_API_BASE_URL: "http://127.0.0.1:9/client/v4",
      ...vars,
      ...inertBindings(),
    },
    ROUTE_CATALOG,
  );
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.config;
}

/** The text in lines of at most `width` characters, broken between words. */
export function wrapped(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}
