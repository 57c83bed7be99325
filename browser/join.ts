/**
 * @module A signed-in user's join, as the browser client makes it: the user's token as a
 * bearer, the name to show if given; a 503 (the joins' share of the budget is spent, or
 * the proxy is paused) is asked again after its `Retry-After`, at most three times, and
 * nothing else is retried: a join that may have reached the upstream is the proxy's to
 * make safe, not the page's to repeat. Its `fetch` and its pause are injected.
 */
import type { JoinEnvelope } from "../src/routes/answers.ts";
import { errorOf, ProxyError, readHeaders } from "./poll.ts";

/** A 503 at the join is asked again after its `Retry-After`, this many times at most. */
export const JOIN_RETRIES = 3;

export interface JoinRequest {
  url: string;
  getToken: (() => string | null | undefined | Promise<string | null | undefined>) | undefined;
  name: string | undefined;
  signal: AbortSignal | undefined;
  send: typeof fetch;
  pause: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  now: () => number;
}

export async function joinMeeting(request: JoinRequest): Promise<JoinEnvelope["data"]> {
  const { url, getToken, name, signal, send, pause, now } = request;
  for (let attempt = 0; ; attempt++) {
    // Asked each time: an identity provider's SDK renews a token about to expire.
    const token = await getToken?.();
    let response: Response;
    try {
      response = await send(url, {
        method: "POST",
        cache: "no-store",
        headers: {
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          ...(name === undefined ? {} : { "Content-Type": "application/json" }),
        },
        ...(name === undefined ? {} : { body: JSON.stringify({ name }) }),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      throw new ProxyError(0, "network", String(error));
    }
    const body: unknown = await response.json().catch(() => undefined);
    if (response.ok) return (body as JoinEnvelope).data;
    const error = errorOf({ status: response.status, ...readHeaders(response.headers, now()), body });
    if (response.status !== 503 || error.retryAfter === undefined || attempt >= JOIN_RETRIES) throw error;
    await pause(error.retryAfter * 1000, signal);
  }
}
