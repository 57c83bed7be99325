/**
 * @module One participant per person and meeting: the meeting's participants this proxy
 * made, remembered by their custom id (a user's derived id, or a backend's own). The
 * first join adds the participant; a later join hands back the token handed out before
 * while it is good (no upstream call), else refreshes it, edits the participant first when
 * its preset or name changed, and adds it again when the upstream no longer knows it.
 * Concurrent joins of one person share one call. What the meeting is, is remembered too:
 * known (something was made in it), or absent (the upstream said so a moment ago), so that
 * joins of meetings that do not exist cost the upstream next to nothing. Pure: storage,
 * the clock and upstream calls are injected (the meeting's Durable Object gives them).
 */
import { decode } from "hono/utils/jwt/jwt";
import { ApiError, outcomeUnknown } from "../errors.ts";
import type { Participant, ParticipantCalls, ParticipantFields } from "../upstream/participants.ts";
import { isUsersParticipant } from "./join.ts";

/** What is remembered of a participant. */
export interface ParticipantRecord extends Participant {}

/** The token last handed out for a participant: kept in this storage only, to hand out again while it is good. */
interface KeptToken {
  token: string;
  issuedAt: number;
  /** Its `exp`, in ms, when the token says (RealtimeKit's are JWTs). */
  expiresAt?: number;
}

/** The slice of a Durable Object's synchronous KV storage this needs. */
export interface ParticipantStore {
  get<T>(key: string): T | undefined;
  put<T>(key: string, value: T): void;
  delete(key: string): boolean;
}

export interface JoinRequest {
  meetingId: string;
  participant: ParticipantFields;
  /** How long a token handed out before may be handed out again (JOIN_TOKEN_REUSE_SECONDS; 0: never). */
  reuseSeconds: number;
}

export interface JoinOutcome {
  participant: ParticipantRecord;
  token: string;
  /** Whether this join added the participant (else it already existed). */
  created: boolean;
}

/** The upstream calls, made for a join that is a probe (the meeting is not known to exist) or not. */
export type CallsFor = (probe: boolean) => ParticipantCalls;

/** How long the upstream's "no such meeting" is believed: long enough to stop a retry loop, short enough for a meeting made a moment later. */
export const ABSENT_MEETING_MS = 60_000;

/** Storage keys. */
const storedParticipant = (customId: string) => `participant:${customId}`;
const storedCustomId = (participantId: string) => `by-id:${participantId}`;
const storedToken = (customId: string) => `token:${customId}`;
/** Set while an add may have reached the upstream without its answer reaching us. */
const storedPendingAdd = (customId: string) => `pending:${customId}`;
const STORED_MEETING_KNOWN = "meeting:known";
const STORED_MEETING_ABSENT = "meeting:absent";

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

