/** Test helpers: the fake upstream behind the Worker's fetch, calls into the real entry, a fake clock. */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import { createFakeUpstream, type FakeUpstream, type FakeUpstreamOptions } from "../../dev/fake-upstream/app.ts";
import { FAKE_API_TOKEN } from "../../dev/fake-upstream/data.ts";
import { LOCAL_API_KEY } from "../../dev/local-keys.ts";
import { checkConfig, createApp } from "../../src/app.ts";
import { Coalescer } from "../../src/cache/answer.ts";
import worker from "../../src/index.ts";
import { runtime } from "../../src/runtime.ts";

export const TOKEN = FAKE_API_TOKEN;
export const LIVE_V2_MEETING = "6bf2b8be-04dd-4191-b602-1128921a306b";
export const LIVE_V1_MEETING = "qwerty-asdfgh";
export const IDLE_V2_MEETING = "0d4e6a8c-2b1f-4e3d-9c5b-7a6f8e9d0c1b";
export const UPSTREAM_APP_URL =
  "https://api.cloudflare.com/client/v4/accounts/0123456789abcdef0123456789abcdef/realtime/kit/5f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

/** Routes the Worker's outbound fetch to the bundled fake upstream (undone after each test). */
export function useFakeUpstream(options?: FakeUpstreamOptions) {
  // Participants and user tokens are dated by the proxy's clock, fake or not.
  const fake = createFakeUpstream({ now: () => runtime.now(), ...options });
  vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => fake.fetch(new Request(input, init)));
  return fake;
}

export const API_KEY = LOCAL_API_KEY;

/** A request as a test sends it: `anonymous` sends no Authorization header at all. */
export type ProxyInit = RequestInit & { anonymous?: boolean };

/**
 * Unless told otherwise, test requests come from an internal caller holding a key with
 * every scope (dev/local-keys.ts), so tests about other things are not about access.
 */
function asCaller(path: string, init: ProxyInit = {}): Request {
  const { anonymous, ...requestInit } = init;
  const headers = new Headers(requestInit.headers);
  if (!anonymous && !headers.has("Authorization")) headers.set("Authorization", `Bearer ${API_KEY}`);
  return new Request(`http://proxy.test${path}`, { ...requestInit, headers });
}

let isolateEnv: Env | undefined;

/** The next callProxy runs in a new isolate (a new env object means a new app, memory tier included). */
export function startNewIsolate(): void {
  isolateEnv = undefined;
}

/**
 * A request through the Worker's real entry, with the test config of vitest.config.ts,
 * in this test's own isolate; resolves once every `waitUntil` has settled.
 */
export function callProxy(path: string, init?: ProxyInit): Promise<Response> {
  isolateEnv ??= envWith();
  return callWorker(isolateEnv, path, init);
}

/** The test env with some vars or secrets changed: a new object, so a new app, as in a new isolate. */
function envWith(overrides: Record<string, unknown> = {}): Env {
  return { ...env, ...overrides } as Env;
}

/**
 * A request through the Worker's real entry with the given env object (the same object
 * means the same app, memory tier included); resolves once every `waitUntil` has settled.
 */
async function callWorker(workerEnv: Env, path: string, init?: ProxyInit): Promise<Response> {
  const ctx = createExecutionContext();
  const request = asCaller(path, init) as Parameters<typeof worker.fetch>[0];
  const response = await worker.fetch(request, workerEnv, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/** `fetch` for clients under test (hono/client, the cloudflare SDK): their requests go to callProxy. */
export function proxyFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const url = new URL(input instanceof Request ? input.url : String(input));
  return callProxy(`${url.pathname}${url.search}`, init);
}

/**
 * Another data centre: its own isolate (memory tier) and its own Cache API tier (a
 * named cache), sharing the Durable Objects, the budget gate and the shared tier,
 * with every other data centre, as Cloudflare's data centres do.
 */
export async function dataCentre(name: string, overrides: Record<string, unknown> = {}) {
  const dcEnv = envWith(overrides);
  const parsed = checkConfig(dcEnv);
  if (!parsed.ok) throw new Error(parsed.problem);
  const app = createApp(parsed.config, dcEnv, { localCache: await caches.open(`data-centre-${name}`) });
  return async (path: string, init?: ProxyInit): Promise<Response> => {
    const ctx = createExecutionContext();
    const response = await app.fetch(asCaller(path, init), dcEnv, ctx);
    await waitOnExecutionContext(ctx);
    return response;
  };
}

/** A proxy of its own (as in a fresh isolate): every call goes to the same app, memory tier included. */
export function proxyWith(overrides: Record<string, unknown> = {}) {
  const proxyEnv = envWith(overrides);
  return (path: string, init?: ProxyInit) => callWorker(proxyEnv, path, init);
}

/**
 * Like `proxyWith`, but resolves as soon as the response is sent, before the request's
 * background work (`waitUntil`); `settled` resolves once that work has.
 */
export function proxyAnsweringFirst(overrides: Record<string, unknown> = {}) {
  const proxyEnv = envWith(overrides);
  return async (path: string, init?: ProxyInit) => {
    const ctx = createExecutionContext();
    const request = asCaller(path, init) as Parameters<typeof worker.fetch>[0];
    const response = await worker.fetch(request, proxyEnv, ctx);
    return { response, settled: waitOnExecutionContext(ctx) };
  };
}

/** A clock that only moves when the proxy sleeps, recording each wait; jitter fixed to `random`. */
export function useFakeClock(random = 0.5) {
  let now = Date.UTC(2026, 10, 22, 12, 0, 0);
  const waits: number[] = [];
  vi.spyOn(runtime, "now").mockImplementation(() => now);
  vi.spyOn(runtime, "random").mockReturnValue(random);
  vi.spyOn(runtime, "sleep").mockImplementation(async (ms) => {
    waits.push(ms);
    now += ms;
  });
  return {
    waits,
    advance(ms: number) {
      now += ms;
    },
  };
}

/** Records console output, so tests can assert what reaches the logs. */
export function captureLogs() {
  const lines: string[] = [];
  for (const method of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push(args.map((arg) => (typeof arg === "string" ? arg : JSON.stringify(arg))).join(" "));
    });
  }
  return lines;
}

export async function errorBody(response: Response) {
  return (await response.json()) as {
    success: false;
    error: { code: number; type: string; message: string; issues?: unknown[] };
  };
}

let uncachedPaths = 0;
/** A `/sessions` path that no earlier test in this file has put in the cache. */
export function uncachedSessionsPath(query?: string): string {
  uncachedPaths++;
  return `/sessions?search=uncached-${uncachedPaths}${query ? `&${query}` : ""}`;
}

/**
 * Holds the fake's next answer until `releaseWhen(n)` sees n callers arrived: inside the
 * proxy's coalescing by default (counted on Coalescer.run), or as `arrivals` counts them,
 * so concurrency tests never depend on timing.
 */
export function holdUpstream(fake: FakeUpstream, arrivals?: { mock: { calls: unknown[] } }) {
  const runs = arrivals ?? vi.spyOn(Coalescer.prototype, "run");
  let release = () => {};
  fake.failNext({ until: new Promise<void>((resolve) => (release = resolve)) });
  return {
    async releaseWhen(callers: number): Promise<void> {
      const deadline = Date.now() + 10_000;
      while (runs.mock.calls.length < callers) {
        if (Date.now() > deadline) throw new Error(`only ${runs.mock.calls.length} of ${callers} callers arrived`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      release();
    },
  };
}
