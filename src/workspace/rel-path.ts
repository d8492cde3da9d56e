/**
 * The one normaliser of worktree-relative paths (the editable-file check, `[files].link`, the
 * LLM agent's file tools): `normalRel("./src//a/../train.py/")` is "src/train.py".
 *
 * Contract: pure; forward slashes; no leading "./", no trailing "/", "." and ".." segments folded
 * (a path that climbs out keeps its leading ".."; callers that confine paths must check for it).
 * A directory entry from git ("dir/") loses its slash: callers that must not mistake a directory
 * for a file look at the raw entry.
 */
import { normalize, sep } from 'node:path';

export function normalRel(p: string): string {
  return normalize(p).split(sep).join('/').replace(/^\.\//, '').replace(/\/$/, '');
}
