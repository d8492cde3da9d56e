/**
 * Moving a change made on an older commit onto a newer one ("re-applying a stale change"), with
 * git's own three-way merge: never a zero-context patch, which puts a hunk that only adds lines
 * at its old line number (a line meant for g() landing after `return` in f(), exit 0).
 *
 * - The change's commit still exists: `git merge-tree --write-tree` of the new base and the
 *   change, with the change's parent as the merge base. Git 2.39 has no `--merge-base`, so both
 *   sides are given that parent explicitly: two throw-away commits (the new base's tree, the
 *   change's tree), each with the parent as its only parent; their merge base is the parent.
 *   Nothing in the worktree is touched until the result is known.
 * - The commit (or its parent) is gone (a resumed study after `git gc`): the stored diff, with
 *   its full context, through `git apply --3way` (three-way where git still has the blobs).
 * - Git without `merge-tree --write-tree` (before 2.38): the commits' full diff through
 *   `git apply --3way`, which has every blob and merges three-way.
 *
 * The result is committed on top of the new base with `commit-tree` (no hook, no `git add`, so
 * ignored files in the worktree never matter) and the worktree is reset to it.
 *
 * Contract: expected outcomes are values (`conflict` carries git's reason); `GitError` only when
 * git fails unexpectedly. On success the worktree holds the new commit; otherwise it holds `onto`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mergeLines, parseZeroContextHunks } from './line-merge.js';
import type { Worktree } from './worktree.js';

export interface StaleChange {
  /** The commit the change was made on. */
  parent: string;
  /** The change's commit, or null when it was never made (killed before the commit). */
  commit: string | null;
  /** The stored diff of the change against `parent` (full context). */
  diff: string;
}

export type Reapplied =
  | { ok: true; commit: string; changed: string[]; how: 'merge' | 'diff' }
  | { ok: false; reason: string };

export async function reapply(wt: Worktree, change: StaleChange, onto: string, message: string): Promise<Reapplied> {
  const git = wt.git;
  const exists = async (rev: string) => (await git.run(['cat-file', '-e', `${rev}^{commit}`])).code === 0;
  const haveCommits = change.commit !== null && (await exists(change.commit)) && (await exists(change.parent));

  let tree: { ok: true; tree: string; how: 'merge' | 'diff' } | { ok: false; reason: string } | null = null;
  if (haveCommits) {
    tree = await mergeTrees(wt, change.parent, change.commit!, onto);
    // git calls edits of neighbouring lines a conflict; place them exactly by their base lines
    if (tree && !tree.ok) tree = (await lineMergeTree(wt, change.parent, change.commit!, onto)) ?? tree;
  }
  if (tree === null) {
    // No commit to merge (or no merge-tree): a full-context diff, three-way where blobs exist.
    const diff = haveCommits
      ? await git.ok(['diff', '--no-color', '--no-ext-diff', '--binary', change.parent, change.commit!])
      : change.diff;
    tree = await applyToIndex(wt, diff, onto);
  }
  if (!tree.ok) {
    await wt.resetHard(onto);
    return tree;
  }
  const id = await git.identityArgs();
  const commit = (await git.ok([...id, 'commit-tree', tree.tree, '-p', onto, '-m', message])).trim();
  const changed = (await git.ok(['diff', '--name-only', '-z', '--no-renames', onto, commit]))
    .split('\0')
    .filter(Boolean);
  await wt.resetHard(commit);
  return { ok: true, commit, changed, how: tree.how };
}

/** The merged tree, a conflict, or null when this git has no `merge-tree --write-tree`. */
async function mergeTrees(
  wt: Worktree,
  parent: string,
  commit: string,
  onto: string,
): Promise<{ ok: true; tree: string; how: 'merge' } | { ok: false; reason: string } | null> {
  const git = wt.git;
  const id = await git.identityArgs();
  const side = async (rev: string, label: string) =>
    (
      await git.ok([...id, 'commit-tree', `${rev}^{tree}`, '-p', parent, '-m', `autoresearch: ${label} (merge side)`])
    ).trim();
  const ours = await side(onto, 'new base');
  const theirs = await side(commit, 'change');
  const r = await git.run(['merge-tree', '--write-tree', '--messages', ours, theirs]);
  if (r.code === 0) return { ok: true, tree: r.stdout.split('\n')[0]!.trim(), how: 'merge' };
  if (r.code === 1) return { ok: false, reason: conflictReason(r.stdout) };
  if (r.code === 129 || /usage: git merge-tree|unknown option/.test(r.stderr)) return null;
  return { ok: false, reason: firstLines(r.stderr) || `git merge-tree failed (exit ${r.code})` };
}

/**
 * The line-level merge (line-merge.ts) of every file the change touched, when each is a plain
 * text file present in all three commits: the merged tree, or null (keep git's verdict).
 */
async function lineMergeTree(
  wt: Worktree,
  parent: string,
  commit: string,
  onto: string,
): Promise<{ ok: true; tree: string; how: 'merge' } | null> {
  const git = wt.git;
  const files = (await git.ok(['diff', '--name-only', '-z', '--no-renames', parent, commit]))
    .split('\0')
    .filter(Boolean);
  const merged: Array<[string, string]> = [];
  for (const f of files) {
    const [base, ours, theirs] = await Promise.all(
      [parent, onto, commit].map((rev) => git.run(['cat-file', '-e', `${rev}:${f}`])),
    );
    if (base!.code !== 0 || ours!.code !== 0 || theirs!.code !== 0) return null; // added or deleted: git's verdict
    const text = await git.ok(['show', `${parent}:${f}`]);
    const zero = (to: string) =>
      git.ok(['diff', '--no-color', '--no-ext-diff', '-U0', '--no-renames', parent, to, '--', f]);
    const [h1, h2] = [parseZeroContextHunks(await zero(onto)), parseZeroContextHunks(await zero(commit))];
    if (h1 === null || h2 === null) return null;
    const m = mergeLines(text, h1, h2);
    if (!m.ok) return null;
    merged.push([f, m.text]);
  }
  await wt.resetHard(onto);
  for (const [f, text] of merged) writeFileSync(join(wt.path, f), text);
  await git.ok(['add', '--', ...merged.map(([f]) => f)]);
  const tree = (await git.ok(['write-tree'])).trim();
  await git.ok(['reset', '--quiet']);
  return { ok: true, tree, how: 'merge' };
}

/** `git apply --3way` of `diff` on `onto` (index and files), then the index as a tree. */
async function applyToIndex(
  wt: Worktree,
  diff: string,
  onto: string,
): Promise<{ ok: true; tree: string; how: 'diff' } | { ok: false; reason: string }> {
  if (!diff.trim()) return { ok: false, reason: 'empty change' };
  const git = wt.git;
  await wt.resetHard(onto);
  const r = await git.run(['apply', '--3way', '--whitespace=nowarn', '-'], { input: diff });
  if (r.code !== 0) return { ok: false, reason: firstLines(r.stderr) || 'git apply failed' };
  return { ok: true, tree: (await git.ok(['write-tree'])).trim(), how: 'diff' };
}

/** Git's CONFLICT lines from `merge-tree --messages` output (after the blank line). */
function conflictReason(out: string): string {
  const messages = out
    .split('\n\n')
    .slice(1)
    .join('\n')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const conflicts = messages.filter((l) => l.startsWith('CONFLICT'));
  return firstLines((conflicts.length ? conflicts : messages).join('\n')) || 'merge conflict';
}

function firstLines(text: string, n = 3): string {
  return text.trim().split('\n').slice(0, n).join(' ').trim();
}
