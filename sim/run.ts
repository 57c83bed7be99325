/**
 * @module `npm run sim`: a time-compressed replay of polling load against the proxy's
 * own budget gate, shared tier and data-centre tiers (the same modules the Worker
 * runs, with the clock injected), in front of the bundled fake upstream enforcing the
 * token's real allowance: 1,200 requests per 5 minutes, then a 5-minute lock-out.
 * Each scenario prints upstream spend per 5 minutes, lock-outs, callers' answers by
 * status and the age of the answers served. Nothing leaves this process.
 */
import { createFakeUpstream } from "../dev/fake-upstream/app.ts";
import { FAKE_ACCOUNT_ID, FAKE_API_TOKEN, FAKE_APP_ID, generatedMeetingId } from "../dev/fake-upstream/data.ts";
import { BudgetGate, type GateStore } from "../src/budget/gate.ts";
import { DirectCallThrottle, RefusalMemory } from "../src/budget/refusals.ts";
import { toStoredAnswer } from "../src/cache/answer.ts";
import { LocalTier } from "../src/cache/local-tier.ts";
import { SharedKey, type SharedRequest } from "../src/cache/shared-key.ts";
import { type CacheOutcome, TieredCache } from "../src/cache/tiers.ts";
import { parseConfig } from "../src/config.ts";
import { ApiError } from "../src/errors.ts";
import { logger } from "../src/log.ts";
import { answerRead } from "../src/reads/answer-read.ts";
import { LiveSessionsView } from "../src/reads/live-index.ts";
import { PROXIED_ROUTES, ROUTE_CATALOG } from "../src/routes/table.ts";
import { runtime } from "../src/runtime.ts";
import { newTrace } from "../src/upstream/http.ts";
import { loadThroughGate } from "../src/upstream/load.ts";
import { upstreamSettings } from "../src/upstream/request.ts";

const WINDOW_MS = 300_000;
const TICK_MS = 1_000;

export interface Scenario {
  name: string;
  dataCentres: number;
  users: number;
  meetings: number;
  /** Random meeting ids per second from anonymous clients... */
  attackerPerSecond: number;
  /** ...each request from one of this many IPs. */
  attackerIps: number;
  /** One dashboard per data centre polling the live sessions list. */
  dashboards: boolean;
  /** Whether each user also polls its meeting's session list (else only its active session). */
  userLists: boolean;
  source: "meeting" | "live-sessions";
  minutes: number;
}

const SIM_MINUTES = Number(process.env.SIM_MINUTES ?? 30);

type Shape = Omit<Scenario, "name" | "dashboards" | "userLists" | "source" | "minutes">;

/** Each scenario runs with both sources of active-session answers, side by side. */
const scenario = (name: string, shape: Shape): Scenario[] =>
  (["meeting", "live-sessions"] as const).map((source) => ({
    name,
    ...shape,
    dashboards: true,
    userLists: true,
    source,
    minutes: SIM_MINUTES,
  }));

/** Many live meetings, each polled for its active session by two users every 5 s, in 30 data centres. */
const manyMeetings = (meetings: number): Scenario[] =>
  (["meeting", "live-sessions"] as const).map((source) => ({
    name: `${meetings.toLocaleString("en")} live meetings, 2 users each, 30 DCs (active session only)`,
    dataCentres: 30,
    users: meetings * 2,
    meetings,
    attackerPerSecond: 0,
    attackerIps: 1,
    dashboards: false,
    userLists: false,
    source,
    minutes: SIM_MINUTES,
  }));

export const MANY_MEETINGS: Scenario[] = [10, 100, 1_000].flatMap(manyMeetings);

