/**
 * @module `npm run docs`: writes the OpenAPI document and the reference page into
 * public/, which the Worker serves as static assets. `npm test` fails when they are
 * out of date with the schemas.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { buildOpenApiDocument } from "../src/docs/openapi.ts";
import { renderReferencePage } from "../src/docs/page.ts";

const document = buildOpenApiDocument();
mkdirSync("public", { recursive: true });
writeFileSync("public/openapi.json", `${JSON.stringify(document, null, 2)}\n`);
writeFileSync("public/docs.html", renderReferencePage(document));
console.log("wrote public/openapi.json and public/docs.html");
