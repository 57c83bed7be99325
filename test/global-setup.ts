/**
 * Runs in Node before the workerd tests: validates public/openapi.json with a real
 * OpenAPI 3.1 validator (it compiles JSON Schemas to code, which workerd does not
 * allow), and hands the verdict to test/docs.test.ts.
 */
import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";
import type { TestProject } from "vitest/node";

export interface OpenApiVerdict {
  valid: boolean;
  version: string;
  errors: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    openapiVerdict: OpenApiVerdict;
  }
}

export default async function setup(project: TestProject) {
  const validator = new Validator();
  const result = await validator.validate(JSON.parse(readFileSync("public/openapi.json", "utf8")));
  project.provide("openapiVerdict", {
    valid: result.valid,
    version: validator.version,
    errors: JSON.stringify(result.errors ?? []),
  });
}
