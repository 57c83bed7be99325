import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { createFakeUpstream } from "../../dev/fake-upstream/app.ts";
import { FAKE_APP_ID } from "../../dev/fake-upstream/data.ts";
import { WebhookInboxObject } from "../../src/webhooks/inbox-object.ts";
import {
  API_KEY,
  captureLogs,
  errorBody,
  IDLE_V2_MEETING,
  LIVE_V2_MEETING,
  proxyWith,
  TOKEN,
  useFakeClock,
  useFakeUpstream,
} from "../support/proxy.ts";
import { sendDelivery, useWebhooks, WEBHOOK_PATH } from "../support/webhooks.ts";

const ENDED_AT = "2026-11-22T11:59:00.000Z";

/** A meeting.ended payload of this app, as RealtimeKit sends it. */
function ended(meetingId = LIVE_V2_MEETING, endedAt = ENDED_AT, organizer: string = FAKE_APP_ID) {
  return {
    event: "meeting.ended",
    reason: "HOST_ENDED_MEETING",
    meeting: {
      id: meetingId,
      sessionId: "5e551011-0000-4000-8000-000000000004",
      title: "Weekly engineering sync",
      status: "LIVE",
      createdAt: "2026-11-22T11:00:00.000Z",
      startedAt: "2026-11-22T11:00:00.000Z",
      endedAt,
      organizedBy: { id: organizer, name: "Local app" },
    },
  };
}

function started(meetingId: string, startedAt: string) {
  const payload = ended(meetingId);
  const { endedAt: _none, ...meeting } = payload.meeting;
  return { event: "meeting.started", meeting: { ...meeting, startedAt } };
}

/** The request with its body or headers changed, as an attacker would send it. */
async function altered(request: Request, change: { body?: string; headers?: Record<string, string | null> }) {
  const headers = new Headers(request.headers);
  for (const [name, value] of Object.entries(change.headers ?? {})) {
    if (value === null) headers.delete(name);
    else headers.set(name, value);
  }
  return new Request(request.url, { method: "POST", headers, body: change.body ?? (await request.text()) });
}

async function webhookStatus(proxy: (path: string) => Promise<Response>) {
  const body = (await (await proxy("/status")).json()) as { data: { webhooks: Record<string, unknown> } };
  return body.data.webhooks;
}

async function outcomeOf(response: Response) {
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: { outcome: string; reason?: string } }).data;
}

