/**
 * @module What `npm start` prints once ready: a `curl` line for every route of the table
 * (so a new route is in it at once), and a few that show validation, a 404 and the
 * upstream-shaped path. Every line works as printed; CI runs each one and checks the
 * status its comment gives.
 */
import { DEFAULT_PUBLIC_ROUTES, ROUTES, type RouteName } from "../src/routes/table.ts";
import { FAKE_ACCOUNT_ID, FAKE_APP_ID } from "./fake-upstream/data.ts";
import { LOCAL_API_KEY } from "./local-keys.ts";

/** A value of the fake's seeded data for each path param a route of the table takes. */
const SAMPLE_PARAMS: Record<string, string> = {
  meetingId: "6bf2b8be-04dd-4191-b602-1128921a306b",
  sessionId: "5e551011-0000-4000-8000-000000000001",
};

function samplePath(pattern: string): string {
  return pattern.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    const value = SAMPLE_PARAMS[name];
    if (!value) throw new Error(`dev/banner.ts has no sample value for the path param :${name}`);
    return value;
  });
}

interface Line {
  route: RouteName;
  method: string;
  path: string;
  note?: string;
}

function curlLine(proxyUrl: string, { route, method, path, note }: Line): string {
  const isPublic = DEFAULT_PUBLIC_ROUTES.includes(route);
  const auth = isPublic ? "" : `-H 'Authorization: Bearer ${LOCAL_API_KEY}' `;
  const verb = method === "GET" ? "" : `-X ${method} `;
  const url = path.includes("?") ? `'${proxyUrl}${path}'` : `${proxyUrl}${path}`;
  const access = isPublic ? "public" : "with the local key (without: 401)";
  return `  curl -i ${verb}${auth}${url}   # ${[access, note].filter(Boolean).join("; ")}`;
}

/** The banner's lines: one per route of the table, then the demonstrations. */
export function bannerLines(proxyUrl: string): string[] {
  const clientV4 = `/client/v4/accounts/${FAKE_ACCOUNT_ID}/realtime/kit/${FAKE_APP_ID}`;
  const lines: Line[] = [
    ...ROUTES.map((route) => ({
      route: route.name,
      method: route.method,
      path: samplePath(route.path),
      note: route.summary,
    })),
    { route: "active-session", method: "GET", path: "/meetings/qwerty-asdfgh/active-session", note: "a V1 room name" },
    {
      route: "active-session",
      method: "GET",
      path: "/meetings/0d4e6a8c-2b1f-4e3d-9c5b-7a6f8e9d0c1b/active-session",
      note: "no live session: 404",
    },
    { route: "sessions", method: "GET", path: "/sessions?per_page=0&status=live", note: "invalid: 400 naming both" },
    {
      route: "sessions",
      method: "GET",
      path: `${clientV4}/sessions?status=LIVE`,
      note: "the upstream-shaped path, as the cloudflare SDK calls it",
    },
  ];
  return lines.map((line) => curlLine(proxyUrl, line));
}
