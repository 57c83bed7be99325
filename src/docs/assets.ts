/** @module Serves the build-time files of public/ (OpenAPI document, reference page) through the ASSETS binding. */
import type { Context } from "hono";
import { ApiError } from "../errors.ts";

/** A handler answering with one static asset, under the app's own headers. */
export function serveAsset(file: string, contentType: string, headers: Record<string, string> = {}) {
  return async function serveAsset(c: Context<{ Bindings: Partial<Pick<Env, "ASSETS">> }>) {
    const asset = await c.env.ASSETS?.fetch(new URL(file, c.req.url));
    if (!asset?.ok) throw new ApiError("not_found", `${file} is not deployed with this build (npm run docs)`);
    return c.body(await asset.arrayBuffer(), 200, {
      "Content-Type": contentType,
      "Cache-Control": "public, max-age=300",
      ...headers,
    });
  };
}
