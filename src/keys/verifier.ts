/**
 * @module Checking a managed key's secret, fast and current: what the key's object said of
 * it is kept in this isolate and in the data centre's cache for 4 s, so a known key costs
 * no object hop on nearly every request, and each key's object hears from a data centre
 * at most once per 4 s per key. Every change an admin makes (revoked, disabled, expired,
 * rolled, scopes changed) is seen everywhere within 5 s: no answer older than 4 s is used
 * while the store can be asked. A secret this isolate does not know is counted against the
 * caller's address before anything is looked up, and lookups are throttled per isolate, so
 * a flood of random keys reaches the objects only a few times a second. With the store
 * unreachable, a key already known goes on working (within its expiry), a new one is a 503,
 * never a pass. Pure: the lookup, the data centre's cache and the clock are injected.
 */
import { Coalescer } from "../cache/answer.ts";
import { MemoryTier } from "../cache/memory-tier.ts";
import { sha256Hex } from "../digest.ts";
import type { KeyVerdict } from "./key-object.ts";
import type { KeyGrant } from "./record.ts";
import { keyIdOf, secretHash } from "./secret.ts";

/** What the key's object said of a secret, and when. */
export interface Checked {
  verdict: KeyVerdict;
  checkedAt: number;
}

/** The data centre's cache of checks (`caches.default` in the Worker), keyed by a hash of the secret's hash. */
export interface DataCentreChecks {
  get(cacheKey: string): Promise<Checked | undefined>;
  put(cacheKey: string, checked: Checked, ttlMs: number): Promise<void>;
}

export interface KeyVerifierOptions {
  /** Asks the key's object (by the id the secret names) what the hash opens; rejects when it cannot be reached. */
  lookup: (keyId: string, hash: string) => Promise<KeyVerdict>;
  dataCentre: DataCentreChecks;
  now: () => number;
}

export type Verification =
  | { kind: "known"; grant: KeyGrant }
  | { kind: "unknown" }
  /** The caller's address is over its limit: nothing was looked up. */
  | { kind: "limited" }
  /** The store could not be asked (down, or this isolate's lookups are all taken) and the key is not known here. */
  | { kind: "unavailable" };

export interface VerifyHooks {
  /** Counts the request against the caller's address; false when it is over its limit. */
  addressAllowed: () => Promise<boolean>;
  /** Runs work after the answer (the data centre's cache write). */
  background: (work: Promise<unknown>) => void;
}

/** How long a check is believed: with the hop to the object and back, a change is seen everywhere within 5 s. */
export const CHECK_FRESH_MS = 4_000;
/** Lookups of keys nothing here knows, per isolate: a burst of this many, then this many a second. */
const LOOKUPS_PER_SECOND = 10;
/** Secrets' checks kept in this isolate (hash and verdict, a few hundred bytes each). */
const ISOLATE_CHECKS_BYTES = 2 * 1024 * 1024;

export class KeyVerifier {
  readonly #options: KeyVerifierOptions;
  readonly #checks = new MemoryTier<Checked>(
    ISOLATE_CHECKS_BYTES,
    (hash, checked) => hash.length * 2 + JSON.stringify(checked).length * 2,
  );
  readonly #asking = new Coalescer<Checked>();
  #lookupTokens = LOOKUPS_PER_SECOND;
  #tokensAt = Number.NEGATIVE_INFINITY;

  constructor(options: KeyVerifierOptions) {
    this.#options = options;
  }

  /** What the secret (of a managed key's form) grants now. */
  async verify(secret: string, hooks: VerifyHooks): Promise<Verification> {
    const keyId = keyIdOf(secret);
    if (keyId === undefined) return { kind: "unknown" };
    const hash = await secretHash(secret);
    const { now } = this.#options;
    const known = this.#checks.get(hash);
    if (known && now() - known.checkedAt < CHECK_FRESH_MS) return verification(known);
    // Not known here: the address pays for it before anything is looked up.
    if (!known && !(await hooks.addressAllowed())) return { kind: "limited" };
    const dataCentreKey = await sha256Hex(`key-check:${hash}`);
    const fromDataCentre = await this.#options.dataCentre.get(dataCentreKey).catch(() => undefined);
    if (fromDataCentre && now() - fromDataCentre.checkedAt < CHECK_FRESH_MS) {
      this.#checks.set(hash, fromDataCentre);
      return verification(fromDataCentre);
    }
    try {
      const checked = await this.#asking.run(hash, () => this.#lookUp(keyId, hash));
      this.#checks.set(hash, checked);
      hooks.background(this.#options.dataCentre.put(dataCentreKey, checked, CHECK_FRESH_MS).catch(() => undefined));
      return verification(checked);
    } catch {
      // The store cannot be asked: a key known here goes on (its grant still carries its expiry).
      return known ? verification(known) : { kind: "unavailable" };
    }
  }

  async #lookUp(keyId: string, hash: string): Promise<Checked> {
    if (!this.#takeLookup()) throw new Error("this isolate's lookups are all taken");
    const verdict = await this.#options.lookup(keyId, hash);
    return { verdict, checkedAt: this.#options.now() };
  }

  /** A token bucket of lookups per isolate: a flood of random keys reaches the store a few times a second. */
  #takeLookup(): boolean {
    const now = this.#options.now();
    const elapsed = Math.max(0, now - this.#tokensAt);
    this.#lookupTokens = Math.min(LOOKUPS_PER_SECOND, this.#lookupTokens + (elapsed / 1000) * LOOKUPS_PER_SECOND);
    this.#tokensAt = now;
    if (this.#lookupTokens < 1) return false;
    this.#lookupTokens -= 1;
    return true;
  }
}

function verification({ verdict }: Checked): Verification {
  return verdict.status === "valid" ? { kind: "known", grant: verdict.grant } : { kind: "unknown" };
}

/** The data centre's checks on the Cache API: each entry lives exactly as long as a check is believed. */
export function cacheApiChecks(cache: Pick<Cache, "match" | "put">): DataCentreChecks {
  const url = (cacheKey: string) => `https://key-checks.realtimekit-proxy.internal/v1/${cacheKey}`;
  return {
    async get(cacheKey) {
      const response = await cache.match(url(cacheKey));
      return response ? ((await response.json()) as Checked) : undefined;
    },
    async put(cacheKey, checked, ttlMs) {
      // The Cache API drops it after this; whether it is still believed is judged by checkedAt.
      const seconds = Math.max(1, Math.ceil(ttlMs / 1000));
      await cache.put(
        url(cacheKey),
        new Response(JSON.stringify(checked), {
          headers: { "Content-Type": "application/json", "Cache-Control": `max-age=${seconds}` },
        }),
      );
    },
  };
}