describe("POST /webhooks/realtimekit: only RealtimeKit's signature opens it", () => {
  it("a delivery signed with the configured key is accepted", async () => {
    useFakeClock();
    const { proxy, delivery } = await useWebhooks();
    expect(await outcomeOf(await sendDelivery(proxy, await delivery(ended())))).toEqual({ outcome: "accepted" });
    expect(await webhookStatus(proxy)).toMatchObject({
      accepted: 1,
      rejected: 0,
      configured: true,
      pushed: true,
      last_delivery_at: "2026-11-22T12:00:00.000Z",
      last_change_at: "2026-11-22T12:00:00.000Z",
    });
  });

  // Each forgery is what a naive check would let through: a header test, a check of the
  // parsed JSON rather than the raw bytes, a lenient base64 decoder, or a key from anywhere.
  const FORGERIES: [string, (request: Request) => Promise<Request>, string][] = [
    ["no rtk-signature", (r) => altered(r, { headers: { "rtk-signature": null } }), "signature missing"],
    ["an empty rtk-signature", (r) => altered(r, { headers: { "rtk-signature": "" } }), "signature missing"],
    [
      "a signature by another key (another fake's)",
      async (r) => {
        const other = createFakeUpstream();
        const body = await r.clone().text();
        return altered(r, { headers: { "rtk-signature": await other.webhooks.sign(body) } });
      },
      "does not verify",
    ],
    [
      "the body tampered with after signing (another meeting)",
      async (r) => altered(r, { body: (await r.clone().text()).replace(LIVE_V2_MEETING, IDLE_V2_MEETING) }),
      "does not verify",
    ],
    [
      "the same JSON, re-serialized with spaces (the signature covers the raw bytes)",
      async (r) => altered(r, { body: JSON.stringify(await r.clone().json(), null, 1) }),
      "does not verify",
    ],
    [
      "the signature in base64url (RealtimeKit sends base64)",
      async (r) => {
        const signature = r.headers.get("rtk-signature") ?? "";
        const url = signature.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
        return altered(r, { headers: { "rtk-signature": url.includes("-") || url.includes("_") ? url : `${url}-` } });
      },
      "does not verify",
    ],
    ["a signature that is not base64", (r) => altered(r, { headers: { "rtk-signature": "%%%" } }), "does not verify"],
    [
      "a signature one byte short",
      (r) => altered(r, { headers: { "rtk-signature": (r.headers.get("rtk-signature") ?? "").slice(4) } }),
      "does not verify",
    ],
  ];

  it.each(FORGERIES)("%s: 401, nothing done, no upstream call", async (_name, forge, message) => {
    useFakeClock();
    const { fake, proxy, delivery } = await useWebhooks();
    expect((await proxy(`/meetings/${LIVE_V2_MEETING}/active-session`)).status).toBe(200);
    const calls = fake.requests.length;
    const response = await sendDelivery(proxy, await forge(await delivery(ended())));
    expect(response.status).toBe(401);
    expect((await errorBody(response)).error.message).toContain(message);
    expect(fake.requests).toHaveLength(calls);
    expect(await webhookStatus(proxy)).toMatchObject({ accepted: 0, rejected: 1, last_delivery_at: null });
  });

  it("failed signatures are rate limited per IP like unknown keys; valid deliveries never are", async () => {
    useFakeClock();
    const { delivery, vars } = await useWebhooks();
    const proxy = proxyWith({ ...vars, PUBLIC_RATE_LIMITER: env.TIGHT_RATE_LIMITER });
    const fromIp = { "CF-Connecting-IP": "198.51.100.7" };
    const forged = async () =>
      sendDelivery(proxy, await altered(await delivery(ended()), { headers: { ...fromIp, "rtk-signature": "AAAA" } }));
    expect([(await forged()).status, (await forged()).status, (await forged()).status]).toEqual([401, 401, 401]);
    const limited = await forged();
    expect(limited.status).toBe(429);
    expect(limited.headers.get("Retry-After")).toBe("60");
    for (let minute = 0; minute < 5; minute++) {
      const valid = await altered(await delivery(ended(LIVE_V2_MEETING, `2026-11-22T11:5${minute}:00.000Z`)), {
        headers: fromIp,
      });
      expect((await sendDelivery(proxy, valid)).status).toBe(200);
    }
  });

  it("without REALTIMEKIT_WEBHOOK_PUBLIC_KEY the route does not exist: 404, and no delivery is looked at", async () => {
    const fake = useFakeUpstream();
    const receive = vi.spyOn(WebhookInboxObject.prototype, "receive");
    const request = await fake.webhooks.delivery(`http://proxy.test${WEBHOOK_PATH}`, ended());
    const response = await sendDelivery(proxyWith(), request);
    expect(response.status).toBe(404);
    expect((await errorBody(response)).error.message).toContain("webhooks are not configured");
    expect(receive).not.toHaveBeenCalled();
  });

  it("a configured key that is not RSA is the operator's mistake: 500 (RealtimeKit retries), named in the log", async () => {
    const logs = captureLogs();
    const fake = useFakeUpstream();
    const ec = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
    if (!("publicKey" in ec)) throw new Error("a key pair");
    const spki = new Uint8Array((await crypto.subtle.exportKey("spki", ec.publicKey)) as ArrayBuffer);
    const pem = `-----BEGIN PUBLIC KEY-----\n${btoa(String.fromCharCode(...spki))}\n-----END PUBLIC KEY-----`;
    const request = await fake.webhooks.delivery(`http://proxy.test${WEBHOOK_PATH}`, ended());
    const response = await sendDelivery(proxyWith({ REALTIMEKIT_WEBHOOK_PUBLIC_KEY: pem }), request);
    expect(response.status).toBe(500);
    expect(logs.join("\n")).toContain("REALTIMEKIT_WEBHOOK_PUBLIC_KEY is not an RSA public key");
  });

  it("a body over 1 MiB is a 413 before its signature is checked; one just under it is read", async () => {
    useFakeClock();
    const { proxy, fake } = await useWebhooks();
    const padded = (bytes: number) => {
      const base = JSON.stringify({ event: "meeting.chatSynced", padding: "" });
      return JSON.stringify({ event: "meeting.chatSynced", padding: "x".repeat(bytes - base.length) });
    };
    const tooLarge = padded(1024 * 1024 + 1);
    const over = await sendDelivery(
      proxy,
      new Request("http://proxy.test", {
        method: "POST",
        headers: { "rtk-signature": await fake.webhooks.sign(tooLarge) },
        body: tooLarge,
      }),
    );
    expect(over.status).toBe(413);
    const justUnder = padded(1024 * 1024);
    const under = await sendDelivery(
      proxy,
      new Request("http://proxy.test", {
        method: "POST",
        headers: { "rtk-signature": await fake.webhooks.sign(justUnder) },
        body: justUnder,
      }),
    );
    expect(await outcomeOf(under)).toMatchObject({ outcome: "ignored" });
    expect(await webhookStatus(proxy)).toMatchObject({ rejected: 1, ignored: 1 });
  });

  it("a signed body that is not JSON is a 400 (retrying it would not help)", async () => {
    const { proxy, fake } = await useWebhooks();
    const body = "event=meeting.ended";
    const request = new Request("http://proxy.test", {
      method: "POST",
      headers: { "rtk-signature": await fake.webhooks.sign(body) },
      body,
    });
    expect((await sendDelivery(proxy, request)).status).toBe(400);
  });

  it("when the inbox cannot be reached the delivery is not acknowledged: 503, so RealtimeKit retries it", async () => {
    const { proxy, delivery } = await useWebhooks();
    vi.spyOn(WebhookInboxObject.prototype, "receive").mockImplementation(() => {
      throw new Error("overloaded");
    });
    const response = await sendDelivery(proxy, await delivery(ended()));
    expect(response.status).toBe(503);
    expect(response.headers.get("Retry-After")).toBe("5");
  });
});

