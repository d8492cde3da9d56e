/**
 * Path confinement for the agent's file tools: every path the model names is resolved inside the
 * worktree; `..` escapes, absolute paths elsewhere, `.git` and symlinks that lead out are refused.
 *
 * Contract: pure apart from `realpathSync`; returns a value (never throws) so the tool can answer
 * the model with the error text.
 */
import { existsSync, realpathSync } from 'node:fs';
import { isAbsolute, join, normalize, relative, sep } from 'node:path';

export type Resolved = { ok: true; rel: string; abs: string } | { ok: false; error: string };

/** Normalised worktree-relative form with forward slashes, e.g. "src/train.py". */
export function normalRel(p: string): string {
  return normalize(p).split(sep).join('/').replace(/^\.\//, '').replace(/\/$/, '');
}

export function resolveInWorktree(worktree: string, path: unknown): Resolved {
  if (typeof path !== 'string' || path.trim() === '') return { ok: false, error: 'path must be a non-empty string, relative to the worktree (e.g. "train.py")' };
  const raw = path.trim();
  let rel: string;
  if (isAbsolute(raw)) {
    rel = relative(worktree, raw);
    if (rel === '' ) rel = '.';
    if (rel.startsWith('..') || isAbsolute(rel)) return { ok: false, error: `${raw} is outside the worktree; use paths relative to it (e.g. "train.py")` };
  } else rel = raw;
  rel = normalRel(rel);
  if (rel === '..' || rel.startsWith('../')) return { ok: false, error: `${raw} is outside the worktree; ".." is not allowed` };
  if (rel === '.git' || rel.startsWith('.git/')) return { ok: false, error: 'the .git directory is off limits' };
  const abs = rel === '.' ? worktree : join(worktree, rel);
  if (existsSync(abs)) {
    try {
      const realRoot = realpathSync(worktree);
      const real = realpathSync(abs);
      const r = relative(realRoot, real);
      if (r.startsWith('..') || isAbsolute(r)) return { ok: false, error: `${raw} leads outside the worktree (a symbolic link)` };
    } catch {
      return { ok: false, error: `cannot resolve ${raw}` };
    }
  }
  return { ok: true, rel, abs };
}
