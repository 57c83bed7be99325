/**
 * @module `npm run sim`: a time-compressed replay of polling load against the proxy's
 * own budget gate, shared tier and data-centre tiers (the same modules the Worker
 * runs, with the clock injected), in front of the bundled fake upstream enforcing the
 * token's real allowance: 1,200 requests per 5 minutes, then a 5-minute lock-out.
 * Seeded: a rerun prints exactly the same table. Nothing leaves this process.
 */
import { createFakeUpstream } from "../dev/fake-upstream/app.ts";
import { FAKE_API_TOKEN, generatedMeetingId } from "../dev/fake-upstream/data.ts";
import { BudgetGate } from "../src/budget/gate.ts";
import { DirectCallThrottle, RefusalMemory } from "../src/budget/refusals.ts";
import type { StoredAnswer } from "../src/cache/answer.ts";
import { LocalTier } from "../src/cache/local-tier.ts";
import { LiveSessionsView } from "../src/cache-objects/live-index.ts";
import { entryLoaders } from "../src/cache-objects/loaders.ts";
import { SharedKey, type SharedRequest } from "../src/cache-objects/shared-key.ts";
import { ChangeFeed, type Coverage, type MeetingChange } from "../src/changes/feed.ts";
import type { Config } from "../src/config.ts";
import { ApiError } from "../src/errors.ts";
import { logger } from "../src/log.ts";
import { answerRead, type ReadServer } from "../src/reads/answer-read.ts";
import { PushedFreshness } from "../src/reads/pushed.ts";
import { type CacheOutcome, TieredCache } from "../src/reads/tiers.ts";
import { ttlSecondsOf } from "../src/routes/proxy.ts";
import { PROXIED_ROUTES } from "../src/routes/table.ts";
import { runtime } from "../src/runtime.ts";
import { newTrace } from "../src/upstream/http.ts";
import { upstreamSettings } from "../src/upstream/request.ts";
import { printEventScale, runEventScale, TOWN_HALL } from "./event-scale.ts";
import {
  busiestWindow,
  configFor,
  digestAtOnceForever,
  mapStore,
  nextTurn,
  percentile,
  START,
  seededRandom,
  wrapped,
} from "./support.ts";

const TICK_MS = 1_000;
const POLL_SECONDS = 5;
const SIM_MINUTES = Number(process.env.SIM_MINUTES ?? 30);

digestAtOnceForever();

type Source = Config["ACTIVE_SESSION_SOURCE"];

interface Shape {
  /** A short label for the table; the legend gives the whole description. */
  id: string;
  description: string;
  dataCentres: number;
  users: number;
  /** Meetings with a live session: their active session is a 200. */
  liveMeetings: number;
  /** Meetings without one yet: their pollers are told 404, "no live session". */
  idleMeetings: number;
  /** Random meeting ids per second from anonymous clients... */
  attackerPerSecond: number;
  /** ...each request from one of this many IPs. */
  attackerIps: number;
  /** One dashboard per data centre polling the live sessions list. */
  dashboards: boolean;
  /** Whether each user also polls its meeting's session list (else only its active session). */
  userLists: boolean;
  /** How meetings start and end during the run (people join and leave); none: they stay as they are. */
  changing?: Pace;
}

/** Meetings' sessions: how long each lasts, how far apart, and whether someone drops out and rejoins during it. */
interface Pace {
  sessionMinutes: [number, number];
  gapMinutes: [number, number];
  dropOut: boolean;
}

export interface Scenario extends Shape {
  source: Source;
  minutes: number;
  /** Whether RealtimeKit's webhooks reach the proxy (configured, and delivered at once). */
  webhooks: boolean;
}

/** Each shape runs with both sources of active-session answers, side by side. */
const bothSources = (shape: Shape): Scenario[] =>
  (["meeting", "live-sessions"] as const).map((source) => ({
    ...shape,
    source,
    minutes: SIM_MINUTES,
    webhooks: false,
  }));

const firstRelease = {
  dataCentres: 3,
  users: 60,
  liveMeetings: 6,
  idleMeetings: 3,
  dashboards: true,
  userLists: true,
};