export const SCENARIOS: Scenario[] = [
  scenario("the first release's test: 3 DCs x 60 users x 6 meetings + dashboards", {
    dataCentres: 3,
    users: 60,
    meetings: 6,
    attackerPerSecond: 0,
    attackerIps: 1,
  }),
  scenario("the same + one anonymous client asking 5 random ids/s from one IP", {
    dataCentres: 3,
    users: 60,
    meetings: 6,
    attackerPerSecond: 5,
    attackerIps: 1,
  }),
  scenario("the same + 5 random ids/s from 1,000 rotating IPs", {
    dataCentres: 3,
    users: 60,
    meetings: 6,
    attackerPerSecond: 5,
    attackerIps: 1_000,
  }),
  scenario("30 DCs x 1,000 users x 20 meetings + 5 random ids/s from 1,000 IPs", {
    dataCentres: 30,
    users: 1_000,
    meetings: 20,
    attackerPerSecond: 5,
    attackerIps: 1_000,
  }),
  scenario("300 DCs x 10,000 users x 100 meetings + 20 random ids/s from 1,000 IPs", {
    dataCentres: 300,
    users: 10_000,
    meetings: 100,
    attackerPerSecond: 20,
    attackerIps: 1_000,
  }),
].flat();

/** A deterministic generator, so every run replays the same day. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

function mapStore(): GateStore {
  const entries = new Map<string, unknown>();
  return {
    get: <T>(key: string) => entries.get(key) as T | undefined,
    put: (key, value) => void entries.set(key, value),
    delete: (key) => entries.delete(key),
    list: <T>({ prefix }: { prefix: string }) =>
      [...entries].filter(([key]) => key.startsWith(prefix)) as [string, T][],
  };
}

type Poll = { route: "active-session" | "sessions"; meeting?: string; query?: Record<string, string> };

interface Caller {
  id: string;
  dataCentre: number;
  polite: boolean;
  polls: Poll[];
  /** Seconds between polls at least (the caller also honours max-age and Retry-After). */
  everySeconds: number;
  nextAt: number;
  /** Which of its polls have had an answer (an error after that counts against the proxy). */
  answered: boolean[];
}

