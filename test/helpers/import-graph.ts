/**
 * The import graph of a TypeScript tree, read as text: every relative `import`/`export ... from`
 * and `import('...')`, type-only imports included (they tie the layers together as much as any).
 * Used by test/unit/architecture.test.ts to hold src/ to its layers.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

export interface ImportEdge {
  /** Both paths relative to the tree's root, with '/' separators and the .ts suffix. */
  from: string;
  to: string;
}

const IMPORT =
  /(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

export function tsFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
    }
  };
  walk(root);
  return out.sort();
}

const rel = (root: string, p: string) => relative(root, p).split(sep).join('/');

/** Edges between files of the tree; imports that leave the tree (node:, packages) are not edges. */
export function readImports(root: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of tsFiles(root)) {
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      let target = resolve(dirname(file), (m[1] ?? m[2])!.replace(/\.js$/, '.ts'));
      if (!target.endsWith('.ts')) target += '.ts';
      if (!existsSync(target)) continue;
      const to = rel(root, target);
      if (!to.startsWith('..')) edges.push({ from: rel(root, file), to });
    }
  }
  return edges;
}

/** Circles between files (strongly connected components of more than one file, or a file importing itself). */
export function circles(edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const part: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      part.push(w);
    } while (w !== v);
    if (part.length > 1 || (next.get(v) ?? []).includes(v)) found.push(part.sort());
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/** The component a file belongs to: its top folder, or the file itself at the top ('errors.ts'). */
export function componentOf(file: string): string {
  const slash = file.indexOf('/');
  return slash < 0 ? file : file.slice(0, slash);
}

/**
 * Imports that go up: `layers` lists components lowest first; a file may import its own
 * layer or any lower one. Components missing from `layers` are reported as unplaced.
 */
export function upwardImports(
  edges: readonly ImportEdge[],
  layers: readonly (readonly string[])[],
): { upward: ImportEdge[]; unplaced: string[] } {
  const rank = new Map<string, number>();
  layers.forEach((names, i) => names.forEach((n) => rank.set(n, i)));
  const unplaced = new Set<string>();
  const upward: ImportEdge[] = [];
  for (const e of edges) {
    const a = rank.get(componentOf(e.from));
    const b = rank.get(componentOf(e.to));
    if (a === undefined) unplaced.add(componentOf(e.from));
    if (b === undefined) unplaced.add(componentOf(e.to));
    if (a !== undefined && b !== undefined && b > a) upward.push(e);
  }
  return { upward, unplaced: [...unplaced].sort() };
}

/** Imports of the lifecycle into launcher classes: it must depend on the Launcher contract alone. */
export function launcherClassImports(
  edges: readonly ImportEdge[],
  classes: readonly string[],
): ImportEdge[] {
  return edges.filter((e) => e.from.startsWith('lifecycle/') && classes.includes(e.to));
}

/** Imports of the API into the store or CHP: it reads through the lifecycle's queries and writes through its manager. */
export function apiPersistenceImports(edges: readonly ImportEdge[]): ImportEdge[] {
  return edges.filter(
    (e) =>
      e.from.startsWith('api/') &&
      (/^(store|chp)\//.test(e.to) || (e.to === 'lifecycle/deps.ts' && e.from !== 'api/deps.ts')),
  );
}
