import { describe, expect, it } from "vitest";
import { getEveryPage } from "../../src/upstream/paging.ts";
import type { UpstreamRequest } from "../../src/upstream/request.ts";

/** An upstream list of `total` sessions, `per_page` a page, whose paging reports `end_offset` as told. */
function listOf(total: number, endOffset: "exclusive" | "inclusive" | "absent") {
  const asked: string[] = [];
  const getPage = async (page: UpstreamRequest) => {
    asked.push(page.query);
    const query = new URLSearchParams(page.query);
    const perPage = Number(query.get("per_page"));
    const start = (Number(query.get("page_no")) - 1) * perPage;
    const sessions = Array.from({ length: Math.max(0, Math.min(perPage, total - start)) }, (_, i) => ({
      id: `s-${start + i}`,
    }));
    const end = endOffset === "inclusive" ? start + sessions.length - 1 : start + sessions.length;
    const paging = endOffset === "absent" ? undefined : { start_offset: start, end_offset: end, total_count: total };
    return { status: 200, body: JSON.stringify({ success: true, data: { sessions }, paging }) };
  };
  return { asked, getPage };
}

describe("every page of a list", () => {
  it.each(["exclusive", "inclusive", "absent"] as const)(
    "a short page ends it, whatever paging says (end_offset %s): 250 sessions are 3 requests",
    async (endOffset) => {
      const { asked, getPage } = listOf(250, endOffset);
      const merged = await getEveryPage({ path: "/sessions", query: "status=LIVE", everyPage: 100 }, getPage);
      expect(asked).toEqual([
        "status=LIVE&page_no=1&per_page=100",
        "status=LIVE&page_no=2&per_page=100",
        "status=LIVE&page_no=3&per_page=100",
      ]);
      expect(JSON.parse(merged.body).data.sessions).toHaveLength(250);
    },
  );

  it("full pages up to total_count end it too, without asking for an empty page", async () => {
    const { asked, getPage } = listOf(200, "inclusive");
    await getEveryPage({ path: "/sessions", query: "", everyPage: 100 }, getPage);
    expect(asked).toHaveLength(2);
  });

  it("without paging, full pages go on until a short (or empty) one", async () => {
    const { asked, getPage } = listOf(200, "absent");
    await getEveryPage({ path: "/sessions", query: "", everyPage: 100 }, getPage);
    expect(asked).toHaveLength(3);
  });
});
