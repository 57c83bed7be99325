/**
 * The example frontend: a meeting's active session, watched with the browser client
 * (`realtimekit-proxy/browser`: it polls politely, and once for all tabs), the meeting's
 * sessions with the typed client, and a signed-in user's join handed to RealtimeKit's
 * browser SDK. It holds no API key; the only token it holds is the user's own.
 */
import RealtimeKitClient from "@cloudflare/realtimekit";
import { hc } from "hono/client";
// In an app: import { createProxyClient } from "realtimekit-proxy/browser";
import { type ActiveSession, type ActiveSessionState, createProxyClient } from "../../browser/index.ts";
// Declarations emitted by `npm run typecheck` (tsconfig.types.json): the Worker's code
// is checked against the Workers runtime, this page against the DOM.
import type { AppType } from "../../types/src/client.d.ts";

/** Set when the page is bundled (npm run example): npm start's proxy (PORT) and identity provider (FAKE_UPSTREAM_PORT). */
declare const __PROXY_URL__: string;
declare const __IDENTITY_PROVIDER_URL__: string;

const params = new URLSearchParams(location.search);
const PROXY_URL = params.get("proxy") ?? __PROXY_URL__;
const typed = hc<AppType>(PROXY_URL, {
  // A request id per call: it lets an operator find this request in the proxy's logs.
  headers: () => ({ "X-Request-Id": `web-${crypto.randomUUID()}` }),
});

const byId = (id: string) => document.getElementById(id) as HTMLElement;
let meetingId = params.get("meeting") ?? "6bf2b8be-04dd-4191-b602-1128921a306b";
/** The signed-in user's ID token, once they signed in (the join below asks for it). */
let userToken: string | undefined;
const client = createProxyClient({ baseUrl: PROXY_URL, getToken: () => userToken });
let watching: AbortController | undefined;

function text(tag: string, content: string, className = ""): HTMLElement {
  const element = document.createElement(tag);
  element.textContent = content;
  if (className) element.className = className;
  return element;
}

async function errorMessage(response: Response): Promise<string> {
  const body = (await response.json().catch(() => undefined)) as { error?: { message?: string } } | undefined;
  return `${response.status}: ${body?.error?.message ?? response.statusText}`;
}

function showFailure(target: HTMLElement, message: string) {
  target.replaceChildren(text("p", message, "error"));
  target.dataset.state = "error";
}

/** Shows what the watch tells: the live session, none, or why the last poll failed. */
function showActiveSession({ data, error }: ActiveSessionState<ActiveSession>) {
  const target = byId("active-session");
  if (error) {
    const hint = error.status === 0 ? " Is this origin in ALLOWED_ORIGINS?" : "";
    showFailure(target, `The proxy could not be read from this page (${error.message}).${hint}`);
  } else if (!data) {
    target.replaceChildren(text("p", "No live session right now.", "muted"));
    target.dataset.state = "idle";
  } else {
    target.replaceChildren(
      text("p", data.meeting_display_name, "title"),
      text(
        "p",
        `${data.live_participants} in the call now (peak ${data.max_concurrent_participants}), ${data.minutes_consumed} minutes so far`,
      ),
      text("span", data.status, "live"),
    );
    target.dataset.state = "live";
  }
  byId("status").textContent = `Updated ${new Date().toLocaleTimeString()}`;
}

/** The meeting's latest sessions, once (a list is read when asked for, not polled). */
async function showSessions() {
  const target = byId("sessions");
  const response = await typed.sessions.$get({
    query: { associated_id: meetingId, per_page: "10", sort_by: "createdAt", sort_order: "DESC" },
  });
  if (!response.ok) {
    const status: number = response.status;
    const hint = status === 401 ? " (/sessions needs a key: make it public with PUBLIC_ROUTES, see the README)" : "";
    showFailure(target, `${await errorMessage(response)}${hint}`);
    return;
  }
  const { data, paging } = await response.json();
  const rows = data.sessions.map((session) => {
    const row = document.createElement("tr");
    row.append(
      text("td", new Date(session.created_at).toLocaleString()),
      text("td", session.status),
      text("td", String(session.minutes_consumed)),
      text("td", String(session.max_concurrent_participants)),
    );
    return row;
  });
  const table = document.createElement("table");
  const head = document.createElement("tr");
  head.append(text("th", "created"), text("th", "status"), text("th", "minutes"), text("th", "peak participants"));
  table.append(head, ...rows);
  target.replaceChildren(table, text("p", `${paging?.total_count ?? rows.length} sessions in all`, "muted"));
  target.dataset.state = "loaded";
}

/**
 * Signs in with the local identity provider: a real app gets this token from its own
 * provider's SDK (Auth0's getIdTokenClaims, Clerk's getToken, Firebase's getIdToken, …).
 */
async function signIn(name: string, role: string): Promise<string> {
  const response = await fetch(__IDENTITY_PROVIDER_URL__, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ sub: `local-${name.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`, name, role }),
  });
  const { token } = (await response.json()) as { token: string };
  return token;
}

/** Signs in, joins through the proxy, and hands the participant token to RealtimeKit's browser SDK. */
async function join(name: string, role: string) {
  const target = byId("join");
  target.dataset.state = "joining";
  target.replaceChildren(text("p", "Signing in…", "muted"));
  userToken = await signIn(name, role);
  let data: Awaited<ReturnType<typeof client.join>>;
  try {
    data = await client.join(meetingId);
  } catch (error) {
    showFailure(target, `The join failed (${String(error)}).`);
    return;
  }
  target.replaceChildren(
    text(
      "p",
      `Joined as ${name}: participant ${data.participant_id}, preset ${data.preset_name}${data.created ? "" : " (again)"}.`,
    ),
    text("p", "Connecting to RealtimeKit with the participant token…", "muted"),
  );
  target.dataset.state = "token";
  try {
    // The token is the one secret the page holds, and only for this call.
    const meeting = await RealtimeKitClient.init({ authToken: data.token, defaults: { audio: false, video: false } });
    target.append(text("p", `Ready: ${meeting.meta.meetingTitle}`));
    target.dataset.state = "ready";
  } catch (error) {
    target.append(text("p", `RealtimeKit could not be reached from here (${String(error)}).`, "error"));
    target.dataset.state = "offline";
  }
}

byId("join-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const name = (byId("user-name") as HTMLInputElement).value.trim() || "Ada";
  const role = (byId("user-role") as HTMLSelectElement).value;
  void join(name, role).catch((error) => showFailure(byId("join"), `The join failed (${String(error)}).`));
});

function start() {
  watching?.abort();
  watching = new AbortController();
  byId("proxy-url").textContent = PROXY_URL;
  (byId("meeting-id") as HTMLInputElement).value = meetingId;
  client.watchActiveSession(meetingId, showActiveSession, { signal: watching.signal });
  showSessions().catch((error) =>
    showFailure(byId("sessions"), `The proxy could not be read from this page (${String(error)}).`),
  );
}

byId("meeting-form").addEventListener("submit", (event) => {
  event.preventDefault();
  meetingId = (byId("meeting-id") as HTMLInputElement).value.trim();
  start();
});
start();
