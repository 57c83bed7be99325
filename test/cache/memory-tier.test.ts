import { describe, expect, it } from "vitest";
import { MemoryTier } from "../../src/cache/memory-tier.ts";

const tier = (maxBytes: number) => new MemoryTier<string>(maxBytes, (_key, value) => value.length);

describe("MemoryTier", () => {
  it("keeps entries while they fit in the byte budget", () => {
    const memory = tier(10);
    memory.set("a", "12345");
    memory.set("b", "12345");
    expect(memory.get("a")).toBe("12345");
    expect(memory.get("b")).toBe("12345");
    expect(memory.bytes).toBe(10);
  });

  it("evicts the least recently used first when over budget", () => {
    const memory = tier(10);
    memory.set("a", "12345");
    memory.set("b", "12345");
    memory.get("a");
    memory.set("c", "12345");
    expect(memory.get("b")).toBeUndefined();
    expect(memory.get("a")).toBe("12345");
    expect(memory.get("c")).toBe("12345");
    expect(memory.bytes).toBe(10);
  });

  it("replacing a key counts its bytes once", () => {
    const memory = tier(10);
    memory.set("a", "1234");
    memory.set("a", "123456");
    expect(memory.bytes).toBe(6);
    expect(memory.size).toBe(1);
  });

  it("never holds a value larger than the whole budget", () => {
    const memory = tier(4);
    memory.set("small", "1234");
    memory.set("big", "12345");
    expect(memory.get("big")).toBeUndefined();
    expect(memory.get("small")).toBe("1234");
  });

  it("delete frees the bytes", () => {
    const memory = tier(10);
    memory.set("a", "12345");
    memory.delete("a");
    expect(memory.bytes).toBe(0);
    expect(memory.get("a")).toBeUndefined();
  });
});
