/**
 * @module How a shared-tier key loads through the budget gate: its whole answer, or one
 * meeting's part of the live-sessions index. The key objects and `npm run sim` load
 * with exactly this.
 */
import { toStoredAnswer } from "../cache/answer.ts";
import type { KeyLoaders } from "../cache/shared-key.ts";
import { ApiError } from "../errors.ts";
import { loadThroughGate, type UpstreamAccess } from "../upstream/load.ts";
import { meetingSessionRequest, pagesOf, patchedIndex } from "./live-index.ts";

export function keyLoaders(access: UpstreamAccess): KeyLoaders {
  return {
    load: async (request, demand, trace) => toStoredAnswer(await loadThroughGate(access, request, demand, trace)),
    async patch(request, meetingId, demand, trace) {
      if (request.scope?.kind !== "index") throw new ApiError("internal", "only the live-sessions index is patched");
      const upstream = meetingSessionRequest(request.scope.meetingPath, meetingId);
      const meeting = await toStoredAnswer(await loadThroughGate(access, { ...request, upstream }, demand, trace));
      return (copy) => patchedIndex(copy, meetingId, meeting);
    },
    wholeLoadCost: (request, copy) => (request.upstream.everyPage ? pagesOf(copy, request.upstream.everyPage) : 1),
  };
}
