/**
 * The React example: the hooks of `realtimekit-proxy/react` over one browser client.
 * Two components watch the same meeting (one poll loop between them); a button signs in
 * with the local identity provider and joins, and the participant token goes to
 * RealtimeKit's browser SDK.
 */
import RealtimeKitClient from "@cloudflare/realtimekit";
import { StrictMode, useState } from "react";
import { createRoot } from "react-dom/client";
// In an app: import { ... } from "realtimekit-proxy/react";
import { createProxyClient, ProxyClientProvider, useActiveSession, useJoin } from "../../browser/react.ts";

declare const __PROXY_URL__: string;
declare const __IDENTITY_PROVIDER_URL__: string;

const params = new URLSearchParams(location.search);
const MEETING = params.get("meeting") ?? "6bf2b8be-04dd-4191-b602-1128921a306b";

/** The user's ID token: from your identity provider's SDK in an app (here, the local one's, after "Join"). */
let userToken: string | undefined;
const client = createProxyClient({ baseUrl: params.get("proxy") ?? __PROXY_URL__, getToken: () => userToken });

function LiveSession({ meetingId }: { meetingId: string }) {
  const { data, error, live } = useActiveSession(meetingId);
  if (error) return <p className="error">The proxy could not be read ({error.message}).</p>;
  if (!live || !data) return <p className="muted">No live session right now.</p>;
  return (
    <p data-testid="live">
      {data.meeting_display_name}: {data.live_participants} in the call now
    </p>
  );
}

function PeopleCount({ meetingId }: { meetingId: string }) {
  // A second watcher of the same meeting: no second poll loop.
  const { data } = useActiveSession(meetingId);
  return <p className="muted">Peak so far: {data?.max_concurrent_participants ?? "–"}</p>;
}

function Join({ meetingId }: { meetingId: string }) {
  const { join, token, error, joining } = useJoin(meetingId);
  const [status, setStatus] = useState("Not joined.");
  async function signInAndJoin() {
    const response = await fetch(__IDENTITY_PROVIDER_URL__, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sub: "local-grace", name: "Grace", role: "guest" }),
    });
    userToken = ((await response.json()) as { token: string }).token;
    const data = await join();
    setStatus(`Joined: participant ${data.participant_id}. Connecting to RealtimeKit…`);
    try {
      const meeting = await RealtimeKitClient.init({ authToken: data.token, defaults: { audio: false, video: false } });
      setStatus(`Ready: ${meeting.meta.meetingTitle}`);
    } catch (failure) {
      setStatus(`RealtimeKit could not be reached from here (${String(failure)}).`);
    }
  }
  return (
    <div data-testid="join" data-state={token ? "token" : joining ? "joining" : error ? "error" : "idle"}>
      <button type="button" disabled={joining} onClick={() => void signInAndJoin().catch(() => {})}>
        Sign in and join
      </button>
      <p className={error ? "error" : "muted"}>{error ? error.message : status}</p>
    </div>
  );
}

createRoot(document.getElementById("root") as HTMLElement).render(
  <StrictMode>
    <ProxyClientProvider client={client}>
      <h1>Meeting {MEETING}</h1>
      <section className="card">
        <LiveSession meetingId={MEETING} />
        <PeopleCount meetingId={MEETING} />
      </section>
      <section className="card">
        <Join meetingId={MEETING} />
      </section>
    </ProxyClientProvider>
  </StrictMode>,
);
