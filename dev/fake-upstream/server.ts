/** @module Serves the fake upstream on a local port, in Node (used by `npm start` and the benchmark). */
import { type ServerType, serve } from "@hono/node-server";
import { createFakeUpstream } from "./app.ts";

export const FAKE_UPSTREAM_PATH = "/client/v4";

/** Starts the fake on 127.0.0.1:port (0 picks a free port); resolves with its base URL. */
export function startFakeUpstream(port: number): Promise<{ baseUrl: string; server: ServerType }> {
  const fake = createFakeUpstream();
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: fake.fetch, port, hostname: "127.0.0.1" }, (info) => {
      resolve({ baseUrl: `http://127.0.0.1:${info.port}${FAKE_UPSTREAM_PATH}`, server });
    });
    server.once("error", reject);
  });
}
