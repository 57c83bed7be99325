/**
 * The benchmark's baseline: a bare, hand-written Worker (no framework, no validation,
 * no stale serving) that forwards the same two routes with the token and caches
 * /sessions in caches.default for the same TTL. What a team might write in an hour.
 * When the benchmark binds RATE_LIMITER, it also makes the proxy's one rate-limit call
 * per request, so the two can be compared doing the same platform work.
 */
interface BareEnv {
  CLOUDFLARE_API_TOKEN: string;
  CLOUDFLARE_ACCOUNT_ID: string;
  REALTIMEKIT_APP_ID: string;
  CLOUDFLARE_API_BASE_URL: string;
  RATE_LIMITER?: RateLimit;
}

const TTL_SECONDS = 10;

export default {
  async fetch(request: Request, env: BareEnv, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    if (env.RATE_LIMITER) {
      const { success } = await env.RATE_LIMITER.limit({ key: request.headers.get("CF-Connecting-IP") ?? "unknown" });
      if (!success) return new Response("rate limited", { status: 429 });
    }
    const base = `${env.CLOUDFLARE_API_BASE_URL}/accounts/${env.CLOUDFLARE_ACCOUNT_ID}/realtime/kit/${env.REALTIMEKIT_APP_ID}`;
    const headers = { Authorization: `Bearer ${env.CLOUDFLARE_API_TOKEN}`, Accept: "application/json" };
    const meeting = url.pathname.match(/^\/meetings\/([^/]+)\/active-session$/);
    if (meeting) {
      const upstream = await fetch(`${base}/meetings/${meeting[1]}/active-session`, { headers });
      return new Response(upstream.body, { status: upstream.status, headers: { "Content-Type": "application/json" } });
    }
    if (url.pathname !== "/sessions") return new Response("not found", { status: 404 });
    const key = `https://bare.cache/sessions${url.search}`;
    const cached = await caches.default.match(key);
    if (cached) return cached;
    const upstream = await fetch(`${base}/sessions${url.search}`, { headers });
    const body = await upstream.text();
    const response = new Response(body, {
      status: upstream.status,
      headers: { "Content-Type": "application/json", "Cache-Control": `max-age=${TTL_SECONDS}` },
    });
    if (upstream.status === 200) ctx.waitUntil(caches.default.put(key, response.clone()));
    return response;
  },
};
