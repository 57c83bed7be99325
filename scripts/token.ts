/**
 * @module `npm run token -- --sub <id> [--role <role>] [--name <name>] [--meetings <id,id>] [--expires-in <s>]`:
 * a user token from the local identity provider that `npm start` runs beside the fake
 * upstream, for trying `POST /meetings/:meetingId/join`. Prints only the token.
 */
import { LOCAL_SIGN_IN } from "../dev/fake-upstream/identity.ts";
import { PORTS } from "../dev/ports.ts";

function usage(message: string): never {
  console.error(
    `${message}\nusage: npm run token -- --sub <user id> [--role host] [--name "Ada"] [--meetings <id,id>] [--expires-in 3600]`,
  );
  process.exit(2);
}

const args = process.argv.slice(2);
const claims: Record<string, unknown> = {};
let expiresIn: number | undefined;
for (let i = 0; i < args.length; i += 2) {
  const [flag, value] = [args[i], args[i + 1]];
  if (value === undefined) usage(`${flag} needs a value`);
  if (flag === "--sub") claims.sub = value;
  else if (flag === "--role") claims.role = value;
  else if (flag === "--name") claims.name = value;
  else if (flag === "--meetings") claims.meetings = value.split(",");
  else if (flag === "--expires-in") expiresIn = Number(value);
  else usage(`unknown option ${flag}`);
}
if (typeof claims.sub !== "string") usage("give the user's id: --sub alice");

const url = `http://127.0.0.1:${PORTS.upstream.port}${LOCAL_SIGN_IN.tokenPath}`;
try {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ ...claims, expiresIn }),
  });
  const answer = (await response.json()) as { token?: string; error?: string };
  if (!answer.token) usage(`the identity provider refused: ${answer.error ?? response.status}`);
  console.log(answer.token);
} catch {
  usage(`no identity provider on ${url}: is npm start running (FAKE_UPSTREAM_PORT ${PORTS.upstream.port})?`);
}
