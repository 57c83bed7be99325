/**
 * @module One participant per person and meeting: the meeting's participants this proxy
 * made, remembered by their custom id (a user's derived id, or a backend's own). The
 * first join adds the participant; later joins refresh its token, edit it first when its
 * preset or name changed, and add it again when the upstream no longer knows it.
 * Concurrent joins of one person share one call. Pure: storage and upstream calls are
 * injected (the meeting's Durable Object gives them).
 */
import { ApiError, outcomeUnknown } from "../errors.ts";
import type { Participant, ParticipantCalls, ParticipantFields } from "../upstream/participants.ts";

/** What is remembered of a participant: never its token. */
export interface ParticipantRecord extends Participant {}

/** The slice of a Durable Object's synchronous KV storage this needs. */
export interface ParticipantStore {
  get<T>(key: string): T | undefined;
  put<T>(key: string, value: T): void;
  delete(key: string): boolean;
}

export interface JoinRequest extends ParticipantFields {
  meetingId: string;
}

export interface JoinOutcome {
  participant: ParticipantRecord;
  token: string;
  /** Whether this join added the participant (else it already existed). */
  created: boolean;
}

const participantKey = (customId: string) => `participant:${customId}`;
const byIdKey = (participantId: string) => `by-id:${participantId}`;
/** Set while an add may have reached the upstream without its answer reaching us. */
const pendingKey = (customId: string) => `pending:${customId}`;

function isGone(error: unknown): boolean {
  return error instanceof ApiError && error.kind === "not_found";
}

function differs(known: ParticipantRecord, wanted: ParticipantFields): boolean {
  return (
    known.preset_name !== wanted.preset_name ||
    (wanted.name !== undefined && known.name !== wanted.name) ||
    (wanted.picture !== undefined && known.picture !== wanted.picture)
  );
}

function record({ id, custom_participant_id, preset_name, name, picture, created_at, updated_at }: Participant) {
  return { id, custom_participant_id, preset_name, name, picture, created_at, updated_at };
}

export class MeetingParticipants {
  readonly #store: ParticipantStore;
  readonly #joining = new Map<string, { wanted: string; outcome: Promise<JoinOutcome> }>();

  constructor(store: ParticipantStore) {
    this.#store = store;
  }

  /**
   * The person's participant in the meeting, with a fresh token. Identical concurrent joins
   * share one outcome; a different one for the same person waits for it, then runs.
   */
  join(request: JoinRequest, calls: ParticipantCalls): Promise<JoinOutcome> {
    const id = request.custom_participant_id;
    const wanted = JSON.stringify([request.meetingId, request.preset_name, request.name, request.picture]);
    const running = this.#joining.get(id);
    if (running?.wanted === wanted) return running.outcome;
    const before = running?.outcome.catch(() => undefined) ?? Promise.resolve(undefined);
    const outcome = before.then(() => this.#join(request, calls));
    const entry = { wanted, outcome };
    this.#joining.set(id, entry);
    const forget = () => {
      if (this.#joining.get(id) === entry) this.#joining.delete(id);
    };
    outcome.then(forget, forget);
    return outcome;
  }

  /** A fresh token for a participant of the meeting, if its preset is one of `allowedPresets` (else 403). */
  async refreshToken(
    meetingId: string,
    participantId: string,
    allowedPresets: readonly string[],
    calls: ParticipantCalls,
  ): Promise<string> {
    const customId = this.#store.get<string>(byIdKey(participantId));
    const known = customId === undefined ? undefined : this.#store.get<ParticipantRecord>(participantKey(customId));
    const participant = known ?? record(await calls.get(meetingId, participantId));
    if (!allowedPresets.includes(participant.preset_name)) {
      throw new ApiError(
        "forbidden",
        `participant ${participantId} has preset ${participant.preset_name}, which JOIN_PRESETS does not allow`,
      );
    }
    try {
      const token = await calls.refreshToken(meetingId, participantId);
      this.#remember(participant);
      return token;
    } catch (error) {
      if (isGone(error)) this.#forget(participant);
      throw error;
    }
  }

  async #join(request: JoinRequest, calls: ParticipantCalls): Promise<JoinOutcome> {
    const id = request.custom_participant_id;
    let known = this.#store.get<ParticipantRecord>(participantKey(id));
    if (!known && this.#store.get(pendingKey(id)) !== undefined) {
      // An earlier add may have reached the upstream unanswered: look for it before adding another.
      const found = await calls.findByCustomId(request.meetingId, id);
      if (found) known = this.#remember(record(found));
      this.#store.delete(pendingKey(id));
    }
    if (known) {
      try {
        return await this.#renew(known, request, calls);
      } catch (error) {
        if (!isGone(error)) throw error;
        // The upstream no longer knows it (removed by someone): a new participant.
        this.#forget(known);
      }
    }
    return this.#add(request, calls);
  }

  /** Edits the participant when its preset or name changed (the answer carries a token), else refreshes its token. */
  async #renew(known: ParticipantRecord, request: JoinRequest, calls: ParticipantCalls): Promise<JoinOutcome> {
    if (differs(known, request)) {
      const { custom_participant_id: _id, ...fields } = request;
      const { token, ...edited } = await calls.edit(request.meetingId, known.id, {
        preset_name: fields.preset_name,
        name: fields.name,
        picture: fields.picture,
      });
      return { participant: this.#remember(record(edited)), token, created: false };
    }
    const token = await calls.refreshToken(request.meetingId, known.id);
    return { participant: known, token, created: false };
  }

  async #add(request: JoinRequest, calls: ParticipantCalls): Promise<JoinOutcome> {
    const { meetingId: _meeting, ...fields } = request;
    const id = request.custom_participant_id;
    // Marked before the call: if its answer never comes, the next join looks before adding again.
    this.#store.put(pendingKey(id), true);
    try {
      const { token, ...added } = await calls.add(request.meetingId, fields);
      this.#store.delete(pendingKey(id));
      return { participant: this.#remember(record(added)), token, created: true };
    } catch (error) {
      if (!outcomeUnknown(error)) this.#store.delete(pendingKey(id));
      throw error;
    }
  }

  #remember(participant: ParticipantRecord): ParticipantRecord {
    this.#store.put(participantKey(participant.custom_participant_id), participant);
    this.#store.put(byIdKey(participant.id), participant.custom_participant_id);
    return participant;
  }

  #forget(participant: ParticipantRecord): void {
    this.#store.delete(participantKey(participant.custom_participant_id));
    this.#store.delete(byIdKey(participant.id));
  }
}
