/**
 * No import cycles in src/ (type-only imports included: a cycle of types still ties two files
 * together). The checker is tested on a planted cycle first, so a broken checker cannot pass.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../src', import.meta.url));

/** Relative static imports and re-exports of each .ts file under `root` (tests left out). */
function importGraph(root: string): Map<string, string[]> {
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('.test.ts')) files.push(p);
    }
  };
  walk(root);
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  const from = /^\s*(?:import|export)\b[^'";]*?\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]/.source;
  const bare = /^\s*import\s+['"](\.{1,2}\/[^'"]+)['"]/.source;
  const spec = new RegExp(`${from}|${bare}`, 'gm');
  for (const f of files) {
    const deps: string[] = [];
    for (const m of readFileSync(f, 'utf8').matchAll(spec)) {
      const target = resolve(dirname(f), (m[1] ?? m[2])!).replace(/\.js$/, '.ts');
      if (known.has(target)) deps.push(target);
    }
    graph.set(f, deps);
  }
  return graph;
}

/** Strongly connected components with more than one file (or a file importing itself). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

describe('import cycles', () => {
  it('the checker finds a planted cycle (multi-line and type-only imports too)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ar-cycles-'));
    try {
      writeFileSync(join(dir, 'a.ts'), "import {\n  b,\n} from './b.js';\nexport const a = b;\n");
      writeFileSync(join(dir, 'b.ts'), "import type { C } from './c.js';\nexport const b: C = 1;\n");
      writeFileSync(join(dir, 'c.ts'), "export type { A } from './a.js';\nexport type C = number;\n");
      writeFileSync(join(dir, 'd.ts'), "import { a } from './a.js';\nexport const d = a;\n");
      assert.deepEqual(
        cycles(importGraph(dir)).map((c) => c.map((f) => relative(dir, f))),
        [['a.ts', 'b.ts', 'c.ts']],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('src/ has none (workspace.ts and worktree.ts share porcelain.ts instead of importing each other)', () => {
    const graph = importGraph(SRC);
    assert.ok(graph.size > 100, `read ${graph.size} files`);
    const ws = join(SRC, 'workspace');
    assert.ok(!(graph.get(join(ws, 'worktree.ts')) ?? []).includes(join(ws, 'workspace.ts')));
    assert.deepEqual(
      cycles(graph).map((c) => c.map((f) => relative(SRC, f)).join(' -> ')),
      [],
    );
  });
});
