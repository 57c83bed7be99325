/**
 * @module The fake upstream's participants of a meeting: add (each call a new participant,
 * as upstream), refresh a token, edit, list (paged), get and delete, with realistic
 * JWT-shaped tokens and the errors the real API gives (unknown meeting, participant or
 * preset, missing fields).
 */
import { type Context, Hono } from "hono";
import { jwtPart } from "./identity.ts";

/** The presets the fake app has, as a RealtimeKit app's dashboard would define them. */
export const FAKE_PRESETS = ["group_call_host", "group_call_participant", "webinar_presenter", "webinar_viewer"];

export interface FakeParticipant {
  id: string;
  custom_participant_id: string;
  preset_name: string;
  name: string | null;
  picture: string | null;
  created_at: string;
  updated_at: string;
}

const DEFAULT_PER_PAGE = 20;

function error(c: Context, status: 400 | 404, message: string) {
  return c.json({ success: false, error: { code: status, message } }, status);
}

/** A participant token as RealtimeKit issues them: a JWT naming the participant and meeting (unsigned here). */
function participantToken(participant: FakeParticipant, meetingId: string, appId: string, now: number): string {
  const header = jwtPart({ alg: "RS256", typ: "JWT" });
  const payload = jwtPart({
    sub: participant.id,
    participantId: participant.id,
    meetingId,
    orgId: appId,
    presetName: participant.preset_name,
    jti: crypto.randomUUID(),
    iat: Math.floor(now / 1000),
    exp: Math.floor(now / 1000) + 86_400,
  });
  const signature = jwtPart(crypto.randomUUID() + crypto.randomUUID()).slice(0, 86);
  return `${header}.${payload}.${signature}`;
}

export interface FakeParticipantsOptions {
  appId: string;
  /** Whether a meeting exists (any case of a UUID is the same meeting). */
  meetingExists: (meetingId: string) => boolean;
  now: () => number;
  /** Someone got a token to join with (added, or refreshed): the fake counts them in the meeting. */
  onJoin?: (meetingId: string, participant: FakeParticipant) => void;
}

export function fakeParticipants({ appId, meetingExists, now, onJoin }: FakeParticipantsOptions) {
  const byMeeting = new Map<string, Map<string, FakeParticipant>>();
  const participantsOf = (meetingId: string) => {
    const key = meetingId.toLowerCase();
    const participants = byMeeting.get(key) ?? new Map<string, FakeParticipant>();
    byMeeting.set(key, participants);
    return participants;
  };
  const app = new Hono();

  app.use("/meetings/:meetingId/participants/*", async (c, next) => {
    if (!meetingExists(c.req.param("meetingId"))) return error(c, 404, "Meeting not found");
    await next();
  });
  app.use("/meetings/:meetingId/participants", async (c, next) => {
    if (!meetingExists(c.req.param("meetingId"))) return error(c, 404, "Meeting not found");
    await next();
  });

  app.post("/meetings/:meetingId/participants", async (c) => {
    const body = (await c.req.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    const customId = body?.custom_participant_id;
    const preset = body?.preset_name;
    if (typeof customId !== "string" || customId === "") return error(c, 400, "custom_participant_id is required");
    if (typeof preset !== "string" || preset === "") return error(c, 400, "preset_name is required");
    if (!FAKE_PRESETS.includes(preset)) return error(c, 404, `Preset ${preset} not found`);
    const at = new Date(now()).toISOString();
    const participant: FakeParticipant = {
      id: crypto.randomUUID(),
      custom_participant_id: customId,
      preset_name: preset,
      name: typeof body?.name === "string" ? body.name : null,
      picture: typeof body?.picture === "string" ? body.picture : null,
      created_at: at,
      updated_at: at,
    };
    participantsOf(c.req.param("meetingId")).set(participant.id, participant);
    const token = participantToken(participant, c.req.param("meetingId"), appId, now());
    onJoin?.(c.req.param("meetingId"), participant);
    return c.json({ success: true, data: { ...participant, token } }, 201);
  });

  app.get("/meetings/:meetingId/participants", (c) => {
    const all = [...participantsOf(c.req.param("meetingId")).values()];
    const pageNo = Math.max(1, Number(c.req.query("page_no") ?? 1) || 1);
    const perPage = Math.max(1, Number(c.req.query("per_page") ?? DEFAULT_PER_PAGE) || DEFAULT_PER_PAGE);
    const start = (pageNo - 1) * perPage;
    const page = all.slice(start, start + perPage);
    return c.json({
      success: true,
      data: page,
      paging: { start_offset: start, end_offset: start + page.length, total_count: all.length },
    });
  });

  const known = (c: Context) => participantsOf(c.req.param("meetingId") ?? "").get(c.req.param("participantId") ?? "");

  app.get("/meetings/:meetingId/participants/:participantId", (c) => {
    const participant = known(c);
    return participant ? c.json({ success: true, data: participant }) : error(c, 404, "Participant not found");
  });

  app.post("/meetings/:meetingId/participants/:participantId/token", (c) => {
    const participant = known(c);
    if (!participant) return error(c, 404, "Participant not found");
    onJoin?.(c.req.param("meetingId"), participant);
    return c.json({
      success: true,
      data: { token: participantToken(participant, c.req.param("meetingId"), appId, now()) },
    });
  });

  app.patch("/meetings/:meetingId/participants/:participantId", async (c) => {
    const participant = known(c);
    if (!participant) return error(c, 404, "Participant not found");
    const body = (await c.req.json().catch(() => ({}))) as Record<string, unknown>;
    if (typeof body.preset_name === "string" && !FAKE_PRESETS.includes(body.preset_name)) {
      return error(c, 404, `Preset ${body.preset_name} not found`);
    }
    if (typeof body.preset_name === "string") participant.preset_name = body.preset_name;
    if (typeof body.name === "string") participant.name = body.name;
    if (typeof body.picture === "string") participant.picture = body.picture;
    participant.updated_at = new Date(now()).toISOString();
    const token = participantToken(participant, c.req.param("meetingId"), appId, now());
    return c.json({ success: true, data: { ...participant, token } });
  });

  app.delete("/meetings/:meetingId/participants/:participantId", (c) => {
    const participant = known(c);
    if (!participant) return error(c, 404, "Participant not found");
    participantsOf(c.req.param("meetingId")).delete(participant.id);
    return c.json({ success: true, data: { ...participant } });
  });

  return {
    app,
    /** The meeting's participants, oldest first. */
    of: (meetingId: string) => [...participantsOf(meetingId).values()],
    /** Removes a participant, as someone with the dashboard or the API would. */
    remove: (meetingId: string, participantId: string) => participantsOf(meetingId).delete(participantId),
  };
}