const POLLING_LOAD: Shape[] = [
  {
    id: "A",
    description: "3 DCs, 60 users polling 6 live + 3 idle meetings and their lists, a dashboard per DC",
    ...firstRelease,
    attackerPerSecond: 0,
    attackerIps: 1,
  },
  {
    id: "B",
    description: "A + one anonymous client asking 5 random ids/s from one IP",
    ...firstRelease,
    attackerPerSecond: 5,
    attackerIps: 1,
  },
  {
    id: "C",
    description: "A + 5 random ids/s from 1,000 rotating IPs",
    ...firstRelease,
    attackerPerSecond: 5,
    attackerIps: 1_000,
  },
  {
    id: "D",
    description: "1 DC, 60 users polling 6 meetings not live yet + 4 random ids/s from rotating IPs",
    dataCentres: 1,
    users: 60,
    liveMeetings: 0,
    idleMeetings: 6,
    attackerPerSecond: 4,
    attackerIps: 1_000,
    dashboards: false,
    userLists: false,
  },
  {
    id: "E",
    description: "30 DCs, 1,000 users on 20 live + 10 idle meetings + 5 random ids/s from 1,000 IPs",
    dataCentres: 30,
    users: 1_000,
    liveMeetings: 20,
    idleMeetings: 10,
    attackerPerSecond: 5,
    attackerIps: 1_000,
    dashboards: true,
    userLists: true,
  },
  {
    id: "F",
    description: "300 DCs, 10,000 users on 100 live + 50 idle meetings + 20 random ids/s from 1,000 IPs",
    dataCentres: 300,
    users: 10_000,
    liveMeetings: 100,
    idleMeetings: 50,
    attackerPerSecond: 20,
    attackerIps: 1_000,
    dashboards: true,
    userLists: true,
  },
];

/** Many live meetings, each polled for its active session by two users every 5 s, in 30 data centres. */
const manyMeetings = (meetings: number): Shape => ({
  id: `M${meetings}`,
  description: `${meetings.toLocaleString("en")} live meetings, 2 users each, 30 DCs, active session only`,
  dataCentres: 30,
  users: meetings * 2,
  liveMeetings: meetings,
  idleMeetings: 0,
  attackerPerSecond: 0,
  attackerIps: 1,
  dashboards: false,
  userLists: false,
});

export const SCENARIOS: Scenario[] = POLLING_LOAD.flatMap(bothSources);
export const MANY_MEETINGS: Scenario[] = [10, 100, 1_000].map(manyMeetings).flatMap(bothSources);

/** 1,000 meetings that start and end, polled every 5 s: webhooks off and on, with each source. */
const busyMeetings: Shape = {
  ...manyMeetings(1_000),
  id: "W",
  description:
    "1,000 meetings, 2 users polling each, 30 DCs; sessions 20-60 min, 2-10 min apart; 2 people join as one starts, leave as it ends, and one drops out and rejoins once",
  changing: { sessionMinutes: [20, 60], gapMinutes: [2, 10], dropOut: true },
};
const calmMeetings: Shape = {
  ...busyMeetings,
  id: "Wcalm",
  description: "as W, with sessions 60-120 min, 5-15 min apart, and nobody dropping out",
  changing: { sessionMinutes: [60, 120], gapMinutes: [5, 15], dropOut: false },
};
export const WEBHOOKS: Scenario[] = [busyMeetings, calmMeetings].flatMap((shape) =>
  (["live-sessions", "meeting"] as const).flatMap((source) =>
    [false, true].map((webhooks) => ({ ...shape, source, webhooks, minutes: SIM_MINUTES })),
  ),
);

