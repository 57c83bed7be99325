/** @module CORS for browsers on the listed origins: exact origins only, errors readable too. */
import { cors } from "hono/cors";

const CORS_EXPOSED_HEADERS = ["X-Request-Id", "Cache-Status", "Age", "ETag", "Retry-After", "X-Should-Retry"];
const CORS_ALLOWED_HEADERS = [
  "Authorization",
  "If-None-Match",
  "X-Request-Id",
  "Content-Type",
  // What the official `cloudflare` SDK sends with every request.
  "api-version",
  "X-Stainless-Arch",
  "X-Stainless-Lang",
  "X-Stainless-OS",
  "X-Stainless-Package-Version",
  "X-Stainless-Retry-Count",
  "X-Stainless-Runtime",
  "X-Stainless-Runtime-Version",
  "X-Stainless-Timeout",
];

/** `hono/cors` for exactly these origins and the methods the route table answers. */
export function corsFor(allowedOrigins: readonly string[], methods: readonly string[]) {
  return cors({
    origin: (origin) => (allowedOrigins.includes(origin) ? origin : null),
    allowMethods: [...methods],
    allowHeaders: CORS_ALLOWED_HEADERS,
    exposeHeaders: CORS_EXPOSED_HEADERS,
    maxAge: 600,
  });
}
