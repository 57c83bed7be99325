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
import type { UpstreamRequest } from "../upstream/request.ts";

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

interface LiveSession {
  associated_id?: unknown;
  started_at?: unknown;
}

/**
 * Reads meetings' answers out of index answers, parsing each index once per isolate
 * and each meeting's answer (with its ETag) once per index.
 */
export class LiveSessionsView {
  #index: StoredAnswer | undefined;
  #byMeeting = new Map<string, string>();
  #answers = new Map<string, Promise<StoredAnswer>>();

  /** The meeting's active-session answer, as old as the index it was read from. */
  answerFor(index: StoredAnswer, meetingId: string): Promise<StoredAnswer> {
    if (index !== this.#index) this.#read(index);
    let answer = this.#answers.get(meetingId);
    if (!answer) {
      const body = this.#byMeeting.get(meetingId);
      const result = body
        ? { status: 200, body }
        : { status: 404, body: `No active session found for meeting_id ${meetingId}` };
      answer = toStoredAnswer({ ...result, producedAt: index.producedAt });
      this.#answers.set(meetingId, answer);
    }
    return answer;
  }

  #read(index: StoredAnswer): void {
    this.#index = index;
    this.#answers = new Map();
    this.#byMeeting = new Map();
    const newest = new Map<string, LiveSession>();
    const page = JSON.parse(index.body) as SessionsPage;
    for (const session of page.data.sessions) {
      if (typeof session.associated_id !== "string") continue;
      // Keyed as requests are: a UUID in lower case, whatever case the upstream listed it in.
      const meetingId = canonicalId(session.associated_id);
      const seen = newest.get(meetingId);
      // Several live sessions for one meeting: the upstream answers with the one started last.
      if (!seen || startedAt(session) > startedAt(seen)) newest.set(meetingId, session);
    }
    for (const [meetingId, session] of newest) {
      this.#byMeeting.set(meetingId, JSON.stringify({ success: true, data: session }));
    }
  }
}

function startedAt(session: LiveSession): number {
  const time = Date.parse(String(session.started_at));
  return Number.isNaN(time) ? Number.NEGATIVE_INFINITY : time;
}