describe("deliveries: duplicates, order, other apps", () => {
  it("a repeated rtk-uuid is acknowledged and ignored: one renewal, however often it comes", async () => {
    const clock = useFakeClock();
    const { fake, proxy, delivery } = await useWebhooks();
    await proxy(`/meetings/${LIVE_V2_MEETING}/active-session`);
    clock.advance(3_000);
    const first = await delivery(ended());
    const calls = fake.requests.length;
    expect(await outcomeOf(await sendDelivery(proxy, first.clone()))).toEqual({ outcome: "accepted" });
    clock.advance(3_000);
    expect(await outcomeOf(await sendDelivery(proxy, first.clone()))).toEqual({ outcome: "duplicate" });
    expect(fake.requests).toHaveLength(calls + 1);
    expect(await webhookStatus(proxy)).toMatchObject({ accepted: 1, duplicate: 1 });
  });

  it("a captured delivery replayed under a new rtk-uuid is still a duplicate (the body is remembered too)", async () => {
    useFakeClock();
    const { proxy, delivery } = await useWebhooks();
    const captured = await delivery(ended());
    expect(await outcomeOf(await sendDelivery(proxy, captured.clone()))).toEqual({ outcome: "accepted" });
    const replay = await altered(captured, { headers: { "rtk-uuid": crypto.randomUUID() } });
    expect(await outcomeOf(await sendDelivery(proxy, replay))).toEqual({ outcome: "duplicate" });
  });

  it("an event older than one already received for the meeting is ignored (a start after its end)", async () => {
    useFakeClock();
    const { proxy, delivery } = await useWebhooks();
    expect(await outcomeOf(await sendDelivery(proxy, await delivery(ended(LIVE_V2_MEETING, ENDED_AT))))).toEqual({
      outcome: "accepted",
    });
    const late = await sendDelivery(proxy, await delivery(started(LIVE_V2_MEETING, "2026-11-22T11:00:00.000Z")));
    expect(await outcomeOf(late)).toEqual({
      outcome: "ignored",
      reason: "the event is older than one already received for this meeting",
    });
    const next = await sendDelivery(proxy, await delivery(started(LIVE_V2_MEETING, "2026-11-22T11:59:30.000Z")));
    expect(await outcomeOf(next)).toEqual({ outcome: "accepted" });
    // Other meetings have their own order.
    const other = await sendDelivery(proxy, await delivery(started(IDLE_V2_MEETING, "2026-11-22T10:00:00.000Z")));
    expect(await outcomeOf(other)).toEqual({ outcome: "accepted" });
  });

  it("an event older than 48 hours can only be a replay: ignored", async () => {
    useFakeClock();
    const { proxy, delivery } = await useWebhooks();
    const old = await sendDelivery(proxy, await delivery(ended(LIVE_V2_MEETING, "2026-11-20T11:59:00.000Z")));
    expect(await outcomeOf(old)).toEqual({ outcome: "ignored", reason: "the event is older than 48 hours" });
  });

  it("another app's events are ignored; this app's id in another case is this app", async () => {
    useFakeClock();
    const { fake, proxy, delivery } = await useWebhooks();
    const other = ended(LIVE_V2_MEETING, ENDED_AT, "11111111-2222-4333-8444-555555555555");
    expect(await outcomeOf(await sendDelivery(proxy, await delivery(other)))).toEqual({
      outcome: "ignored",
      reason: "the event is another app's",
    });
    expect(fake.requests).toHaveLength(0);
    const ours = ended(LIVE_V2_MEETING, ENDED_AT, FAKE_APP_ID.toUpperCase());
    expect(await outcomeOf(await sendDelivery(proxy, await delivery(ours)))).toEqual({ outcome: "accepted" });
  });

  it("an event dated more than 5 minutes ahead of the proxy's clock is ignored: it cannot block the meeting's real events", async () => {
    useFakeClock();
    const { proxy, delivery } = await useWebhooks();
    const future = await sendDelivery(proxy, await delivery(ended(LIVE_V2_MEETING, "2099-01-01T00:00:00.000Z")));
    expect(await outcomeOf(future)).toEqual({
      outcome: "ignored",
      reason: "the event is dated more than 5 minutes ahead of the proxy's clock",
    });
    // The meeting's real events still go through.
    const real = await sendDelivery(proxy, await delivery(started(LIVE_V2_MEETING, "2026-11-22T11:59:30.000Z")));
    expect(await outcomeOf(real)).toEqual({ outcome: "accepted" });
    // A few seconds ahead (clocks differ) is still an event.
    const soon = await sendDelivery(proxy, await delivery(ended(LIVE_V2_MEETING, "2026-11-22T12:02:00.000Z")));
    expect(await outcomeOf(soon)).toEqual({ outcome: "accepted" });
  });

  it("an event that does not say which app it is for is ignored: RealtimeKit signs every app's events with one key", async () => {
    useFakeClock();
    const { fake, proxy, delivery } = await useWebhooks();
    const payload = ended();
    const { organizedBy: _app, ...meeting } = payload.meeting;
    for (const unsaid of [meeting, { ...meeting, organizedBy: null }, { ...meeting, organizedBy: { name: "x" } }]) {
      expect(await outcomeOf(await sendDelivery(proxy, await delivery({ ...payload, meeting: unsaid })))).toEqual({
        outcome: "ignored",
        reason: "the event does not say which app it is for",
      });
    }
    expect(fake.requests).toHaveLength(0);
  });

  it("an unsigned delivery from an address over its limit costs no Durable Object write", async () => {
    useFakeClock();
    const { delivery, vars } = await useWebhooks();
    const proxy = proxyWith({ ...vars, PUBLIC_RATE_LIMITER: env.TIGHT_RATE_LIMITER });
    const rejected = vi.spyOn(WebhookInboxObject.prototype, "rejected");
    const forged = async () =>
      sendDelivery(
        proxy,
        await altered(await delivery(ended()), {
          headers: { "CF-Connecting-IP": "198.51.100.9", "rtk-signature": null },
        }),
      );
    const statuses = [];
    for (let i = 0; i < 10; i++) statuses.push((await forged()).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429, 429, 429, 429, 429]);
    expect(rejected).toHaveBeenCalledTimes(3);
  });

  it.each([
    ["an event that changes no answer", { event: "recording.statusUpdate", meeting: ended().meeting }],
    ["a meeting event without a meeting", { event: "meeting.ended" }],
    ["a meeting id that is no meeting id", { event: "meeting.ended", meeting: { ...ended().meeting, id: "../../x" } }],
  ])("%s is acknowledged and ignored, and its text never echoed", async (_name, payload) => {
    const { proxy, delivery } = await useWebhooks();
    const response = await sendDelivery(proxy, await delivery({ ...payload, note: TOKEN }));
    const text = await response.clone().text();
    expect((await outcomeOf(response)).outcome).toBe("ignored");
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain("recording");
  });

  it("a delivery's log line names its event and outcome, never its body or headers", async () => {
    useFakeClock();
    const logs = captureLogs();
    const { proxy, delivery } = await useWebhooks();
    const request = await delivery({ ...ended(), secret: TOKEN, key: API_KEY });
    const signature = request.headers.get("rtk-signature") ?? "";
    await sendDelivery(proxy, request);
    const line = logs.find((entry) => entry.includes('"route":"webhook"')) ?? "";
    expect(JSON.parse(line)).toMatchObject({
      status: 200,
      caller: "realtimekit",
      webhookEvent: "meeting.ended",
      webhookOutcome: "accepted",
    });
    for (const secret of [TOKEN, API_KEY, signature, "Weekly engineering sync"]) {
      expect(logs.join("\n")).not.toContain(secret);
    }
  });
});
