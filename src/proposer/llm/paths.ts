/**
 * Path confinement for the agent's file tools: every path the model names is resolved inside the
 * worktree; `..` escapes, absolute paths elsewhere, `.git` and symlinks that lead out are refused.
 *
 * Writes are checked harder (`refuseWriteTarget`): every directory on the way is resolved and
 * must be the worktree's own, and the file itself must not be a symbolic link (dangling or not),
 * so no write can land outside the worktree.
 *
 * Contract: pure apart from `realpathSync`/`lstatSync`; returns a value (never throws) so the tool
 * can answer the model with the error text.
 */
import { existsSync, lstatSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { normalRel } from '../../workspace/rel-path.js';

export type Resolved = { ok: true; rel: string; abs: string } | { ok: false; error: string };

export function resolveInWorktree(worktree: string, path: unknown): Resolved {
  if (typeof path !== 'string' || path.trim() === '')
    return { ok: false, error: 'path must be a non-empty string, relative to the worktree (e.g. "train.py")' };
  const raw = path.trim();
  let rel: string;
  if (isAbsolute(raw)) {
    rel = relative(worktree, raw);
    if (rel === '') rel = '.';
    if (rel.startsWith('..') || isAbsolute(rel))
      return { ok: false, error: `${raw} is outside the worktree; use paths relative to it (e.g. "train.py")` };
  } else rel = raw;
  rel = normalRel(rel);
  if (rel === '..' || rel.startsWith('../'))
    return { ok: false, error: `${raw} is outside the worktree; ".." is not allowed` };
  if (rel === '.git' || rel.startsWith('.git/')) return { ok: false, error: 'the .git directory is off limits' };
  const abs = rel === '.' ? worktree : join(worktree, rel);
  if (existsSync(abs)) {
    try {
      const realRoot = realpathSync(worktree);
      const real = realpathSync(abs);
      const r = relative(realRoot, real);
      if (r.startsWith('..') || isAbsolute(r))
        return { ok: false, error: `${raw} leads outside the worktree (a symbolic link)` };
    } catch {
      return { ok: false, error: `cannot resolve ${raw}` };
    }
  }
  return { ok: true, rel, abs };
}

/**
 * Why writing `rel` (resolved by `resolveInWorktree`) could land elsewhere, or null when it is a
 * plain file (or a new name) in a real directory of the worktree: the parent's realpath must be
 * the worktree's realpath joined with the parent's relative path (no symlinked directory on the
 * way), and the target must not be a symbolic link.
 */
export function refuseWriteTarget(worktree: string, rel: string): string | null {
  let root: string;
  let parent: string;
  try {
    root = realpathSync(worktree);
  } catch {
    return 'cannot resolve the worktree';
  }
  try {
    parent = realpathSync(join(worktree, dirname(rel)));
  } catch {
    return `the directory of ${rel} does not exist`;
  }
  if (parent !== join(root, dirname(rel)))
    return `${rel} leads through a symbolic link; only plain files of the worktree can be written`;
  try {
    const st = lstatSync(join(worktree, rel));
    if (st.isSymbolicLink()) return `${rel} is a symbolic link; only plain files of the worktree can be written`;
    if (st.isDirectory()) return `${rel} is a directory`;
    if (!st.isFile()) return `${rel} is not a regular file`;
  } catch {
    // does not exist yet: a new file in a real directory of the worktree
  }
  return null;
}
