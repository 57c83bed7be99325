/** Helpers of the keys tests: making keys through the admin API, and using them. */
import { API_KEY, callProxy, type ProxyInit } from "../support/proxy.ts";

export interface CreatedKey {
  id: string;
  secret: string;
  start: string;
  scopes: string[];
  source: string;
  [field: string]: unknown;
}

type Call = (path: string, init?: ProxyInit) => Promise<Response>;

/** `POST /keys` with the admin key (the local key holds every scope, keys:admin included). */
export async function createKey(body: Record<string, unknown>, call: Call = callProxy): Promise<CreatedKey> {
  const response = await call("/keys", asAdmin("POST", body));
  if (response.status !== 200) throw new Error(`POST /keys answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { data: CreatedKey }).data;
}

export function asAdmin(method: string, body?: unknown, key = API_KEY): ProxyInit {
  return {
    method,
    headers: { Authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  };
}

/** A request made with a key. */
export function withKey(secret: string, init: ProxyInit = {}): ProxyInit {
  return { ...init, headers: { ...(init.headers as Record<string, string>), Authorization: `Bearer ${secret}` } };
}

export const TEAM = { name: "Analytics dashboard", owner: "team-analytics", scopes: ["sessions:read"] };
