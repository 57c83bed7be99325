/**
 * @module The participant calls joining needs: add, refresh a token, edit, look one up, and
 * find one by its custom id. Each takes its permits as a write (writes.ts): a person is waiting.
 * Adding is not idempotent (each call makes a new participant): it is made once and never
 * retried; the others are retried like reads. The bodies sent are exactly the
 * participant's fields, in the order the official SDK sends them, and nothing else.
 */
import { ApiError } from "../errors.ts";
import { upstreamWrites, type WriteOptions } from "./writes.ts";

/** A participant as the upstream describes it (without its token, which is apart). */
export interface Participant {
  id: string;
  custom_participant_id: string;
  preset_name: string;
  name?: string | null;
  picture?: string | null;
  created_at: string;
  updated_at: string;
}

/** What a participant is added or edited with. */
export interface ParticipantFields {
  custom_participant_id: string;
  preset_name: string;
  name?: string;
  picture?: string;
}

/** The add participant body: the participant's fields and nothing else, in the SDK's order. */
export function addBody({ custom_participant_id, preset_name, name, picture }: ParticipantFields) {
  return {
    custom_participant_id,
    preset_name,
    ...(name === undefined ? {} : { name }),
    ...(picture === undefined ? {} : { picture }),
  };
}

/** The edit participant body: what may change of a participant, in the SDK's order. */
export function editBody({ preset_name, name, picture }: ParticipantFields) {
  return { ...(name === undefined ? {} : { name }), ...(picture === undefined ? {} : { picture }), preset_name };
}

/** Pages of a meeting's participants read at most when looking for one by its custom id. */
const MAX_LIST_PAGES = 20;
const LIST_PAGE_SIZE = 100;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isParticipant(value: unknown): value is Participant {
  return (
    isRecord(value) &&
    typeof value.id === "string" &&
    typeof value.custom_participant_id === "string" &&
    typeof value.preset_name === "string"
  );
}

/** The `data` of a success envelope, or a 502 when it is not what the call answers. */
function dataOf<T>(body: string, check: (data: unknown) => data is T): T {
  const parsed: unknown = JSON.parse(body);
  const data = isRecord(parsed) ? parsed.data : undefined;
  if (!check(data)) throw new ApiError("upstream_unavailable", "upstream answered with a malformed body");
  return data;
}

const hasToken = (data: unknown): data is { token: string } => isRecord(data) && typeof data.token === "string";
const isParticipantWithToken = (data: unknown): data is Participant & { token: string } =>
  isParticipant(data) && hasToken(data);
const isParticipantList = (data: unknown): data is Participant[] => Array.isArray(data) && data.every(isParticipant);

/**
 * A preset the upstream does not know is the deployment's mistake (JOIN_PRESETS names
 * it), not the caller's: a 502 that says which. The upstream documents no error code for
 * it, so its 4xx message naming the preset is how it is recognised.
 */
function presetMistake(error: unknown, preset: string): unknown {
  if (error instanceof ApiError && error.status >= 400 && error.status < 500 && /preset/i.test(error.message)) {
    return new ApiError("join_preset_unknown", `join preset ${preset} is not configured upstream`);
  }
  return error;
}

export type ParticipantCallsOptions = Omit<WriteOptions, "route">;

export function participantCalls(options: ParticipantCallsOptions) {
  const call = upstreamWrites({ ...options, route: "join" });
  const participantsOf = (meetingId: string) => `/meetings/${encodeURIComponent(meetingId)}/participants`;
  const participantPath = (meetingId: string, participantId: string) =>
    `${participantsOf(meetingId)}/${encodeURIComponent(participantId)}`;

  return {
    /** Adds a participant: one attempt, never repeated (a repeat would make a second participant). */
    async add(meetingId: string, fields: ParticipantFields): Promise<Participant & { token: string }> {
      try {
        const { body } = await call({
          method: "POST",
          path: participantsOf(meetingId),
          query: "",
          json: addBody(fields),
          repeatable: false,
        });
        return dataOf(body, isParticipantWithToken);
      } catch (error) {
        throw presetMistake(error, fields.preset_name);
      }
    },

    /** A fresh token for a participant the upstream knows. */
    async refreshToken(meetingId: string, participantId: string): Promise<string> {
      const path = `${participantPath(meetingId, participantId)}/token`;
      const { body } = await call({ method: "POST", path, query: "" });
      return dataOf(body, hasToken).token;
    },

    /** Changes a participant's preset, name or picture; the answer carries a token. */
    async edit(meetingId: string, participantId: string, fields: ParticipantFields) {
      try {
        const { body } = await call({
          method: "PATCH",
          path: participantPath(meetingId, participantId),
          query: "",
          json: editBody(fields),
        });
        return dataOf(body, isParticipantWithToken);
      } catch (error) {
        throw presetMistake(error, fields.preset_name);
      }
    },

    /** One participant of the meeting, by its id. */
    async get(meetingId: string, participantId: string): Promise<Participant> {
      const { body } = await call({ path: participantPath(meetingId, participantId), query: "" });
      return dataOf(body, isParticipant);
    },

    /** The meeting's participant with this custom id, if the upstream has one (read page by page). */
    async findByCustomId(meetingId: string, customParticipantId: string): Promise<Participant | undefined> {
      for (let pageNo = 1; pageNo <= MAX_LIST_PAGES; pageNo++) {
        const { body } = await call({
          path: participantsOf(meetingId),
          query: `page_no=${pageNo}&per_page=${LIST_PAGE_SIZE}`,
        });
        const page = dataOf(body, isParticipantList);
        const found = page.find((participant) => participant.custom_participant_id === customParticipantId);
        if (found) return found;
        if (page.length < LIST_PAGE_SIZE) return undefined;
      }
      return undefined;
    },
  };
}

export type ParticipantCalls = ReturnType<typeof participantCalls>;
