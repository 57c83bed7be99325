/**
 * @module The local ports `npm start`, `npm run example` and `npm run test:browser` use,
 * each changeable by an environment variable, and a check that one is free that says
 * which variable to change instead of a stack trace.
 */
import { createServer } from "node:net";

/** A port: the variable's value, else the default. */
function portOf(variable: string, fallback: number): number {
  const value = process.env[variable];
  if (value === undefined || value === "") return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`${variable}=${value} is not a port (1 to 65535)`);
    process.exit(2);
  }
  return port;
}

export const PORTS = {
  /** The proxy under wrangler dev. */
  proxy: { variable: "PORT", port: portOf("PORT", 8787) },
  /** The fake RealtimeKit upstream, and the local identity provider beside it. */
  upstream: { variable: "FAKE_UPSTREAM_PORT", port: portOf("FAKE_UPSTREAM_PORT", 8788) },
  /**
   * The example frontend's own origin. `npm start` allows it in CORS (ALLOWED_ORIGINS), so
   * give both commands the same EXAMPLE_PORT: `npm run example` says so when they differ.
   */
  example: { variable: "EXAMPLE_PORT", port: portOf("EXAMPLE_PORT", 5173) },
};

export const PROXY_URL = `http://localhost:${PORTS.proxy.port}`;
export const EXAMPLE_ORIGIN = `http://localhost:${PORTS.example.port}`;

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

/** Exits with a message naming the variable when a port is taken. */
export async function requireFree(...wanted: { variable: string; port: number }[]): Promise<void> {
  for (const { variable, port } of wanted) {
    if (await isFree(port)) continue;
    console.error(
      `port ${port} is already in use (by another npm start, perhaps). Stop what uses it, or choose another port: ${variable}=${port + 10} npm start`,
    );
    process.exit(1);
  }
}