interface Tally {
  statuses: Map<number, number>;
  politeErrorsAfterAnswer: number;
  ages: number[];
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

export async function runScenario(scenario: Scenario) {
  // The Worker's log lines (refused background refreshes, mostly) would drown the table.
  logger.write = () => {};
  let now = Date.UTC(2026, 10, 30, 8, 0, 0);
  const clock = () => now;
  runtime.now = clock;
  const fake = createFakeUpstream({
    extraLiveMeetings: scenario.meetings,
    allowance: { requests: 1_200, seconds: 300, lockoutSeconds: 300, now: clock },
  });
  globalThis.fetch = async (input, init) => fake.fetch(new Request(input, init));

  const parsed = parseConfig(
    {
      CLOUDFLARE_API_TOKEN: FAKE_API_TOKEN,
      CLOUDFLARE_ACCOUNT_ID: FAKE_ACCOUNT_ID,
      REALTIMEKIT_APP_ID: FAKE_APP_ID,
      CLOUDFLARE_API_BASE_URL: "http://127.0.0.1:9/client/v4",
      ACTIVE_SESSION_SOURCE: scenario.source,
      PUBLIC_RATE_LIMITER: { limit: async () => ({ success: true }) },
      KEYED_RATE_LIMITER: { limit: async () => ({ success: true }) },
      BUDGET_GATE: { idFromName: () => ({}), get: () => ({}) },
      SHARED_CACHE: { idFromName: () => ({}), get: () => ({}) },
    },
    ROUTE_CATALOG,
  );
  if (!parsed.ok) throw new Error(parsed.problem);
  const config = parsed.config;
  const settings = upstreamSettings(config);

  // The deployment: one gate, one shared object per key, and each data centre's tiers.
  const gate = new BudgetGate({ store: mapStore(), now: clock });
  const sharedKeys = new Map<string, SharedKey>();
  const access = { token: FAKE_API_TOKEN, gate, throttle: new DirectCallThrottle(), now: clock };
  const askShared = (request: SharedRequest) => {
    const shared = sharedKeys.get(request.key) ?? new SharedKey(clock);
    sharedKeys.set(request.key, shared);
    return shared.answer(request, async (demand, trace) =>
      toStoredAnswer(await loadThroughGate(access, request, demand, trace)),
    );
  };
  const centres = Array.from({ length: scenario.dataCentres }, () => ({
    liveSessions: new LiveSessionsView(),
    settings,
    source: scenario.source,
    tiers: new TieredCache({
      local: new LocalTier(undefined, clock),
      askShared,
      whenSharedDown: () => Promise.reject(new Error("the simulation's shared tier never fails")),
      windows: {
        staleWhileRevalidateSeconds: config.STALE_WHILE_REVALIDATE_SECONDS,
        staleIfErrorSeconds: config.STALE_IF_ERROR_SECONDS,
        staleIfSlowMs: config.STALE_IF_SLOW_MS,
      },
      refusals: new RefusalMemory(),
      now: clock,
    }),
  }));

  const random = seededRandom(7);
  const callers: Caller[] = [];
  for (let i = 0; i < scenario.users; i++) {
    const meeting = generatedMeetingId(i % scenario.meetings);
    callers.push({
      id: `ip:user-${i}`,
      dataCentre: i % scenario.dataCentres,
      polite: true,
      polls: [
        { route: "active-session", meeting },
        ...(scenario.userLists ? [{ route: "sessions" as const, query: { associated_id: meeting } }] : []),
      ],
      everySeconds: 5,
      nextAt: now + Math.floor(random() * 5_000),
      answered: [],
    });
  }
  if (scenario.dashboards) {
    for (let dc = 0; dc < scenario.dataCentres; dc++) {
      callers.push({
        id: `key:dashboard-${dc}`,
        dataCentre: dc,
        polite: true,
        polls: [{ route: "sessions", query: { status: "LIVE", per_page: "100" } }],
        everySeconds: 5,
        nextAt: now + Math.floor(random() * 5_000),
        answered: [],
      });
    }
  }

  const tallies = { polite: newTally(), attacker: newTally() };
  const background: Promise<unknown>[] = [];
  const waitUntil = (promise: Promise<unknown>) => void background.push(promise);

  async function poll(dataCentre: number, callerId: string, spec: Poll): Promise<CacheOutcome | ApiError> {
    const [route] = PROXIED_ROUTES.filter((candidate) => candidate.name === spec.route);
    const centre = centres[dataCentre];
    if (!route || !centre) throw new Error(`no route ${spec.route} or data centre ${dataCentre}`);
    const request = {
      route,
      params: { meetingId: spec.meeting ?? "" },
      query: spec.query ?? {},
      ttlSeconds: config[route.cacheTtl],
      quotaKey: callerId,
    };
    try {
      return await answerRead(centre, request, newTrace(), waitUntil);
    } catch (error) {
      if (error instanceof ApiError) return error;
      throw error;
    }
  }

  const end = now + scenario.minutes * 60_000;
  let attackerCredit = 0;
  for (; now < end; now += TICK_MS) {
    for (const caller of callers) {
      if (caller.nextAt > now) continue;
      let waitSeconds = caller.everySeconds;
      for (const [index, spec] of caller.polls.entries()) {
        const result = await poll(caller.dataCentre, caller.id, spec);
        const status = result instanceof ApiError ? result.status : result.answer.status;
        count(tallies.polite, status);
        if (result instanceof ApiError) {
          if (caller.answered[index] && result.status !== 404) tallies.polite.politeErrorsAfterAnswer++;
          waitSeconds = Math.max(waitSeconds, result.retryAfter ?? 0);
        } else {
          caller.answered[index] = true;
          tallies.polite.ages.push(result.ageSeconds);
          waitSeconds = Math.max(waitSeconds, result.freshSecondsLeft);
        }
      }
      caller.nextAt = now + waitSeconds * 1000;
    }
    attackerCredit += scenario.attackerPerSecond;
    for (; attackerCredit >= 1; attackerCredit--) {
      const ip = `ip:attacker-${Math.floor(random() * scenario.attackerIps)}`;
      const dc = Math.floor(random() * scenario.dataCentres);
      const result = await poll(dc, ip, { route: "active-session", meeting: crypto.randomUUID() });
      count(tallies.attacker, result instanceof ApiError ? result.status : result.answer.status);
    }
    await Promise.all(background.splice(0));
  }
  return report(scenario, fake.allowanceLog.arrivals, fake.allowanceLog.lockouts, tallies);
}

function newTally(): Tally {
  return { statuses: new Map(), politeErrorsAfterAnswer: 0, ages: [] };
}

function count(tally: Tally, status: number): void {
  tally.statuses.set(status, (tally.statuses.get(status) ?? 0) + 1);
}

/** The most requests any 5-minute window saw (sliding), and the mean per 5 minutes. */
function spendPerWindow(arrivals: number[], minutes: number) {
  let max = 0;
  for (let i = 0, j = 0; i < arrivals.length; i++) {
    while ((arrivals[i] ?? 0) - (arrivals[j] ?? 0) >= WINDOW_MS) j++;
    max = Math.max(max, i - j + 1);
  }
  return { max, mean: Math.round((arrivals.length / minutes) * 5) };
}

function formatStatuses(statuses: Map<number, number>): string {
  return (
    [...statuses]
      .sort(([a], [b]) => a - b)
      .map(([status, n]) => `${status}: ${n}`)
      .join(", ") || "none"
  );
}

function report(scenario: Scenario, arrivals: number[], lockouts: number, tallies: Record<string, Tally>) {
  const spend = spendPerWindow(arrivals, scenario.minutes);
  const ages = (tallies.polite?.ages ?? []).sort((a, b) => a - b);
  return {
    scenario: scenario.name,
    source: scenario.source,
    upstreamPer5MinMax: spend.max,
    upstreamPer5MinMean: spend.mean,
    lockouts,
    polite: formatStatuses(tallies.polite?.statuses ?? new Map()),
    politeErrorsOnceAnswered: tallies.polite?.politeErrorsAfterAnswer ?? 0,
    attacker: formatStatuses(tallies.attacker?.statuses ?? new Map()),
    ageP50: percentile(ages, 50),
    ageP99: percentile(ages, 99),
  };
}

function printTable(title: string, rows: Awaited<ReturnType<typeof runScenario>>[]): void {
  const lines = [
    `\n${title}\n`,
    "| scenario | active-session source | upstream / 5 min (max, mean) | lock-outs | polite callers' answers | polite errors once answered | attacker's answers | answer age p50 / p99 (s) |",
    "|---|---|---|---|---|---|---|---|",
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.source} | ${r.upstreamPer5MinMax}, ${r.upstreamPer5MinMean} | ${r.lockouts} | ${r.polite} | ${r.politeErrorsOnceAnswered} | ${r.attacker} | ${r.ageP50} / ${r.ageP99} |`,
    ),
  ];
  console.log(lines.join("\n"));
}

async function runAll(title: string, scenarios: Scenario[]): Promise<void> {
  const only = process.env.SIM_ONLY;
  const rows = [];
  for (const scenario of scenarios.filter((s) => !only || s.name.includes(only))) {
    const started = performance.now();
    rows.push(await runScenario(scenario));
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.error(`simulated "${scenario.name}" (${scenario.source}) in ${seconds} s`);
  }
  if (rows.length) printTable(title, rows);
}

console.log(
  `${SIM_MINUTES} virtual minutes a scenario; the fake upstream allows 1,200 requests per 5 minutes, then locks out for 5.`,
);
await runAll("Polling load and attackers", SCENARIOS);
await runAll("Many meetings: active sessions per meeting, or from the live-sessions index", MANY_MEETINGS);
