/**
 * @module `npm run docs`: writes the OpenAPI document and the reference page into
 * public/ (served by the Worker as static assets), and the generated reference tables
 * into docs/. `npm test` fails when any of them is out of date with the code.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { buildOpenApiDocument } from "../src/docs/openapi.ts";
import { renderReferencePage } from "../src/docs/page.ts";
import { GENERATED_TABLES, withTable } from "../src/docs/reference-tables.ts";

const document = buildOpenApiDocument();
mkdirSync("public", { recursive: true });
writeFileSync("public/openapi.json", `${JSON.stringify(document, null, 2)}\n`);
writeFileSync("public/docs.html", renderReferencePage(document));
for (const { file, name, table } of GENERATED_TABLES) {
  writeFileSync(file, withTable(readFileSync(file, "utf8"), name, table()));
}
console.log(
  `wrote public/openapi.json, public/docs.html and the tables of ${[...new Set(GENERATED_TABLES.map(({ file }) => file))].join(", ")}`,
);
