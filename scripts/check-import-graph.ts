/**
 * @module `npm run check:imports`: arrows point one way. Lists every import cycle among
 * the files of `src/` and every pair of rooms (a top-level folder, or a file at the top)
 * that import each other, type imports included (knowing another module's types is
 * depending on it); fails when there is either.
 *
 * Imports are read from the source text: TypeScript 7's package has no JavaScript API to
 * parse with, and a bundler's graph drops type-only imports. The pattern covers the forms
 * the formatter leaves: `import … from`, `export … from`, `import "…"` and `import("…")`.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(process.argv[2] ?? "src");
const SOURCE = /\.ts$/;
const IMPORT = /\b(?:import|export)\b[^;"'`]*?\bfrom\s*["']([^"']+)["']|\bimport\s*\(?\s*["']([^"']+)["']/g;

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return SOURCE.test(entry.name) && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

const files = sourceFiles(root).sort();
const known = new Set(files);

/** The files of the tree that `file` imports (relative specifiers only: packages are not rooms). */
function importsOf(file: string): string[] {
  const targets = new Set<string>();
  for (const match of readFileSync(file, "utf8").matchAll(IMPORT)) {
    const specifier = match[1] ?? match[2] ?? "";
    if (!specifier.startsWith(".")) continue;
    const target = resolve(dirname(file), specifier);
    if (known.has(target)) targets.add(target);
  }
  return [...targets];
}

const edges = new Map(files.map((file) => [file, importsOf(file)]));

/** Groups of files that reach one another through imports (Tarjan's components of more than one). */
function cycles(): string[][] {
  let counter = 0;
  const order = new Map<string, number>();
  const lowest = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (file: string): void => {
    order.set(file, counter);
    lowest.set(file, counter++);
    stack.push(file);
    onStack.add(file);
    for (const target of edges.get(file) ?? []) {
      if (!order.has(target)) {
        visit(target);
        lowest.set(file, Math.min(lowest.get(file) ?? 0, lowest.get(target) ?? 0));
      } else if (onStack.has(target)) {
        lowest.set(file, Math.min(lowest.get(file) ?? 0, order.get(target) ?? 0));
      }
    }
    if (lowest.get(file) !== order.get(file)) return;
    const component: string[] = [];
    let member: string | undefined;
    do {
      member = stack.pop();
      if (member === undefined) break;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1) found.push(component);
  };
  for (const file of files) if (!order.has(file)) visit(file);
  return found;
}

const roomOf = (file: string): string => (relative(root, file).split("/")[0] ?? "").replace(SOURCE, "");

/** Pairs of rooms each importing the other, as `a <-> b` with a before b. */
function roomPairs(): string[] {
  const roomEdges = new Map<string, Set<string>>();
  for (const [file, targets] of edges) {
    const from = roomOf(file);
    const into = roomEdges.get(from) ?? new Set<string>();
    for (const target of targets) if (roomOf(target) !== from) into.add(roomOf(target));
    roomEdges.set(from, into);
  }
  return [...roomEdges].flatMap(([a, targets]) =>
    [...targets].filter((b) => a < b && roomEdges.get(b)?.has(a)).map((b) => `${a} <-> ${b}`),
  );
}

const fileCycles = cycles();
const pairs = roomPairs();
for (const cycle of fileCycles) console.log(`cycle: ${cycle.map((file) => relative(root, file)).join(" <-> ")}`);
for (const pair of pairs) console.log(`rooms import each other: ${pair}`);
console.log(
  `${fileCycles.length} file cycle(s), ${pairs.length} pair(s) of rooms importing each other, among ${files.length} files (type imports included)`,
);
if (fileCycles.length || pairs.length) process.exitCode = 1;
