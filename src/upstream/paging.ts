/** @module Reading every page of an upstream list, merged into one success envelope. */
import type { UpstreamSuccess } from "./http.ts";
import type { UpstreamRequest } from "./request.ts";

/** No app has this many pages of one list; the loop stops here whatever the upstream says. */
const MAX_PAGES = 1_000;

interface ListPage {
  data?: { sessions?: unknown };
  paging?: { start_offset: number; end_offset: number; total_count: number };
}

/** Fetches every page of a sessions list (`request.everyPage` a page) and merges them into one success envelope. */
export async function getEveryPage(
  request: UpstreamRequest & { everyPage: number },
  getPage: (page: UpstreamRequest, pageNo: number) => Promise<UpstreamSuccess>,
): Promise<UpstreamSuccess> {
  const sessions: unknown[] = [];
  for (let pageNo = 1; pageNo <= MAX_PAGES; pageNo++) {
    const query = [request.query, `page_no=${pageNo}`, `per_page=${request.everyPage}`].filter(Boolean).join("&");
    const page = JSON.parse((await getPage({ path: request.path, query }, pageNo)).body) as ListPage;
    const listed = Array.isArray(page.data?.sessions) ? page.data.sessions : [];
    sessions.push(...listed);
    // A short page is the last, whatever `paging` says: the upstream does not say whether
    // its end_offset is inclusive, and reading it as exclusive would ask for an empty page.
    const total = page.paging?.total_count;
    if (listed.length < request.everyPage || (total !== undefined && sessions.length >= total)) break;
  }
  const paging = { start_offset: 0, end_offset: sessions.length, total_count: sessions.length };
  return { status: 200, body: JSON.stringify({ success: true, data: { sessions }, paging }) };
}
