import { describe, expect, it } from "vitest";
import {
  IDEMPOTENCY_KEPT_MS,
  IdempotentWrite,
  type KeptStore,
  type WriteOutcome,
} from "../../src/writes/idempotency.ts";

function mapStore(): KeptStore {
  const entries = new Map<string, unknown>();
  return {
    get: <T>(key: string) => entries.get(key) as T | undefined,
    put: (key, value) => void entries.set(key, value),
    delete: (key) => entries.delete(key),
  };
}

const created = (id: string): WriteOutcome => ({
  status: 201,
  body: JSON.stringify({ success: true, data: { id } }),
  reachedUpstream: true,
});

/** A write that makes a new meeting each time it runs, counting its runs. */
function meetingMaker() {
  let runs = 0;
  return {
    get runs() {
      return runs;
    },
    write: async () => created(`meeting-${++runs}`),
  };
}

describe("a create made idempotent by its key", () => {
  it("runs once: a repeat with the same body gets the first outcome", async () => {
    const write = new IdempotentWrite(mapStore(), () => 0);
    const maker = meetingMaker();
    expect(await write.run("body-a", maker.write)).toEqual({ kind: "first", outcome: created("meeting-1") });
    expect(await write.run("body-a", maker.write)).toEqual({ kind: "repeat", outcome: created("meeting-1") });
    expect(maker.runs).toBe(1);
  });

  it("another body with the key is a conflict, kept or still running", async () => {
    const write = new IdempotentWrite(mapStore(), () => 0);
    let finish = (_outcome: WriteOutcome) => {};
    const running = write.run("body-a", () => new Promise((resolve) => (finish = resolve)));
    expect(await write.run("body-b", meetingMaker().write)).toEqual({ kind: "conflict" });
    finish(created("meeting-1"));
    await running;
    expect(await write.run("body-b", meetingMaker().write)).toEqual({ kind: "conflict" });
  });

  it("a repeat while the first runs waits for it and shares its outcome", async () => {
    const write = new IdempotentWrite(mapStore(), () => 0);
    const maker = meetingMaker();
    let finish = () => {};
    const gate = new Promise<void>((resolve) => (finish = resolve));
    const first = write.run("body-a", async () => {
      await gate;
      return maker.write();
    });
    const repeat = write.run("body-a", maker.write);
    finish();
    expect(await first).toEqual({ kind: "first", outcome: created("meeting-1") });
    expect(await repeat).toEqual({ kind: "repeat", outcome: created("meeting-1") });
    expect(maker.runs).toBe(1);
  });

  it("an outcome that never reached the upstream is not kept: the next request runs", async () => {
    const write = new IdempotentWrite(mapStore(), () => 0);
    const refused: WriteOutcome = { status: 503, body: "upstream budget exhausted", reachedUpstream: false };
    expect(await write.run("body-a", async () => refused)).toEqual({ kind: "first", outcome: refused });
    expect(write.expiresAt()).toBeUndefined();
    const maker = meetingMaker();
    expect(await write.run("body-a", maker.write)).toMatchObject({ kind: "first" });
    expect(maker.runs).toBe(1);
  });

  it("is kept 24 hours, from the first outcome; then the key is new again", async () => {
    let now = 5_000;
    const store = mapStore();
    const write = new IdempotentWrite(store, () => now);
    const maker = meetingMaker();
    await write.run("body-a", maker.write);
    expect(write.expiresAt()).toBe(5_000 + IDEMPOTENCY_KEPT_MS);
    now += IDEMPOTENCY_KEPT_MS - 1;
    expect(await write.run("body-a", maker.write)).toMatchObject({ kind: "repeat" });
    now += 1;
    expect(await write.run("body-b", maker.write)).toEqual({ kind: "first", outcome: created("meeting-2") });
    // Kept in storage, not in the object: a new object over the same storage still knows it.
    expect(await new IdempotentWrite(store, () => now).run("body-b", maker.write)).toMatchObject({ kind: "repeat" });
  });
});
