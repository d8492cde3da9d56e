/**
 * What a CLI changed, without git (a proposer never runs git): the list of files of the worktree
 * before and after (symlinks not followed, .git skipped), and the editable files' text, to remove
 * stray files the CLI left behind and to summarise its diff ("edit train.py (+3 -1)").
 *
 * Contract: never throws for unreadable entries (they are skipped); bounded by `maxEntries`
 * (past it, `complete` is false and no stray file is removed).
 */
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export interface TreeSnapshot {
  files: Set<string>;
  complete: boolean;
  editable: Map<string, string | null>;
}

export function snapshotTree(root: string, editable: readonly string[], maxEntries = 20_000): TreeSnapshot {
  const files = new Set<string>();
  let complete = true;
  const walk = (dir: string, prefix: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (files.size >= maxEntries) {
        complete = false;
        return;
      }
      if (!prefix && name === '.git') continue;
      const rel = prefix ? `${prefix}/${name}` : name;
      try {
        const st = lstatSync(join(dir, name));
        if (st.isDirectory()) walk(join(dir, name), rel);
        else files.add(rel);
      } catch {
        // vanished while walking
      }
    }
  };
  walk(root, '');
  const text = new Map(
    editable.map((f) => [f, existsSync(join(root, f)) ? readFileSync(join(root, f), 'utf8') : null]),
  );
  return { files, complete, editable: text };
}

/** Files present after but not before, outside the editable list. */
export function strayFiles(before: TreeSnapshot, after: TreeSnapshot, editable: readonly string[]): string[] {
  if (!before.complete || !after.complete) return [];
  return [...after.files].filter((f) => !before.files.has(f) && !editable.includes(f)).sort();
}

export function removeFiles(root: string, rels: readonly string[]): void {
  for (const r of rels) rmSync(join(root, r), { force: true });
}

/** Line counts added/removed, from a multiset comparison of lines (enough for a summary). */
export function lineDelta(before: string | null, after: string | null): { added: number; removed: number } {
  const count = (s: string | null) => {
    const m = new Map<string, number>();
    for (const l of s === null ? [] : s.split('\n')) m.set(l, (m.get(l) ?? 0) + 1);
    return m;
  };
  const a = count(before);
  const b = count(after);
  let added = 0;
  let removed = 0;
  for (const [l, n] of b) added += Math.max(0, n - (a.get(l) ?? 0));
  for (const [l, n] of a) removed += Math.max(0, n - (b.get(l) ?? 0));
  return { added, removed };
}

/** Editable files whose text changed, with a one-line summary like "edit train.py (+3 -1)". */
export function summariseChanges(root: string, before: TreeSnapshot): { changed: string[]; summary: string } {
  const parts: string[] = [];
  const changed: string[] = [];
  for (const [f, old] of before.editable) {
    const now = existsSync(join(root, f)) ? readFileSync(join(root, f), 'utf8') : null;
    if (now === old) continue;
    changed.push(f);
    const d = lineDelta(old, now);
    parts.push(`${old === null ? 'create' : now === null ? 'delete' : 'edit'} ${f} (+${d.added} -${d.removed})`);
  }
  return { changed, summary: parts.join(', ') };
}
