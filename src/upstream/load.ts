/**
 * @module Loading one read from the upstream through the budget: every attempt (each
 * page of a list included) is paid for by a permit asked for as the load's demand, and
 * an upstream 404 is an answer like any other (a meeting with no live session).
 */
import { type Allowance, allowancesOf, type Demand, PROXY_QUOTA_PREFIX } from "../budget/gate.ts";
import { type GateClient, gatePermits } from "../budget/permits.ts";
import type { DirectCallThrottle } from "../budget/refusals.ts";
import { ApiError } from "../errors.ts";
import { createUpstreamHttp, type UpstreamSuccess, type UpstreamTrace } from "./http.ts";
import { getEveryPage } from "./paging.ts";
import type { UpstreamRequest, UpstreamSettings } from "./request.ts";
import { withoutFields } from "./withheld.ts";

/** The further pages of a load the budget already let begin: the deployment's spend, no caller's. */
const LATER_PAGES_QUOTA_KEY = `${PROXY_QUOTA_PREFIX}later-pages`;

/** What a read asks of the upstream, and whom and what its spend is counted against. */
export interface LoadRequest {
  /** What the spend is counted under in `/status`: the route's name, or the index's. */
  label: string;
  /** The caller's quota key: `key:<id>`, `user:<id>` or `ip:<address or /64>`. */
  quotaKey: string;
  /** The caller's own upstream share (a managed key's), in place of CALLER_MISS_BUDGET. */
  callerShare?: Allowance | null;
  upstream: UpstreamRequest;
  settings: UpstreamSettings;
  /** Fields of the answer's data never passed on (a meeting's recording and AI settings). */
  withheld?: readonly string[];
}

/**
 * The way to the upstream: the token, the deployment's budget gate, the throttle for
 * direct calls while the gate is down, and the clock. Every load and participant call
 * goes through one (gateway.ts makes the Worker's; `npm run sim` makes its own).
 */
export interface UpstreamGateway {
  token: string;
  gate: GateClient;
  /** Direct calls while the gate is unreachable, one a second per isolate. */
  throttle: DirectCallThrottle;
  now: () => number;
}

/** An upstream answer worth keeping: a 2xx success envelope or a 404, and when it was produced. */
export interface LoadedAnswer extends UpstreamSuccess {
  producedAt: number;
}

/** Loads the answer `request` describes; a 404 is kept as an answer. Throws ApiError. */
export async function loadThroughGate(
  gateway: UpstreamGateway,
  request: LoadRequest,
  demand: Demand,
  trace: UpstreamTrace,
): Promise<LoadedAnswer> {
  const { settings } = request;
  const upstream = createUpstreamHttp(settings, gateway.token);
  const permitsAt = (asked: Demand, quotaKey: string) =>
    gatePermits({
      gate: gateway.gate,
      request: {
        ...asked,
        quotaKey,
        route: request.label,
        ...allowancesOf(settings, quotaKey === request.quotaKey ? request.callerShare : undefined),
      },
      hasCopy: asked.priority === "refresh",
      throttle: gateway.throttle,
      now: gateway.now,
    });
  const firstPage = permitsAt(demand, request.quotaKey);
  // Once a load has begun, its further pages are paid for at once: were they refused (the
  // budget, or the share of whichever caller happened to start the load), the pages
  // already fetched would be permits spent for nothing. The caller's share paid for the start.
  const laterPages = permitsAt({ priority: "continuation", urgency: 1 }, LATER_PAGES_QUOTA_KEY);
  const { everyPage } = request.upstream;
  const get = (page: UpstreamRequest, pageNo = 1) => upstream.get(page, trace, pageNo === 1 ? firstPage : laterPages);
  try {
    const success = everyPage
      ? await getEveryPage({ ...request.upstream, everyPage }, get)
      : await get(request.upstream);
    return { ...success, body: withoutFields(success.body, request.withheld ?? []), producedAt: gateway.now() };
  } catch (error) {
    if (error instanceof ApiError && error.kind === "not_found") {
      return { status: 404, body: error.message, producedAt: gateway.now() };
    }
    throw error;
  }
}
