/**
 * @module How a shared-tier entry loads through the budget gate: its whole answer, or one
 * meeting's part of the live-sessions index. The entries' objects and `npm run sim` load
 * with exactly this.
 */
import { toStoredAnswer } from "../cache/answer.ts";
import { ApiError } from "../errors.ts";
import { loadThroughGate, type UpstreamGateway } from "../upstream/load.ts";
import { meetingSessionRequest, pagesOf, patchedIndex } from "./live-index.ts";
import type { EntryLoaders } from "./shared-key.ts";

export function entryLoaders(gateway: UpstreamGateway): EntryLoaders {
  return {
    load: async (request, demand, trace) => toStoredAnswer(await loadThroughGate(gateway, request, demand, trace)),
    async patch(request, meetingId, demand, trace) {
      if (request.coverage?.kind !== "index") throw new ApiError("internal", "only the live-sessions index is patched");
      const upstream = meetingSessionRequest(request.coverage.meetingPath, meetingId);
      const meeting = await toStoredAnswer(await loadThroughGate(gateway, { ...request, upstream }, demand, trace));
      return (copy) => patchedIndex(copy, meetingId, meeting);
    },
    wholeLoadCost: (request, copy) => (request.upstream.everyPage ? pagesOf(copy, request.upstream.everyPage) : 1),
  };
}
