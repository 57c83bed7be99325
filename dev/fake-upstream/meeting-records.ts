/**
 * @module The fake upstream's meetings as records: list (filtered, paged), get, create and
 * update, with the errors the real API gives. Each record carries recording and AI settings
 * like a real app's, storage credentials and a stream key included (the proxy must never
 * pass those on: the tests look for these exact strings everywhere).
 */
import { type Context, Hono } from "hono";
import { type Meeting, SEED_EPOCH } from "./data.ts";

/** Secrets a meeting's recording settings hold in the fake: never to be seen past the proxy. */
export const RECORDING_SECRETS = {
  accessKey: "AKIAFAKERECORDINGKEY7",
  secret: "fake-recording-storage-secret-never-shown",
  streamKey: "live_fake_stream_key_never_shown",
} as const;

export interface MeetingRecord {
  id: string;
  title: string | null;
  status: "ACTIVE" | "INACTIVE";
  created_at: string;
  updated_at: string;
  record_on_start: boolean;
  live_stream_on_start: boolean;
  persist_chat: boolean;
  summarize_on_end: boolean;
  transcribe_on_end: boolean;
  session_keep_alive_time_in_secs: number;
  ai_config: Record<string, unknown>;
  recording_config: Record<string, unknown>;
}

/** The settings a create or update may change, and the kind of value each takes. */
const SETTINGS = {
  title: "string",
  record_on_start: "boolean",
  live_stream_on_start: "boolean",
  persist_chat: "boolean",
  summarize_on_end: "boolean",
  transcribe_on_end: "boolean",
  session_keep_alive_time_in_secs: "number",
} as const;
const DEFAULT_PER_PAGE = 20;
const DAY = 86_400_000;

/** An app's recording settings, as a team that records to its own bucket and streams has them. */
function recordingConfig(): Record<string, unknown> {
  return {
    file_name_prefix: "rec",
    max_seconds: 7200,
    storage_config: {
      type: "aws",
      bucket: "acme-recordings",
      region: "us-east-1",
      auth_method: "KEY",
      access_key: RECORDING_SECRETS.accessKey,
      secret: RECORDING_SECRETS.secret,
    },
    live_streaming_config: { rtmp_url: `rtmps://live.example.com:443/app/${RECORDING_SECRETS.streamKey}` },
    realtimekit_bucket_config: { enabled: false },
    audio_config: { codec: "AAC", channel: "stereo", export_file: true },
    video_config: { codec: "H264", width: 1280, height: 720, export_file: true },
  };
}

function aiConfig(): Record<string, unknown> {
  return {
    summarization: { summary_type: "team_meeting", text_format: "markdown", word_limit: 500 },
    transcription: { language: "en-US", keywords: ["RealtimeKit"], profanity_filter: false },
  };
}

function newRecord(id: string, title: string | null, at: string): MeetingRecord {
  return {
    id,
    title,
    status: "ACTIVE",
    created_at: at,
    updated_at: at,
    record_on_start: false,
    live_stream_on_start: false,
    persist_chat: false,
    summarize_on_end: false,
    transcribe_on_end: false,
    session_keep_alive_time_in_secs: 60,
    ai_config: aiConfig(),
    recording_config: recordingConfig(),
  };
}

function error(c: Context, status: 400 | 404, message: string) {
  return c.json({ success: false, error: { code: status, message } }, status);
}

/** The first field of a create or update the API would refuse, as its message; none: undefined. */
function refusedField(body: Record<string, unknown>): string | undefined {
  for (const [name, kind] of Object.entries(SETTINGS)) {
    const value = body[name];
    if (value === undefined || (value === null && name === "title")) continue;
    if (typeof value !== kind) return `${name} must be a ${kind}`;
  }
  if (body.status !== undefined && body.status !== "ACTIVE" && body.status !== "INACTIVE") {
    return "status must be ACTIVE or INACTIVE";
  }
  return undefined;
}

function applySettings(record: MeetingRecord, body: Record<string, unknown>, at: string): void {
  const changes = Object.fromEntries(
    Object.keys({ ...SETTINGS, status: "string" }).flatMap((name) =>
      body[name] === undefined ? [] : [[name, body[name]]],
    ),
  );
  Object.assign(record, changes, { updated_at: at });
}

