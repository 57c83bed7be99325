/** @module The zValidator wrapper: every validation failure is the app's own 400, listing every problem at once. */
import { zValidator } from "@hono/zod-validator";
import type { MiddlewareHandler, ValidationTargets } from "hono";
import type * as z from "zod/mini";
import type { AppEnv } from "../context.ts";
import { ApiError, type ValidationIssue } from "../errors.ts";

/**
 * zod's issues, one per param (or body field), with unknown ones named one by one, in the
 * order of their names: one stable order, whatever order the checks happened to finish in.
 * A check of the whole (e.g. "at least one field") is named `whole`.
 */
export function toValidationIssues(error: z.core.$ZodError, whole: string): ValidationIssue[] {
  const issues = error.issues.flatMap((issue) => {
    if (issue.code === "unrecognized_keys") {
      const where = issue.path.map(String).join(".");
      const message = whole === "body" ? "is not a field this route takes" : "is not a known parameter";
      return issue.keys.map((key) => ({ path: where ? `${where}.${key}` : key, message }));
    }
    return [{ path: issue.path.map(String).join(".") || whole, message: issue.message }];
  });
  return issues.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export function describe(issues: ValidationIssue[]): string {
  return `invalid request: ${issues.map((issue) => `${issue.path} ${issue.message}`).join("; ")}`;
}

/** zValidator whose failures throw the app's own 400, listing every problem at once. */
export function validate<Target extends keyof ValidationTargets, Schema extends z.ZodMiniType>(
  target: Target,
  schema: Schema,
): MiddlewareHandler<AppEnv> {
  return zValidator(target, schema, (result) => {
    if (!result.success) {
      const issues = toValidationIssues(result.error, target);
      throw new ApiError("bad_request", describe(issues), { issues });
    }
  });
}
