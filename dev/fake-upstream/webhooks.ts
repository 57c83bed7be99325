/**
 * @module The fake's webhooks, as RealtimeKit sends them: registered through the API
 * (`POST .../webhooks` with `url` and `events`), signed with the fake's own RSA key pair
 * (base64 RSA-SHA256 over the raw body in `rtk-signature`, with `rtk-uuid` and
 * `rtk-webhook-id`), its public key published at `/.well-known/webhooks.json`. Never for
 * production: the private key lives in this process.
 */
import { type Context, Hono } from "hono";
import { encodeBase64 } from "hono/utils/encode";
import type { MeetingChangeEvent } from "./meetings.ts";

export const WEBHOOK_KEY_PATH = "/.well-known/webhooks.json";

const RSA = {
  name: "RSASSA-PKCS1-v1_5",
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: "SHA-256",
};

interface Registered {
  id: string;
  name: string;
  url: string;
  events: string[];
  enabled: boolean;
  created_at: string;
}

/** One delivery as sent: where, what, and what the receiver answered (the tests and npm start read these). */
export interface SentDelivery {
  url: string;
  event: string;
  uuid: string;
  status: number;
}

/** How a delivery reaches its URL: fetch, or (in the tests) the proxy's own entry. */
export type Deliver = (request: Request) => Promise<Response>;

export interface FakeWebhooksOptions {
  appId: string;
  now: () => number;
  deliver?: Deliver;
}

interface KeyPair {
  privateKey: Parameters<typeof crypto.subtle.sign>[1];
  publicKeyPem: string;
}

async function generateKeyPair(): Promise<KeyPair> {
  const pair = await crypto.subtle.generateKey(RSA, true, ["sign", "verify"]);
  if (!("privateKey" in pair)) throw new Error("an RSA key generation gives a key pair");
  const spki = await crypto.subtle.exportKey("spki", pair.publicKey);
  const lines = encodeBase64(spki as ArrayBuffer).match(/.{1,64}/g) ?? [];
  return {
    privateKey: pair.privateKey,
    publicKeyPem: ["-----BEGIN PUBLIC KEY-----", ...lines, "-----END PUBLIC KEY-----"].join("\n"),
  };
}

/** The payload RealtimeKit sends for a change (the Dyte-era shape the API documents). */
export function webhookPayload(change: MeetingChangeEvent, appId: string): Record<string, unknown> {
  const { session } = change;
  const participant = change.participant && {
    peerId: change.participant.peerId,
    userDisplayName: change.participant.userDisplayName,
    customParticipantId: change.participant.customParticipantId,
    ...(change.event === "meeting.participantLeft"
      ? { leftAt: change.participant.at }
      : { joinedAt: change.participant.at }),
  };
  return {
    event: change.event,
    ...(change.event === "meeting.ended" ? { reason: "HOST_ENDED_MEETING" } : {}),
    meeting: {
      id: session.associated_id,
      sessionId: session.id,
      title: session.meeting_display_name,
      // As in the documented example, an ended meeting's status may still read LIVE: go by `event`.
      status: "LIVE",
      createdAt: session.created_at,
      startedAt: session.started_at,
      ...(session.ended_at ? { endedAt: session.ended_at } : {}),
      organizedBy: { id: appId, name: "Local app" },
    },
    ...(participant ? { participant } : {}),
  };
}

export function fakeWebhooks({ appId, now, deliver = (request) => fetch(request) }: FakeWebhooksOptions) {
  let keys: Promise<KeyPair> | undefined;
  const keyPair = () => (keys ??= generateKeyPair());
  const registered: Registered[] = [];
  const sent: SentDelivery[] = [];
  const inFlight = new Set<Promise<unknown>>();
  let sendTo = deliver;

  /** The base64 signature RealtimeKit would put in `rtk-signature` for these exact bytes. */
  async function sign(body: string | Uint8Array): Promise<string> {
    const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
    const signature = await crypto.subtle.sign(RSA.name, (await keyPair()).privateKey, bytes);
    return encodeBase64(signature);
  }

  /** A signed delivery of `payload` to `url`, as RealtimeKit makes it (tests change its parts to forge one). */
  async function delivery(url: string, payload: unknown, webhookId = "local"): Promise<Request> {
    const body = JSON.stringify(payload);
    return new Request(url, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "rtk-signature": await sign(body),
        "rtk-uuid": crypto.randomUUID(),
        "rtk-webhook-id": webhookId,
      },
      body,
    });
  }

  async function send(hook: Registered, change: MeetingChangeEvent): Promise<void> {
    const request = await delivery(hook.url, webhookPayload(change, appId), hook.id);
    const uuid = request.headers.get("rtk-uuid") ?? "";
    const status = await sendTo(request)
      .then((response) => response.status)
      .catch(() => 0);
    sent.push({ url: hook.url, event: change.event, uuid, status });
  }

  /** Sends each change to every enabled webhook registered for its event (in the background; `settled` waits). */
  function push(changes: MeetingChangeEvent[]): void {
    for (const change of changes) {
      for (const hook of registered.filter((h) => h.enabled && h.events.includes(change.event))) {
        const sending = send(hook, change).finally(() => inFlight.delete(sending));
        inFlight.add(sending);
      }
    }
  }

  /** The upstream's webhook API, below the app's path. */
  const app = new Hono();
  app.post("/webhooks", async (c: Context) => {
    const body = (await c.req.json().catch(() => undefined)) as Partial<Registered> | undefined;
    if (typeof body?.url !== "string" || !URL.canParse(body.url) || !Array.isArray(body.events)) {
      return c.json({ success: false, error: { code: 400, message: "url and events are required" } }, 400);
    }
    const hook: Registered = {
      id: crypto.randomUUID(),
      name: typeof body.name === "string" ? body.name : "webhook",
      url: body.url,
      events: body.events.filter((event): event is string => typeof event === "string"),
      enabled: body.enabled !== false,
      created_at: new Date(now()).toISOString(),
    };
    registered.push(hook);
    return c.json({ success: true, data: hook }, 201);
  });
  app.get("/webhooks", (c) => c.json({ success: true, data: registered }));

  return {
    app,
    sign,
    delivery,
    push,
    /** The public key, as `/.well-known/webhooks.json` publishes it. */
    publicKeyPem: async () => (await keyPair()).publicKeyPem,
    /** Serves `/.well-known/webhooks.json`. */
    async fetchPublicKey(): Promise<Response> {
      return Response.json({ success: true, data: { publicKey: (await keyPair()).publicKeyPem } });
    },
    /** Registers a webhook directly (tests), as `POST .../webhooks` does. */
    register(url: string, events: string[]): void {
      registered.push({ id: crypto.randomUUID(), name: "test", url, events, enabled: true, created_at: "" });
    },
    /** Where deliveries go from now on (the tests send them into the proxy's entry). */
    deliverWith(next: Deliver): void {
      sendTo = next;
    },
    /** Every delivery sent, oldest first. */
    sent,
    /** Resolves once every delivery under way has been answered. */
    async settled(): Promise<void> {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
  };
}

export type FakeWebhooks = ReturnType<typeof fakeWebhooks>;
