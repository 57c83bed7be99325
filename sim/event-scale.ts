/**
 * @module `npm run sim`'s event: 2,000 signed-in users join one meeting within a minute
 * (a town hall starting), each retrying after the `Retry-After` it is told, then a fifth of
 * them reload the page two minutes after getting in. The meeting's participants logic and
 * the budget gate are the Worker's own (MeetingParticipants, BudgetGate and its joins'
 * share), calling the bundled fake upstream that enforces the token's real allowance.
 * Seeded: a rerun prints the same table.
 */
import { createFakeUpstream } from "../dev/fake-upstream/app.ts";
import { FAKE_API_TOKEN, generatedMeetingId } from "../dev/fake-upstream/data.ts";
import { BudgetGate } from "../src/budget/gate.ts";
import { DirectCallThrottle } from "../src/budget/refusals.ts";
import { ApiError } from "../src/errors.ts";
import { logger } from "../src/log.ts";
import { runtime } from "../src/runtime.ts";
import { newTrace } from "../src/upstream/http.ts";
import { participantCalls } from "../src/upstream/participants.ts";
import { upstreamSettings } from "../src/upstream/request.ts";
import { userParticipantId } from "../src/users/join.ts";
import { MeetingParticipants } from "../src/users/participants.ts";
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

export interface EventShape {
  users: number;
  /** Everyone's first join falls within this many seconds. */
  arrivalSeconds: number;
  /** Every n-th user reloads the page... */
  reloadEvery: number;
  /** ...this long after getting in. */
  reloadAfterSeconds: number;
  /** The longest the run goes on. */
  maxMinutes: number;
}

export const TOWN_HALL: EventShape = {
  users: 2_000,
  arrivalSeconds: 60,
  reloadEvery: 5,
  reloadAfterSeconds: 120,
  maxMinutes: 40,
};

interface Attendee {
  id: string;
  firstAt: number;
  nextAt: number;
  admittedAt?: number;
  reloadAt?: number;
  reloaded: boolean;
}

export interface EventReport {
  admittedPerMinute: number[];
  waitP50: number;
  waitP99: number;
  waitMax: number;
  admitted: number;
  users: number;
  busiestFiveMinutes: number;
  lockouts: number;
  refusals: Map<number, number>;
  reloads: number;
  reloadUpstreamCalls: number;
  reloadsAnswered: number;
  minutes: number;
}

