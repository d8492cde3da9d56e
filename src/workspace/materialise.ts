/**
 * Rebuilding a commit another host made (several hosts, one study): the ledger holds every kept
 * experiment's parent, diff and description, and every host commits with the same pinned
 * identity and date (Git.pin), so applying the diff to the parent's tree and committing it with
 * the description gives the very same commit hash. The result is checked: a hash that differs
 * (a diff truncated at the cap, a commit signed by a user's git config) is reported, never used.
 *
 * Contract: expected failures are values; `GitError` only when git fails unexpectedly. Works on
 * the object store alone (a temporary index; no worktree, no ref is touched).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Git } from './git.js';

/** How a commit was made: its parent, the diff against it, and its message. */
export interface CommitRecipe {
  commit: string;
  parent: string;
  diff: string;
  message: string;
}

export type Materialised = { ok: true; created: string[] } | { ok: false; reason: string };

/**
 * Makes `target` exist in the repository of `git`: nothing when it does; else rebuilds it, and
 * the missing commits under it, from `recipeOf` (the ledger's kept experiments).
 */
export async function materialise(
  git: Git,
  target: string,
  recipeOf: (commit: string) => CommitRecipe | null,
): Promise<Materialised> {
  const exists = async (c: string) => (await git.run(['cat-file', '-e', `${c}^{commit}`])).code === 0;
  const chain: CommitRecipe[] = [];
  for (let c = target; !(await exists(c)); ) {
    const r = recipeOf(c);
    if (!r)
      return {
        ok: false,
        reason: `commit ${c.slice(0, 7)} is not in this repository and the ledger has no recipe for it`,
      };
    if (chain.length > 10_000 || chain.some((x) => x.commit === r.commit)) {
      return { ok: false, reason: `the ledger's recipes for ${target.slice(0, 7)} loop` };
    }
    chain.unshift(r);
    c = r.parent;
  }
  const dir = mkdtempSync(join(tmpdir(), 'ar-materialise-'));
  const env = { GIT_INDEX_FILE: join(dir, 'index') };
  const created: string[] = [];
  try {
    for (const r of chain) {
      const step = async (args: string[], input?: string) => {
        const out = await git.run(args, { env, ...(input !== undefined ? { input } : {}) });
        if (out.code !== 0) throw new Failed(`git ${args[0]} failed: ${out.stderr.trim() || `exit ${out.code}`}`);
        return out.stdout.trim();
      };
      try {
        await step(['read-tree', r.parent]);
        if (r.diff.trim() !== '') await step(['apply', '--cached', '--whitespace=nowarn', '-'], r.diff);
        const tree = await step(['write-tree']);
        const made = await step(['commit-tree', tree, '-p', r.parent, '-m', r.message]);
        if (made !== r.commit) {
          return {
            ok: false,
            reason: `rebuilding ${r.commit.slice(0, 7)} from the ledger gave ${made.slice(0, 7)} (a diff cut at the size cap, or commits signed by your git config?)`,
          };
        }
        created.push(made);
      } catch (err) {
        if (err instanceof Failed) return { ok: false, reason: `rebuilding ${r.commit.slice(0, 7)}: ${err.message}` };
        throw err;
      }
    }
    return { ok: true, created };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

class Failed extends Error {}
