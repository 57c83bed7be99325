/**
 * @module The human-readable reference page, rendered from the OpenAPI document at build
 * time into one static HTML file: no script, no CDN, works offline. Written by hand
 * because the viewers on npm (Redoc, Scalar, Swagger UI) ship megabytes of JavaScript
 * that would need a loose Content-Security-Policy; this page needs none.
 */

type Json = Record<string, unknown>;

const escapeHtml = (text: unknown): string => String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** `code` spans for backticks, as the descriptions use them. */
const prose = (text: unknown): string => escapeHtml(text).replace(/`([^`]+)`/g, "<code>$1</code>");

function ruleOf(schema: Json): string {
  const parts: string[] = [];
  if (Array.isArray(schema.enum))
    parts.push(`one of ${schema.enum.map((v) => `<code>${escapeHtml(v)}</code>`).join(", ")}`);
  else parts.push(escapeHtml(schema.type ?? "any"));
  if (schema.format) parts.push(`format <code>${escapeHtml(schema.format)}</code>`);
  if (schema.pattern && !schema.format) parts.push(`pattern <code>${escapeHtml(schema.pattern)}</code>`);
  if (schema.maxLength !== undefined) parts.push(`at most ${escapeHtml(schema.maxLength)} characters`);
  return parts.join(", ");
}

function parametersTable(parameters: Json[]): string {
  if (parameters.length === 0) return "<p>No parameters.</p>";
  const rows = parameters
    .map(
      (p) =>
        `<tr><td><code>${escapeHtml(p.name)}</code></td><td>${escapeHtml(p.in)}${p.required ? ", required" : ""}</td><td>${ruleOf(
          (p.schema ?? {}) as Json,
        )}</td><td>${prose(p.description)}</td></tr>`,
    )
    .join("\n");
  return `<table><thead><tr><th>name</th><th>in</th><th>rule</th><th>meaning</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

function responsesList(responses: Json): string {
  const items = Object.entries(responses)
    .map(
      ([status, response]) =>
        `<li><strong>${escapeHtml(status)}</strong> ${prose((response as Json).description)}</li>`,
    )
    .join("\n");
  return `<ul class="responses">\n${items}\n</ul>`;
}

function operationSection(path: string, method: string, operation: Json): string {
  return `<section id="${escapeHtml(operation.operationId)}">
<h2><span class="method">${escapeHtml(method.toUpperCase())}</span> <code>${escapeHtml(path)}</code></h2>
<p>${prose(operation.summary)}</p>
<p class="note">${prose(operation.description ?? "")}</p>
<h3>Parameters</h3>
${parametersTable((operation.parameters as Json[] | undefined) ?? [])}
<h3>Responses</h3>
${responsesList((operation.responses as Json | undefined) ?? {})}
</section>`;
}

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f}
h1{margin-bottom:0}h2{margin-top:2.5rem;border-top:1px solid #ddd;padding-top:1rem}
code{background:#f3f3f5;padding:0 .25rem;border-radius:3px}.method{color:#fff;background:#0a7c42;padding:0 .5rem;border-radius:3px}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
.note{color:#555}.responses li{margin:.2rem 0}`;

/** The page's Content-Security-Policy: no script at all, only its own inline style. */
export const REFERENCE_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

export function renderReferencePage(document: Json): string {
  const info = (document.info ?? {}) as Json;
  const paths = (document.paths ?? {}) as Record<string, Record<string, Json>>;
  const sections = Object.entries(paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => operationSection(path, method, operation)),
  );
  const toc = Object.values(paths)
    .flatMap((methods) => Object.values(methods))
    .map(
      (operation) =>
        `<li><a href="#${escapeHtml(operation.operationId)}">${escapeHtml(operation.operationId)}</a></li>`,
    )
    .join("");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(info.title)} ${escapeHtml(info.version)} — API reference</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(info.title)} <small>${escapeHtml(info.version)}</small></h1>
<p>${prose(info.description)}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
<ul>${toc}</ul>
${sections.join("\n")}
</body>
</html>
`;
}
