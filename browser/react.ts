/**
 * @module `realtimekit-proxy/react`: React hooks over the browser client. Give the app one
 * client (`<ProxyClientProvider client={createProxyClient({ baseUrl, getToken })}>`), then
 * `useActiveSession(meetingId)` watches a meeting (every component watching it shares one
 * poll loop) and `useJoin(meetingId)` joins the signed-in user.
 */
import { createContext, createElement, type ReactNode, useCallback, useContext, useEffect, useState } from "react";
import {
  type ActiveSession,
  type ActiveSessionState,
  createProxyClient,
  type JoinData,
  type ProxyClient,
  type ProxyError,
} from "./index.ts";

export { createProxyClient };

const ClientContext = createContext<ProxyClient | null>(null);

/** Gives the hooks below it their client. */
export function ProxyClientProvider({ client, children }: { client: ProxyClient; children?: ReactNode }) {
  return createElement(ClientContext.Provider, { value: client }, children);
}

function useClient(): ProxyClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error("realtimekit-proxy/react: wrap the app in <ProxyClientProvider client={...}>");
  return client;
}

const UNKNOWN: ActiveSessionState<ActiveSession> = { data: null, live: false, error: null };

/** The meeting's active session: `data` (null: none, or not known yet), `live`, and the last poll's `error`. */
export function useActiveSession(meetingId: string | null | undefined): ActiveSessionState<ActiveSession> {
  const client = useClient();
  const [state, setState] = useState(UNKNOWN);
  useEffect(() => {
    setState(UNKNOWN);
    if (!meetingId) return;
    const controller = new AbortController();
    client.watchActiveSession(meetingId, setState, { signal: controller.signal });
    return () => controller.abort();
  }, [client, meetingId]);
  return state;
}

export interface JoinState {
  /** Joins (again); resolves with the join's data, or rejects with its ProxyError (also kept in `error`). */
  join: (options?: { name?: string }) => Promise<JoinData>;
  /** The participant token, for `RealtimeKitClient.init({ authToken })`, once joined. */
  token: string | null;
  error: ProxyError | null;
  joining: boolean;
}

export function useJoin(meetingId: string): JoinState {
  const client = useClient();
  const [state, setState] = useState<Omit<JoinState, "join">>({ token: null, error: null, joining: false });
  const join = useCallback(
    async (options: { name?: string } = {}) => {
      setState((previous) => ({ ...previous, error: null, joining: true }));
      try {
        const data = await client.join(meetingId, options);
        setState({ token: data.token, error: null, joining: false });
        return data;
      } catch (error) {
        setState((previous) => ({ ...previous, error: error as ProxyError, joining: false }));
        throw error;
      }
    },
    [client, meetingId],
  );
  return { ...state, join };
}
