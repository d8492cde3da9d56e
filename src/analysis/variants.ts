/**
 * Commits that never existed in the study: the baseline plus some of the kept changes (add-one:
 * one change alone; leave-one-out: all but one), built with the loop's three-way re-apply
 * (workspace/reapply.ts) in a scratch worktree, one change after another in chain order.
 *
 * A change that does not apply without the changes it was made on is a conflict: reported with
 * git's reason and the change it failed at, never dropped silently.
 *
 * The commits are dangling (no branch moves); each is pinned under refs/autoresearch/analysis/
 * so that a `git gc` during a long ablation does not take it away. Contract: expected outcomes
 * are values; GitError only when git fails unexpectedly.
 */
import type { Worktree } from '../workspace/worktree.js';
import { reapply } from '../workspace/reapply.js';
import type { KeptChange } from './chain.js';

export type Built = { ok: true; commit: string } | { ok: false; failedAt: number; reason: string };

/** The base with `changes` applied in order (each with git's three-way merge). */
export async function buildVariant(
  wt: Worktree,
  base: string,
  changes: readonly KeptChange[],
  label: string,
  pinRef: string | null,
): Promise<Built> {
  let at = base;
  for (const c of changes) {
    const r = await reapply(
      wt,
      { parent: c.parent, commit: c.commit, diff: c.diff },
      at,
      `${label}: #${c.number} ${c.description}`,
    );
    if (!r.ok) return { ok: false, failedAt: c.number, reason: r.reason };
    at = r.commit;
  }
  if (pinRef) await wt.git.ok(['update-ref', pinRef, at]);
  return { ok: true, commit: at };
}

/** The tree of a commit (variants are compared by tree: commit-tree stamps a new time on each build). */
export async function treeOf(wt: Worktree, commit: string): Promise<string> {
  return (await wt.git.ok(['rev-parse', `${commit}^{tree}`])).trim();
}
