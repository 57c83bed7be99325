/** @module Serves the fake upstream on a local port, in Node (used by `npm start` and the benchmark). */
import { type ServerType, serve } from "@hono/node-server";
import { createFakeUpstream, type FakeUpstream } from "./app.ts";

export const FAKE_UPSTREAM_PATH = "/client/v4";

export interface RunningFakeUpstream {
  baseUrl: string;
  server: ServerType;
  fake: FakeUpstream;
}

/** Starts the fake on 127.0.0.1:port (0 picks a free port); resolves with its base URL. */
export function startFakeUpstream(port: number): Promise<RunningFakeUpstream> {
  const fake = createFakeUpstream();
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: fake.fetch, port, hostname: "127.0.0.1" }, (info) => {
      resolve({ baseUrl: `http://127.0.0.1:${info.port}${FAKE_UPSTREAM_PATH}`, server, fake });
    });
    server.once("error", reject);
  });
}
