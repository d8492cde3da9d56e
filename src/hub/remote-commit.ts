/**
 * Building a commit a contributor made elsewhere from what the hub holds: each node's parent and
 * diff. Contributors' commits are not pinned (each machine writes its own identity and date), so
 * the hash is not reproduced: the commit is rebuilt by its TREE (the parent's tree plus the diff)
 * as a local commit, and the parent chain the same way down to a commit this repository has (the
 * study's baseline, from the published bundle). Works on the object store alone (a temporary
 * index; no worktree, no ref is touched).
 *
 * Contract: expected failures (an unknown commit, a diff that does not apply) are values.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Git } from '../workspace/git.js';

/** A node's recipe, as the hub serves it (GET /studies/:id/commits/:sha). */
export interface RemoteRecipe {
  parent: string;
  diff: string;
  description: string;
}

export type Built = { ok: true; commit: string } | { ok: false; reason: string };

export async function hasCommit(git: Git, sha: string): Promise<boolean> {
  return (await git.run(['cat-file', '-e', `${sha}^{commit}`])).code === 0;
}

/** A local commit holding `diff` applied to `parent`'s tree (parent: a local commit). */
export async function buildOn(git: Git, parent: string, diff: string, message: string): Promise<Built> {
  const dir = mkdtempSync(join(tmpdir(), 'ar-hub-build-'));
  const env = { GIT_INDEX_FILE: join(dir, 'index') };
  try {
    const step = async (args: string[], input?: string) => {
      const out = await git.run(args, { env, ...(input !== undefined ? { input } : {}) });
      return out.code === 0
        ? { ok: true as const, out: out.stdout.trim() }
        : { ok: false as const, err: out.stderr.trim() };
    };
    const read = await step(['read-tree', parent]);
    if (!read.ok) return { ok: false, reason: `cannot read ${parent.slice(0, 7)}: ${read.err}` };
    if (diff.trim() !== '') {
      const applied = await step(['apply', '--cached', '--whitespace=nowarn', '-'], diff);
      if (!applied.ok) return { ok: false, reason: `the diff does not apply on ${parent.slice(0, 7)}: ${applied.err}` };
    }
    const tree = await step(['write-tree']);
    if (!tree.ok) return { ok: false, reason: tree.err };
    const made = await step([
      '-c',
      'user.name=autoresearch',
      '-c',
      'user.email=autoresearch@localhost',
      'commit-tree',
      tree.out,
      '-p',
      parent,
      '-m',
      message || 'hub',
    ]);
    return made.ok ? { ok: true, commit: made.out } : { ok: false, reason: made.err };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A local commit with the same tree as the hub's `sha`: `sha` itself when this repository has it,
 * else rebuilt from the hub's recipes (`recipeOf` answers the earliest node for a commit).
 */
export async function localCommitFor(
  git: Git,
  sha: string,
  recipeOf: (sha: string) => Promise<RemoteRecipe | null>,
): Promise<Built> {
  const chain: RemoteRecipe[] = [];
  let at = sha;
  while (!(await hasCommit(git, at))) {
    const r = await recipeOf(at);
    if (!r) return { ok: false, reason: `commit ${at.slice(0, 7)} is neither here nor on the hub` };
    if (chain.length > 1000) return { ok: false, reason: `the hub's chain under ${sha.slice(0, 7)} is too deep` };
    chain.unshift(r);
    at = r.parent;
  }
  let local = at;
  for (const r of chain) {
    const b = await buildOn(git, local, r.diff, r.description);
    if (!b.ok) return b;
    local = b.commit;
  }
  return { ok: true, commit: local };
}

/** The tree of a commit (to compare a claimed commit with what its diff builds). */
export async function treeOf(git: Git, commit: string): Promise<string | null> {
  const r = await git.run(['rev-parse', `${commit}^{tree}`]);
  return r.code === 0 ? r.stdout.trim() : null;
}