/** When the token expires, by its own `exp` (read, not verified: it is the upstream's, and only dates it). */
function expiryOf(token: string): number | undefined {
  try {
    const { exp } = decode(token).payload;
    return typeof exp === "number" && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a kept token may be handed out again: younger than `reuseSeconds`, and (when it
 * says when it expires) with more than half of its lifetime left, so the person has time
 * to use it and to come back before it runs out.
 */
function stillGood(kept: KeptToken, reuseSeconds: number, now: number): boolean {
  if (now - kept.issuedAt >= reuseSeconds * 1000) return false;
  if (kept.expiresAt === undefined) return true;
  return kept.expiresAt - now > (kept.expiresAt - kept.issuedAt) / 2;
}

export class MeetingParticipants {
  readonly #store: ParticipantStore;
  readonly #now: () => number;
  readonly #joining = new Map<string, { wanted: string; outcome: Promise<JoinOutcome> }>();

  constructor(store: ParticipantStore, now: () => number) {
    this.#store = store;
    this.#now = now;
  }

  /** The meeting exists upstream (something was made in it, or it was created through the proxy). */
  markKnown(): void {
    this.#store.put(STORED_MEETING_KNOWN, true);
    this.#store.delete(STORED_MEETING_ABSENT);
  }

  /**
   * The person's participant in the meeting, with a token. Identical concurrent joins
   * share one outcome; a different one for the same person waits for it, then runs.
   */
  join(request: JoinRequest, callsFor: CallsFor): Promise<JoinOutcome> {
    const id = request.participant.custom_participant_id;
    const { preset_name, name, picture } = request.participant;
    const wanted = JSON.stringify([request.meetingId, preset_name, name, picture, request.reuseSeconds]);
    const running = this.#joining.get(id);
    if (running?.wanted === wanted) return running.outcome;
    const before = running?.outcome.catch(() => undefined) ?? Promise.resolve(undefined);
    const outcome = before.then(() => this.#join(request, callsFor));
    const entry = { wanted, outcome };
    this.#joining.set(id, entry);
    const forget = () => {
      if (this.#joining.get(id) === entry) this.#joining.delete(id);
    };
    outcome.then(forget, forget);
    return outcome;
  }

  /**
   * A fresh token for a participant of the meeting (a backend's call): only for one of a
   * preset in `allowedPresets`, and never for a signed-in user's participant (both 403).
   */
  async refreshToken(
    meetingId: string,
    participantId: string,
    allowedPresets: readonly string[],
    calls: ParticipantCalls,
  ): Promise<{ participant: ParticipantRecord; token: string }> {
    const customId = this.#store.get<string>(storedCustomId(participantId));
    const known = customId === undefined ? undefined : this.#store.get<ParticipantRecord>(storedParticipant(customId));
    const participant = known ?? record(await calls.get(meetingId, participantId));
    if (isUsersParticipant(participant.custom_participant_id)) {
      throw new ApiError(
        "forbidden",
        `participant ${participantId} is a signed-in user's: only that user may join as it`,
      );
    }
    if (!allowedPresets.includes(participant.preset_name)) {
      throw new ApiError(
        "forbidden",
        `participant ${participantId} has preset ${participant.preset_name}, which JOIN_PRESETS does not allow`,
      );
    }
    try {
      const token = await calls.refreshToken(meetingId, participantId);
      this.#remember(participant, token);
      return { participant, token };
    } catch (error) {
      if (isGone(error)) this.#forget(participant);
      throw error;
    }
  }

  async #join(request: JoinRequest, callsFor: CallsFor): Promise<JoinOutcome> {
    const { meetingId, participant: wanted } = request;
    const id = wanted.custom_participant_id;
    let known = this.#store.get<ParticipantRecord>(storedParticipant(id));
    if (known && !differs(known, wanted)) {
      const kept = this.#store.get<KeptToken>(storedToken(id));
      // A page reload or a reconnect: the token handed out a moment ago, at no upstream cost.
      if (kept && stillGood(kept, request.reuseSeconds, this.#now())) {
        return { participant: known, token: kept.token, created: false };
      }
    }
    this.#refuseIfAbsent();
    const calls = callsFor(!known && this.#store.get(STORED_MEETING_KNOWN) === undefined);
    if (!known && this.#store.get(storedPendingAdd(id)) !== undefined) {
      // An earlier add may have reached the upstream unanswered: look for it before adding another.
      const found = await calls.findByCustomId(meetingId, id);
      if (found) known = this.#remember(record(found));
      this.#store.delete(storedPendingAdd(id));
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

  /** The upstream said a moment ago that the meeting does not exist: so it is still, without asking again. */
  #refuseIfAbsent(): void {
    const absent = this.#store.get<{ until: number; message: string }>(STORED_MEETING_ABSENT);
    if (absent && absent.until > this.#now()) throw new ApiError("not_found", absent.message);
  }

  /** Edits the participant when its preset or name changed (the answer carries a token), else refreshes its token. */
  async #renew(known: ParticipantRecord, request: JoinRequest, calls: ParticipantCalls): Promise<JoinOutcome> {
    const { meetingId, participant: wanted } = request;
    if (differs(known, wanted)) {
      const { token, ...edited } = await calls.edit(meetingId, known.id, wanted);
      return { participant: this.#remember(record(edited), token), token, created: false };
    }
    const token = await calls.refreshToken(meetingId, known.id);
    return { participant: this.#remember(known, token), token, created: false };
  }

  async #add(request: JoinRequest, calls: ParticipantCalls): Promise<JoinOutcome> {
    const { meetingId, participant: wanted } = request;
    const id = wanted.custom_participant_id;
    // Marked before the call: if its answer never comes, the next join looks before adding again.
    this.#store.put(storedPendingAdd(id), true);
    try {
      const { token, ...added } = await calls.add(meetingId, wanted);
      this.#store.delete(storedPendingAdd(id));
      return { participant: this.#remember(record(added), token), token, created: true };
    } catch (error) {
      if (!outcomeUnknown(error)) this.#store.delete(storedPendingAdd(id));
      // An add answered 404 names a meeting the upstream does not have: believed for a minute.
      if (isGone(error) && error instanceof ApiError) {
        this.#store.put(STORED_MEETING_ABSENT, { until: this.#now() + ABSENT_MEETING_MS, message: error.message });
      }
      throw error;
    }
  }

  /** Remembers the participant (and the token just handed out, if any): the meeting is known from then on. */
  #remember(participant: ParticipantRecord, token?: string): ParticipantRecord {
    this.#store.put(storedParticipant(participant.custom_participant_id), participant);
    this.#store.put(storedCustomId(participant.id), participant.custom_participant_id);
    if (token !== undefined) {
      const kept: KeptToken = { token, issuedAt: this.#now(), expiresAt: expiryOf(token) };
      this.#store.put(storedToken(participant.custom_participant_id), kept);
    }
    this.markKnown();
    return participant;
  }

  #forget(participant: ParticipantRecord): void {
    this.#store.delete(storedParticipant(participant.custom_participant_id));
    this.#store.delete(storedCustomId(participant.id));
    this.#store.delete(storedToken(participant.custom_participant_id));
  }
}