async function jsonObject(c: Context): Promise<Record<string, unknown> | undefined> {
  const body: unknown = await c.req.json().catch(() => undefined);
  return typeof body === "object" && body !== null && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : undefined;
}

function listed(records: readonly MeetingRecord[], query: URLSearchParams): MeetingRecord[] | string {
  const search = query.get("search")?.toLowerCase();
  const status = query.get("status");
  const start = query.get("start_time");
  const end = query.get("end_time");
  if (start !== null && Number.isNaN(Date.parse(start))) return "start_time must be a date-time";
  if (end !== null && Number.isNaN(Date.parse(end))) return "end_time must be a date-time";
  return records
    .filter((record) => {
      if (search !== undefined && !(record.title ?? "").toLowerCase().includes(search)) return false;
      if (status !== null && record.status !== status) return false;
      if (start !== null && Date.parse(record.created_at) < Date.parse(start)) return false;
      return end === null || Date.parse(record.created_at) <= Date.parse(end);
    })
    .sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
}

function pageOf(query: URLSearchParams): { pageNo: number; perPage: number } | undefined {
  const pageNo = query.get("page_no") ?? "1";
  const perPage = query.get("per_page") ?? String(DEFAULT_PER_PAGE);
  if (!/^[0-9]+$/.test(pageNo) || !/^[1-9][0-9]*$/.test(perPage)) return undefined;
  return { pageNo: Math.max(1, Number(pageNo)), perPage: Number(perPage) };
}

export interface MeetingRecordsOptions {
  /** The seeded meetings (each gets a record, created some days before the seeded sessions). */
  seeded: readonly Meeting[];
  now: () => number;
}

export function fakeMeetingRecords({ seeded, now }: MeetingRecordsOptions) {
  // By id in lower case: any case of a UUID is one meeting.
  const records = new Map<string, MeetingRecord>();
  seeded.forEach((meeting, n) => {
    const at = new Date(SEED_EPOCH - (seeded.length - n) * DAY).toISOString();
    const record = newRecord(meeting.id, meeting.title, at);
    if (meeting.title.includes("livestream")) record.live_stream_on_start = true;
    records.set(meeting.id.toLowerCase(), record);
  });
  const find = (id: string) => records.get(id.toLowerCase());
  const app = new Hono();

  app.get("/meetings", (c) => {
    const query = new URL(c.req.url).searchParams;
    const page = pageOf(query);
    if (!page) return error(c, 400, "page_no and per_page must be whole numbers");
    const all = listed([...records.values()], query);
    if (typeof all === "string") return error(c, 400, all);
    const startOffset = (page.pageNo - 1) * page.perPage;
    const data = all.slice(startOffset, startOffset + page.perPage);
    return c.json({
      success: true,
      data,
      paging: { start_offset: startOffset, end_offset: startOffset + data.length, total_count: all.length },
    });
  });

  app.get("/meetings/:meetingId", (c) => {
    const record = find(c.req.param("meetingId"));
    return record ? c.json({ success: true, data: record }) : error(c, 404, "Meeting not found");
  });

  app.post("/meetings", async (c) => {
    const body = await jsonObject(c);
    if (!body) return error(c, 400, "The body must be a JSON object");
    const refused = refusedField(body);
    if (refused) return error(c, 400, refused);
    const at = new Date(now()).toISOString();
    const record = newRecord(crypto.randomUUID(), null, at);
    applySettings(record, body, at);
    records.set(record.id, record);
    return c.json({ success: true, data: record }, 201);
  });

  app.patch("/meetings/:meetingId", async (c) => {
    const record = find(c.req.param("meetingId"));
    if (!record) return error(c, 404, "Meeting not found");
    const body = await jsonObject(c);
    if (!body) return error(c, 400, "The body must be a JSON object");
    const refused = refusedField(body);
    if (refused) return error(c, 400, refused);
    applySettings(record, body, new Date(now()).toISOString());
    return c.json({ success: true, data: record });
  });

  return {
    app,
    /** Whether the meeting exists (any case of a UUID is the same meeting). */
    exists: (id: string) => records.has(id.toLowerCase()),
    /** Adds a meeting without the API (the generated meetings of large loads). */
    add: (id: string, title: string) =>
      records.set(id.toLowerCase(), newRecord(id, title, new Date(SEED_EPOCH).toISOString())),
    find,
  };
}

export type FakeMeetingRecords = ReturnType<typeof fakeMeetingRecords>;
