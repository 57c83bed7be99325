/**
 * @module Active sessions from one index of the app's live sessions: with
 * `ACTIVE_SESSION_SOURCE=live-sessions`, the whole deployment refreshes one list
 * (`/sessions?status=LIVE`, every page) once per TTL, and every meeting's answer is
 * read from it, so upstream spend grows with pages, not meetings. The answer is the
 * envelope the upstream's active-session route gives: the same session object, or its
 * 404 envelope and message for a meeting with no live session.
 */
import { type StoredAnswer, toStoredAnswer } from "../cache/answer.ts";
import { canonicalId } from "../ids.ts";
import { type UpstreamRequest, upstreamRequest } from "../upstream/request.ts";

/**
 * Sessions a page when fetching the index. The upstream documents no maximum for
 * `per_page`; 100 is the largest the proxy itself lets callers ask for by default, and
 * keeps each page well under the 2 MiB body cap.
 */
const LIVE_INDEX_PAGE_SIZE = 100;
/** The name the index goes by in cache keys, logs and spend per route. */
export const LIVE_INDEX_NAME = "live-sessions-index";
export const LIVE_INDEX_REQUEST: UpstreamRequest = {
  path: "/sessions",
  query: "status=LIVE",
  everyPage: LIVE_INDEX_PAGE_SIZE,
};
interface SessionsPage {
  data: { sessions: LiveSession[] };
}

interface SessionEnvelope {
  data: LiveSession;
}

interface LiveSession {
  associated_id?: unknown;
  started_at?: unknown;
}

/**
 * Reads meetings' answers out of index answers: each index's content (by its ETag) is
 * parsed once per isolate, and each meeting's answer (its body and ETag) made once per
 * content, when first asked for. The index's times are the answer's own.
 */
export class LiveSessionsView {
  #etag: string | undefined;
  #byMeeting = new Map<string, LiveSession>();
  #answers = new Map<string, Promise<StoredAnswer>>();

  /**
   * The meeting's active-session answer, as old as the index it was read from. An index
   * that is not a list (the upstream's 404 for an unknown app) is every meeting's answer.
   */
  async answerFor(index: StoredAnswer, meetingId: string): Promise<StoredAnswer> {
    if (index.status !== 200) return index;
    if (index.etag !== this.#etag) this.#read(index);
    let answer = this.#answers.get(meetingId);
    if (!answer) {
      const session = this.#byMeeting.get(meetingId);
      const result = session
        ? { status: 200, body: JSON.stringify({ success: true, data: session }) }
        : { status: 404, body: `No active session found for meeting_id ${meetingId}` };
      answer = toStoredAnswer({ ...result, producedAt: index.producedAt });
      this.#answers.set(meetingId, answer);
    }
    // As old as the index, and as current as the shared tier vouched the index to be.
    const { producedAt, currentAt } = index;
    return { ...(await answer), producedAt, ...(currentAt === undefined ? {} : { currentAt }) };
  }

  #read(index: StoredAnswer): void {
    this.#etag = index.etag;
    this.#answers = new Map();
    this.#byMeeting = new Map();
    for (const session of sessionsOf(index)) {
      if (typeof session.associated_id !== "string") continue;
      // Keyed as requests are: a UUID in lower case, whatever case the upstream listed it in.
      const meetingId = canonicalId(session.associated_id);
      const seen = this.#byMeeting.get(meetingId);
      // Several live sessions for one meeting: the upstream answers with the one started last.
      if (!seen || startedAt(session) > startedAt(seen)) this.#byMeeting.set(meetingId, session);
    }
  }
}

/** The index's sessions; none when the upstream's list carries none (its success body is otherwise passed through unread). */
function sessionsOf(index: StoredAnswer): LiveSession[] {
  const sessions: unknown = (JSON.parse(index.body) as Partial<SessionsPage>).data?.sessions;
  return Array.isArray(sessions) ? (sessions as LiveSession[]) : [];
}

function startedAt(session: LiveSession): number {
  const time = Date.parse(String(session.started_at));
  return Number.isNaN(time) ? Number.NEGATIVE_INFINITY : time;
}

/** How many pages of `pageSize` loading the index whole takes now (at least one). */
export function pagesOf(index: StoredAnswer, pageSize: number): number {
  return index.status === 200 ? Math.max(1, Math.ceil(sessionsOf(index).length / pageSize)) : 1;
}

/** The upstream request for one meeting's active session: what a change of that meeting patches into the index. */
export function meetingSessionRequest(meetingPath: string, meetingId: string): UpstreamRequest {
  return upstreamRequest(meetingPath, { meetingId }, {});
}

/**
 * The index with one meeting shown as the upstream now answers for it: its live session
 * (a 200) replacing whatever the index listed for it, or none (a 404). The index keeps
 * its own production time: the rest of it is that old.
 */
export async function patchedIndex(
  index: StoredAnswer,
  meetingId: string,
  meeting: StoredAnswer,
): Promise<StoredAnswer> {
  if (index.status !== 200) return index;
  const page = JSON.parse(index.body) as SessionsPage;
  const others = sessionsOf(index).filter(
    (session) => typeof session.associated_id !== "string" || canonicalId(session.associated_id) !== meetingId,
  );
  const live = meeting.status === 200 ? [(JSON.parse(meeting.body) as SessionEnvelope).data] : [];
  const body = JSON.stringify({ ...page, data: { ...page.data, sessions: [...others, ...live] } });
  return toStoredAnswer({ status: 200, body, producedAt: index.producedAt });
}
