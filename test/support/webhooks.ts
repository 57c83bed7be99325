/** Test helpers for webhooks: the fake upstream's signed deliveries sent into a proxy configured with its key. */
import { MEETING_EVENTS } from "../../src/changes/feed.ts";
import { type ProxyInit, proxyWith, useFakeUpstream } from "./proxy.ts";

export const WEBHOOK_PATH = "/webhooks/realtimekit";
const WEBHOOK_URL = `http://proxy.test${WEBHOOK_PATH}`;

type Call = (path: string, init?: ProxyInit) => Promise<Response>;

/** A delivery as a test sends it: from RealtimeKit (no Authorization header), with its own headers and body. */
export async function sendDelivery(call: Call, request: Request): Promise<Response> {
  return call(WEBHOOK_PATH, {
    method: "POST",
    anonymous: true,
    headers: request.headers,
    body: await request.arrayBuffer(),
  });
}

/**
 * The fake upstream with a webhook registered for every meeting event, its deliveries sent
 * into `deliverTo` (by default a proxy configured with the fake's public key). `vars`
 * configures any other proxy (another data centre) the same way.
 */
export async function useWebhooks(overrides: Record<string, unknown> = {}) {
  const fake = useFakeUpstream();
  const vars = { REALTIMEKIT_WEBHOOK_PUBLIC_KEY: await fake.webhooks.publicKeyPem(), ...overrides };
  const proxy = proxyWith(vars);
  fake.webhooks.register(WEBHOOK_URL, [...MEETING_EVENTS]);
  fake.webhooks.deliverWith((request) => sendDelivery(proxy, request));
  /** A signed delivery of `payload`, as RealtimeKit would make it. */
  const delivery = (payload: unknown) => fake.webhooks.delivery(WEBHOOK_URL, payload);
  return { fake, proxy, vars, delivery };
}
