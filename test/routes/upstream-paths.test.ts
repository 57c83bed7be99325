import { describe, expect, it } from "vitest";
import { FAKE_ACCOUNT_ID, FAKE_APP_ID } from "../../dev/fake-upstream/data.ts";
import {
  callProxy,
  errorBody,
  IDLE_V2_MEETING,
  LIVE_V1_MEETING,
  uncachedSessionsPath,
  useFakeClock,
  useFakeUpstream,
} from "../support/proxy.ts";

const APP_PATH = `/client/v4/accounts/${FAKE_ACCOUNT_ID}/realtime/kit/${FAKE_APP_ID}`;

describe("every proxied route at its upstream-shaped path", () => {
  it.each([
    [`/meetings/${LIVE_V1_MEETING}/active-session`],
    [`/meetings/${IDLE_V2_MEETING}/active-session`],
    ["/sessions?status=LIVE&per_page=2"],
    ["/sessions/5e551011-0000-4000-8000-000000000001?include_breakout_rooms=true"],
    ["/sessions/5e551011-0000-4000-8000-000000000001/participants?view=consolidated"],
  ])("%s: the same answer from the same cache entry as the short path", async (path) => {
    useFakeClock();
    const fake = useFakeUpstream();
    const short = await callProxy(path);
    const upstreamShaped = await callProxy(`${APP_PATH}${path}`);
    expect(upstreamShaped.status).toBe(short.status);
    expect(await upstreamShaped.text()).toBe(await short.text());
    expect(upstreamShaped.headers.get("Cache-Status")).toMatch(/^realtimekit-proxy; hit; /);
    expect(fake.requests).toHaveLength(1);
  });

  it.each([
    ["another account", `/client/v4/accounts/ffffffffffffffffffffffffffffffff/realtime/kit/${FAKE_APP_ID}/sessions`],
    [
      "another app",
      `/client/v4/accounts/${FAKE_ACCOUNT_ID}/realtime/kit/00000000-0000-4000-8000-000000000000/sessions`,
    ],
  ])("%s is a 404 in the envelope, without the upstream", async (_, path) => {
    const fake = useFakeUpstream();
    const response = await callProxy(path);
    expect(response.status).toBe(404);
    expect(await errorBody(response)).toMatchObject({ success: false, error: { code: 404 } });
    expect(fake.requests).toHaveLength(0);
  });

  it("has the same validation: a 400 naming every problem, without the upstream", async () => {
    const fake = useFakeUpstream();
    const response = await callProxy(`${APP_PATH}/sessions?per_page=0&status=live`);
    expect(response.status).toBe(400);
    expect(await errorBody(response)).toMatchObject({
      error: { issues: [{ path: "per_page" }, { path: "status" }] },
    });
    expect(fake.requests).toHaveLength(0);
  });

  it("has the same access: a key with the route's scope", async () => {
    const fake = useFakeUpstream();
    const response = await callProxy(`${APP_PATH}${uncachedSessionsPath()}`, { anonymous: true });
    expect(response.status).toBe(401);
    expect(response.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
    expect(fake.requests).toHaveLength(0);
  });
});