export async function runEventScale(shape: EventShape): Promise<EventReport> {
  digestAtOnceForever();
  logger.write = () => {};
  let now = START;
  const clock = () => now;
  runtime.now = clock;
  runtime.random = seededRandom(17);
  runtime.sleep = nextTurn;
  const random = seededRandom(19);
  const fake = createFakeUpstream({
    extraLiveMeetings: 1,
    now: clock,
    allowance: { requests: 1_200, seconds: 300, lockoutSeconds: 300, now: clock },
  });
  globalThis.fetch = async (input, init) => {
    await nextTurn();
    return fake.fetch(new Request(input, init));
  };
  const config = configFor();
  const settings = upstreamSettings(config);
  const gateway = {
    token: FAKE_API_TOKEN,
    gate: new BudgetGate({ store: mapStore(), now: clock }),
    throttle: new DirectCallThrottle(),
    now: clock,
  };
  const meetingId = generatedMeetingId(0);
  const meeting = new MeetingParticipants(mapStore(), clock);
  const join = (attendee: Attendee) =>
    meeting.join(
      {
        meetingId,
        participant: {
          custom_participant_id: userParticipantId(attendee.id),
          preset_name: "group_call_participant",
          name: `Attendee ${attendee.id}`,
        },
        reuseSeconds: config.JOIN_TOKEN_REUSE_SECONDS,
      },
      (probe) => participantCalls({ gateway, settings, quotaKey: `user:${attendee.id}`, probe, trace: newTrace() }),
    );

  const attendees: Attendee[] = Array.from({ length: shape.users }, (_, n) => {
    const firstAt = START + Math.floor(random() * shape.arrivalSeconds * 1000);
    return { id: `attendee-${n}`, firstAt, nextAt: firstAt, reloaded: false };
  });
  const refusals = new Map<number, number>();
  let reloadUpstreamCalls = 0;
  let reloadsAnswered = 0;
  const end = START + shape.maxMinutes * 60_000;
  for (; now < end; now += 1_000) {
    const due = attendees.filter(
      (attendee) =>
        (attendee.admittedAt === undefined && attendee.nextAt <= now) ||
        (attendee.reloadAt !== undefined && !attendee.reloaded && attendee.reloadAt <= now),
    );
    for (const attendee of due) {
      const reloading = attendee.admittedAt !== undefined;
      const before = fake.requests.length;
      try {
        await join(attendee);
        if (reloading) {
          attendee.reloaded = true;
          reloadsAnswered++;
          reloadUpstreamCalls += fake.requests.length - before;
        } else {
          attendee.admittedAt = now;
          const reloads = Number(attendee.id.split("-")[1]) % shape.reloadEvery === 0;
          if (reloads) attendee.reloadAt = now + shape.reloadAfterSeconds * 1000;
        }
      } catch (error) {
        const status = error instanceof ApiError ? error.status : 500;
        refusals.set(status, (refusals.get(status) ?? 0) + 1);
        // As the browser client does: back after Retry-After, else in a few seconds.
        const retryAfter = error instanceof ApiError ? (error.retryAfter ?? 5) : 5;
        attendee.nextAt = now + retryAfter * 1000;
        if (reloading) attendee.reloadAt = attendee.nextAt;
      }
    }
    const finished = attendees.every(
      (attendee) => attendee.admittedAt !== undefined && (attendee.reloadAt === undefined || attendee.reloaded),
    );
    if (finished) break;
  }
  const waits = attendees
    .filter((attendee) => attendee.admittedAt !== undefined)
    .map((attendee) => Math.round(((attendee.admittedAt ?? 0) - attendee.firstAt) / 1000))
    .sort((a, b) => a - b);
  const minutes = Math.ceil((now - START) / 60_000);
  const admittedPerMinute = Array.from({ length: minutes }, (_, minute) =>
    attendees.filter(
      ({ admittedAt }) =>
        admittedAt !== undefined && admittedAt >= START + minute * 60_000 && admittedAt < START + (minute + 1) * 60_000,
    ),
  ).map((admitted) => admitted.length);
  return {
    admittedPerMinute,
    waitP50: percentile(waits, 50),
    waitP99: percentile(waits, 99),
    waitMax: waits[waits.length - 1] ?? 0,
    admitted: waits.length,
    users: shape.users,
    busiestFiveMinutes: busiestWindow(fake.allowanceLog.arrivals),
    lockouts: fake.allowanceLog.lockouts,
    refusals,
    reloads: attendees.filter((attendee) => attendee.reloadAt !== undefined).length,
    reloadUpstreamCalls,
    reloadsAnswered,
    minutes,
  };
}

/** The event's table: admitted per minute, then the waits, the upstream's view and the reloads. */
export function printEventScale(shape: EventShape, report: EventReport): void {
  const perMinute = report.admittedPerMinute
    .map((admitted, minute) => `| ${String(minute + 1).padStart(6)} | ${String(admitted).padStart(8)} |`)
    .join("\n");
  const refused = [...report.refusals]
    .sort(([a], [b]) => a - b)
    .map(([status, count]) => `${count.toLocaleString("en")} × ${status}`)
    .join(", ");
  console.log(
    [
      `\n${wrapped(
        `Event scale: ${shape.users.toLocaleString("en")} signed-in users join one meeting within ${shape.arrivalSeconds} s (each back after the Retry-After it is told), then every ${shape.reloadEvery}th reloads ${shape.reloadAfterSeconds} s after getting in. Default budget (UPSTREAM_BUDGET 1000/300, JOIN_BUDGET_SHARE 0.6).`,
        92,
      ).join("\n")}\n`,
      "| minute | admitted |",
      "| ------ | -------- |",
      perMinute,
      "",
      `  admitted:             ${report.admitted.toLocaleString("en")} of ${report.users.toLocaleString("en")} (no one locked out) in ${report.minutes} minutes`,
      `  wait to get in:       p50 ${report.waitP50} s, p99 ${report.waitP99} s, longest ${report.waitMax} s`,
      `  refused on the way:   ${refused || "none"} (each with its turn in Retry-After)`,
      `  upstream, busiest 5m: ${report.busiestFiveMinutes} requests (budget 1,000; the token's limit 1,200); lock-outs: ${report.lockouts}`,
      `  reloads:              ${report.reloadsAnswered} of ${report.reloads} answered, ${report.reloadUpstreamCalls} upstream calls (the token handed out before)`,
    ].join("\n"),
  );
}