/** A random-looking (version 4) meeting id from the seeded generator. */
function seededUuid(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20)}`;
}

type Poll = { route: "active-session" | "sessions"; meeting?: string; query?: Record<string, string> };

interface Caller {
  quotaKey: string;
  dataCentre: number;
  polls: Poll[];
  nextAt: number;
  /** Which of its polls have had an answer, a 200 or a 404 (an error after that counts against the proxy). */
  answered: boolean[];
}

interface Tally {
  statuses: Map<number, number>;
  /** Errors a caller got on a poll that had already been answered: the goal is none. */
  errorsOnceAnswered: Map<number, number>;
  ages: number[];
}

/**
 * The deployment: one gate, one shared key per cache key, each data centre's tiers, and
 * (with webhooks) the change feed that tells keys of changes, and `announce`, which
 * delivers a change as an accepted webhook does (at once and in order: signatures and
 * the inbox are the tests' business).
 */
function deployment(config: Config, scenario: Scenario, clock: () => number) {
  const gate = new BudgetGate({ store: mapStore(), now: clock });
  const feed = new ChangeFeed(mapStore(), clock);
  const sharedKeys = new Map<string, SharedKey>();
  const gateway = { token: FAKE_API_TOKEN, gate, throttle: new DirectCallThrottle(), now: clock };
  const loaders = entryLoaders(gateway);
  const register = async (cacheKey: string, coverage: Coverage) => feed.register(cacheKey, coverage);
  const askShared = (request: SharedRequest) => {
    const shared = sharedKeys.get(request.cacheKey) ?? new SharedKey({ now: clock, register });
    sharedKeys.set(request.cacheKey, shared);
    return shared.answer(request, loaders);
  };
  async function announce(change: MeetingChange): Promise<void> {
    const notices = feed.changed(change);
    await Promise.all(notices.map((notice) => sharedKeys.get(notice.cacheKey)?.notice(notice, loaders)));
  }
  const centres: ReadServer[] = Array.from({ length: scenario.dataCentres }, () => ({
    liveSessions: new LiveSessionsView(),
    settings: upstreamSettings(config),
    source: config.ACTIVE_SESSION_SOURCE,
    pushed: scenario.webhooks
      ? new PushedFreshness({
          pushedTtlSeconds: config.PUSHED_TTL_SECONDS,
          lastChangeAt: async () => feed.lastChangeAt,
          now: clock,
        })
      : undefined,
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
  return { centres, announce };
}

function pollersOf(scenario: Scenario, random: () => number): Caller[] {
  const callers: Caller[] = [];
  const meetings = scenario.liveMeetings + scenario.idleMeetings;
  for (let i = 0; i < scenario.users; i++) {
    // Generated meetings below liveMeetings have a live session; the others have none.
    const meeting = generatedMeetingId(i % meetings);
    callers.push({
      quotaKey: `ip:user-${i}`,
      dataCentre: i % scenario.dataCentres,
      polls: [
        { route: "active-session", meeting },
        ...(scenario.userLists ? [{ route: "sessions" as const, query: { associated_id: meeting } }] : []),
      ],
      nextAt: START + Math.floor(random() * POLL_SECONDS * 1000),
      answered: [],
    });
  }
  if (scenario.dashboards) {
    for (let dc = 0; dc < scenario.dataCentres; dc++) {
      callers.push({
        quotaKey: `key:dashboard-${dc}`,
        dataCentre: dc,
        polls: [{ route: "sessions", query: { status: "LIVE", per_page: "100" } }],
        nextAt: START + Math.floor(random() * POLL_SECONDS * 1000),
        answered: [],
      });
    }
  }
  return callers;
}

export async function runScenario(scenario: Scenario) {
  // The Worker's log lines (refused background refreshes, mostly) would drown the table.
  logger.write = () => {};
  let now = START;
  const clock = () => now;
  const random = seededRandom(7);
  runtime.now = clock;
  runtime.random = seededRandom(11);
  // The simulated upstream answers at once: a real timer racing it (STALE_IF_SLOW_MS) would
  // only let the machine's load decide some answers, and a rerun would differ.
  runtime.within = async (promise) => ({ settled: true, value: await promise });
  const fake = createFakeUpstream({
    extraLiveMeetings: scenario.liveMeetings,
    allowance: { requests: 1_200, seconds: 300, lockoutSeconds: 300, now: clock },
  });
  // The upstream answers a turn of the event loop later, as a real one answers a round
  // trip later: a refresh in the background lands after the poll that began it is
  // answered (from the stale copy). Turns run in order, so a rerun is the same.
  globalThis.fetch = async (input, init) => {
    await nextTurn();
    return fake.fetch(new Request(input, init));
  };
  // Retries wait in virtual time, which stands still within a tick: a turn, not a timer.
  runtime.sleep = nextTurn;
  const config = configFor({ ACTIVE_SESSION_SOURCE: scenario.source });
  const { centres, announce } = deployment(config, scenario, clock);
  const callers = pollersOf(scenario, random);
  const steps = scenario.changing ? meetingSchedule(scenario, scenario.changing, seededRandom(13)) : [];
  const staleness = new Staleness(callers);
  let nextStep = 0;
  let changes = 0;
  let events = 0;
  const tallies = { polite: newTally(), attacker: newTally() };
  const background: Promise<unknown>[] = [];
  const waitUntil = (promise: Promise<unknown>) => void background.push(promise);

  async function poll(dataCentre: number, quotaKey: string, spec: Poll): Promise<CacheOutcome | ApiError> {
    const route = PROXIED_ROUTES.find((candidate) => candidate.name === spec.route);
    const centre = centres[dataCentre];
    if (!route || !centre) throw new Error(`no route ${spec.route} or data centre ${dataCentre}`);
    const request = {
      route,
      params: { meetingId: spec.meeting ?? "" },
      query: spec.query ?? {},
      ttlSeconds: ttlSecondsOf(config, route),
      quotaKey,
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
    for (; nextStep < steps.length && (steps[nextStep]?.at ?? end) <= now; nextStep++) {
      const step = steps[nextStep];
      if (!step) break;
      for (const change of takeStep(fake, step)) {
        events++;
        if (change.event === "meeting.started" || change.event === "meeting.ended") {
          changes++;
          staleness.changed(step.meeting, now);
        }
        // Delivered and taken in before the tick's polls, one after another: concurrent
        // deliveries would let the machine's thread pool (Web Crypto digests) order them,
        // and a rerun would differ.
        if (scenario.webhooks)
          await announce({ event: change.event, meetingId: step.meeting, sessionId: change.session.id });
      }
    }
    for (const caller of callers) {
      if (caller.nextAt > now) continue;
      let waitSeconds = POLL_SECONDS;
      for (const [index, spec] of caller.polls.entries()) {
        const result = await poll(caller.dataCentre, caller.quotaKey, spec);
        const status = result instanceof ApiError ? result.status : result.answer.status;
        count(tallies.polite.statuses, status);
        if (status === 200 || status === 404) caller.answered[index] = true;
        else if (caller.answered[index]) count(tallies.polite.errorsOnceAnswered, status);
        if (spec.meeting && !(result instanceof ApiError)) {
          staleness.observed(caller, stateOf(result.answer), fake.meetings.liveSession(spec.meeting)?.id ?? null, now);
        }
        if (result instanceof ApiError) {
          waitSeconds = Math.max(waitSeconds, result.retryAfter ?? 0);
        } else {
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
      const result = await poll(dc, ip, { route: "active-session", meeting: seededUuid(random) });
      count(tallies.attacker.statuses, result instanceof ApiError ? result.status : result.answer.status);
    }
    await Promise.all(background.splice(0));
  }
  const old = staleness.finish().sort((a, b) => a - b);
  return {
    ...report(scenario, fake.allowanceLog.arrivals, fake.allowanceLog.lockouts, tallies),
    changes: `${changes}/${events}`,
    old: `${percentile(old, 50)}/${percentile(old, 99)}`,
  };
}

/** A step of a meeting's life in the simulated hour: it starts or ends, someone joins or leaves. */
interface MeetingStep {
  at: number;
  meeting: string;
  action: "start" | "end" | "join" | "leave";
  person: string;
}

/**
 * Each meeting's sessions over the run, seeded by its pace: live at the start (somewhere
 * in its course), then a gap apart, each one session long; two people join as one starts and
 * leave as it ends, and (if the pace says so) one of them drops out and rejoins a minute
 * later, once a session.
 */
function meetingSchedule(scenario: Scenario, pace: Pace, random: () => number): MeetingStep[] {
  const end = START + scenario.minutes * 60_000;
  const minutes = ([min, max]: [number, number]) => Math.floor((min + random() * (max - min)) * 60_000);
  const steps: MeetingStep[] = [];
  for (let n = 0; n < scenario.liveMeetings; n++) {
    const meeting = generatedMeetingId(n);
    const step = (at: number, action: MeetingStep["action"], person = "") =>
      steps.push({ at, meeting, action, person });
    // The session live at the start is somewhere in its course.
    const length = minutes(pace.sessionMinutes);
    let sessionEnd = START + Math.floor(random() * length);
    let sessionStart = sessionEnd - length;
    while (sessionStart < end) {
      if (sessionStart >= START) {
        step(sessionStart, "start");
        step(sessionStart + 1_000, "join", "a");
        step(sessionStart + 1_500, "join", "b");
      }
      if (pace.dropOut) {
        const from = Math.max(START, sessionStart);
        const drop = from + Math.floor(random() * (sessionEnd - from) * 0.8);
        step(drop, "leave", "b");
        step(drop + 60_000, "join", "b");
      }
      step(sessionEnd - 1_500, "leave", "a");
      step(sessionEnd - 1_000, "leave", "b");
      step(sessionEnd, "end");
      sessionStart = sessionEnd + minutes(pace.gapMinutes);
      sessionEnd = sessionStart + minutes(pace.sessionMinutes);
    }
  }
  return steps.filter((step) => step.at < end).sort((a, b) => a.at - b.at);
}

/** Takes a step at the fake; the changes RealtimeKit would deliver as webhooks. */
function takeStep(fake: ReturnType<typeof createFakeUpstream>, { meeting, action, person }: MeetingStep) {
  if (action === "start") return fake.meetings.start(meeting);
  if (action === "end") return fake.meetings.end(meeting);
  if (action === "leave") return fake.meetings.leave(meeting, person);
  return fake.meetings.join(meeting, { id: person, customParticipantId: person, name: null });
}

/** The state an active-session answer shows: its live session's id, or none. */
function stateOf(answer: StoredAnswer): string | null {
  return answer.status === 200 ? (JSON.parse(answer.body) as { data: { id: string } }).data.id : null;
}

/**
 * How long after each start or end each poller of that meeting was still shown the old
 * state: the last poll answered with the old state, less the change's time (0 when the
 * poller never saw it).
 */
class Staleness {
  readonly #byMeeting = new Map<string, Caller[]>();
  readonly #pending = new Map<Caller, { since: number; lastOld: number }>();
  readonly #samples: number[] = [];

  constructor(callers: Caller[]) {
    for (const caller of callers) {
      const meeting = caller.polls.find((poll) => poll.route === "active-session")?.meeting;
      if (meeting) this.#byMeeting.set(meeting, [...(this.#byMeeting.get(meeting) ?? []), caller]);
    }
  }

  changed(meeting: string, at: number): void {
    for (const caller of this.#byMeeting.get(meeting) ?? []) {
      this.#close(caller);
      this.#pending.set(caller, { since: at, lastOld: at });
    }
  }

  observed(caller: Caller, shown: string | null, truth: string | null, at: number): void {
    const pending = this.#pending.get(caller);
    if (pending && shown !== truth) pending.lastOld = at;
  }

  /** Every sample, in seconds, once the run is over. */
  finish(): number[] {
    for (const caller of [...this.#pending.keys()]) this.#close(caller);
    return this.#samples;
  }

  #close(caller: Caller): void {
    const pending = this.#pending.get(caller);
    if (pending) this.#samples.push((pending.lastOld - pending.since) / 1000);
    this.#pending.delete(caller);
  }
}

function newTally(): Tally {
  return { statuses: new Map(), errorsOnceAnswered: new Map(), ages: [] };
}

function count(counts: Map<number, number>, status: number): void {
  counts.set(status, (counts.get(status) ?? 0) + 1);
}

/** The count of each status chosen, joined by slashes: `12495/2142`. */
function countsOf(counts: Map<number, number>, statuses: number[]): string {
  return statuses.map((status) => String(counts.get(status) ?? 0)).join("/");
}

/** The total of every status not listed, with the statuses in brackets: `0`, or `3120 (503)`. */
function othersOf(counts: Map<number, number>, listed: number[]): string {
  const others = [...counts].filter(([status]) => !listed.includes(status)).sort(([a], [b]) => a - b);
  const total = others.reduce((sum, [, n]) => sum + n, 0);
  return total ? `${total} (${others.map(([status]) => status).join(",")})` : "0";
}

function report(
  scenario: Scenario,
  arrivals: number[],
  lockouts: number,
  tallies: Record<"polite" | "attacker", Tally>,
) {
  const ages = tallies.polite.ages.sort((a, b) => a - b);
  return {
    id: scenario.id,
    source: scenario.source === "live-sessions" ? "index" : "meeting",
    hooks: scenario.webhooks ? "on" : "off",
    upstream: String(busiestWindow(arrivals)),
    lockouts: String(lockouts),
    answers: countsOf(tallies.polite.statuses, [200, 404]),
    errorsOnceAnswered: othersOf(tallies.polite.errorsOnceAnswered, []),
    errors: othersOf(tallies.polite.statuses, [200, 404]),
    attacker: scenario.attackerPerSecond ? countsOf(tallies.attacker.statuses, [404, 429, 503]) : "-",
    age: `${percentile(ages, 50)}/${percentile(ages, 99)}`,
  };
}

type Row = Awaited<ReturnType<typeof runScenario>>;

const COLUMNS: [keyof Row, string, string][] = [
  ["id", "id", "the scenario (legend below each table)"],
  ["source", "source", "active-session answers from the live-sessions index (the default), or per meeting"],
  ["hooks", "hooks", "RealtimeKit's webhooks: off, or on (every change delivered at once)"],
  ["upstream", "up/5m", "upstream requests in the busiest 5 minutes (budget 1,000; limit 1,200)"],
  ["lockouts", "lock", "lock-outs: the upstream refusing the token for 5 minutes"],
  ["answers", "200/404 answers", "polite callers' answers: 200, and 404 (no live session)"],
  ["errorsOnceAnswered", "err after", "errors on a poll already answered before (the goal: 0)"],
  ["errors", "err all", "every error polite callers got, cold starts included (statuses)"],
  ["attacker", "attack 404/429/503", "what the client asking random ids got"],
  ["age", "age p50/99", "seconds since the upstream produced the answers served"],
  ["changes", "changes", "meetings started or ended / all webhook events (joins and leaves too)"],
  ["old", "old p50/99", "seconds a poller was still shown the old state after a start or end"],
];

const POLLING_COLUMNS: (keyof Row)[] = [
  "id",
  "source",
  "upstream",
  "lockouts",
  "answers",
  "errorsOnceAnswered",
  "errors",
  "attacker",
  "age",
];
const WEBHOOK_COLUMNS: (keyof Row)[] = [
  "id",
  "source",
  "hooks",
  "upstream",
  "lockouts",
  "answers",
  "errorsOnceAnswered",
  "errors",
  "changes",
  "old",
];

/** Legend lines stay within a terminal's 100 columns, with the table's 8-column indent. */
const LEGEND_WIDTH = 92;

function printTable(title: string, scenarios: Scenario[], rows: Row[], keys: (keyof Row)[]): void {
  const columns = COLUMNS.filter(([key]) => keys.includes(key));
  const header = columns.map(([, label]) => label);
  const cells = rows.map((row) => columns.map(([key]) => row[key]));
  const widths = header.map((label, i) => Math.max(label.length, ...cells.map((line) => (line[i] ?? "").length)));
  const line = (values: string[]) => `| ${values.map((value, i) => value.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  const legend = [...new Map(scenarios.map((s) => [s.id, s.description]))].map(
    ([id, text]) => `  ${id.padEnd(5)} ${wrapped(text, LEGEND_WIDTH).join(`\n${" ".repeat(8)}`)}`,
  );
  console.log(
    [
      `\n${title}\n`,
      line(header),
      line(widths.map((width) => "-".repeat(width))),
      ...cells.map(line),
      "",
      ...legend,
    ].join("\n"),
  );
}

async function runAll(title: string, scenarios: Scenario[], columns = POLLING_COLUMNS): Promise<void> {
  const only = process.env.SIM_ONLY;
  const chosen = scenarios.filter((s) => !only || only.split(",").includes(s.id));
  const rows: Row[] = [];
  for (const scenario of chosen) {
    const started = performance.now();
    rows.push(await runScenario(scenario));
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const hooks = scenario.webhooks ? ", webhooks" : "";
    console.error(`simulated ${scenario.id} (${scenario.source}${hooks}) in ${seconds} s`);
  }
  if (rows.length) printTable(title, chosen, rows, columns);
}

console.log(
  `${SIM_MINUTES} virtual minutes a scenario; users poll every ${POLL_SECONDS} s (longer when max-age or\nRetry-After ask); the fake upstream allows 1,200 requests per 5 minutes, then locks out for 5.\n\nColumns:\n${COLUMNS.map(([, label, meaning]) => `  ${label.padEnd(19)} ${meaning}`).join("\n")}`,
);
await runAll("Polling load and attackers", SCENARIOS);
await runAll(
  "Many meetings: active sessions per meeting, or from the live-sessions index (the default)",
  MANY_MEETINGS,
);
await runAll(
  "Webhooks: 1,000 meetings that start and end, polled every 5 s, webhooks off and on",
  WEBHOOKS,
  WEBHOOK_COLUMNS,
);
if (!process.env.SIM_ONLY || process.env.SIM_ONLY.split(",").includes("J")) {
  const started = performance.now();
  const report = await runEventScale(TOWN_HALL);
  console.error(`simulated J (the event) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  printEventScale(TOWN_HALL, report);
}
