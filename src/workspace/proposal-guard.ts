/**
 * The harness's own check of what a proposer did to a worktree, whatever the proposer is (the
 * LLM agent, a coding-agent CLI, the search): a snapshot before the proposer runs, compared after.
 *
 * - HEAD and index: a proposer that committed, staged, checked out a branch or flagged index
 *   entries (assume-unchanged) is folded back: HEAD is detached at the start commit again and
 *   the index rebuilt from it, so all it did is a working-tree change and goes through the usual
 *   check (`Worktree.checkChanges`).
 * - What git does not list: files under the `[files].link` targets (the user's real data and
 *   .venv: a write there cannot be undone, only reported) and files that were ignored before.
 *   Their lstat stamps (size, mtime, ctime, inode, mode; directories too, so new and removed
 *   entries show) are compared. A process cannot set ctime back, so restoring mtime hides
 *   nothing. Content is not hashed: a .venv has tens of thousands of files.
 * - Editable paths that are no longer regular files (a symlink: the run would execute code the
 *   recorded diff does not contain).
 *
 * Contract: never throws for what the proposer did; `GitError` only when git fails unexpectedly.
 * The walk of link targets is bounded (`maxEntries`): past it only the entries seen are
 * compared (`complete` false).
 */
import { lstatSync, readdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import type { ChangeCheck, Worktree } from './worktree.js';

export interface GuardSnapshot {
  /** The commit the proposer started from (HEAD, detached). */
  head: string;
  /** Ignored paths present before (passed to `checkChanges` as "ignored before"). */
  ignored: Set<string>;
  /** Stamps of ignored files and of everything under the link targets, by display name. */
  stamps: Map<string, string>;
  /** Each link (worktree-relative) and the real path it pointed to before. */
  targets: Map<string, string>;
  complete: boolean;
}

export interface GuardedChanges extends ChangeCheck {
  /** The proposer moved HEAD or the index (a commit, a checkout, `git add`): folded back. */
  folded: boolean;
  /** Writes git does not list (through links, to ignored files) and editable non-files. */
  hidden: string[];
}

const MAX_ENTRIES = 100_000;

export async function guardBefore(wt: Worktree, maxEntries = MAX_ENTRIES): Promise<GuardSnapshot> {
  const head = await wt.head();
  const ignored = await wt.ignoredFiles();
  const targets = new Map<string, string>();
  for (const l of wt.linkedPaths()) {
    try {
      targets.set(l, realpathSync(join(wt.path, l)));
    } catch {
      // a dangling link: nothing behind it to protect
    }
  }
  const { stamps, complete } = takeStamps(wt.path, ignored, targets, maxEntries);
  return { head, ignored, stamps, targets, complete };
}

/** Folds the proposer's commits and staging back into the working tree, then checks it all. */
export async function guardAfter(wt: Worktree, before: GuardSnapshot, editable: string[]): Promise<GuardedChanges> {
  const folded = await foldBack(wt, before.head);
  const check = await wt.checkChanges(editable, before.ignored);
  const after = takeStamps(wt.path, before.ignored, before.targets, before.stamps.size + MAX_ENTRIES);
  const hidden: string[] = [];
  for (const [name, stamp] of before.stamps) if (after.stamps.get(name) !== stamp) hidden.push(name);
  for (const name of after.stamps.keys()) if (!before.stamps.has(name) && before.complete) hidden.push(name);
  const allowed = new Set(editable.map((e) => e.replace(/^\.\//, '')));
  for (const p of check.changed) {
    if (!allowed.has(p)) continue;
    const st = lstatOrNull(join(wt.path, p));
    if (st && !st.isFile()) hidden.push(`${p} (${st.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'})`);
  }
  return { ...check, folded, hidden: [...new Set(hidden)] };
}

/** The rejection reason for what the guard found (outside the editable files), or null. */
export function guardRejection(c: GuardedChanges): string | null {
  if (c.hidden.length)
    return `the proposal wrote outside [files].editable where git does not look: ${listed(c.hidden)}`;
  if (c.forbidden.length) {
    const how = c.folded ? ' (in commits or staging it made itself, folded into one change)' : '';
    return `the proposal touched file(s) outside [files].editable: ${c.forbidden.join(', ')}${how}`;
  }
  return null;
}

function listed(xs: string[], n = 5): string {
  return xs.slice(0, n).join(', ') + (xs.length > n ? `, ... (${xs.length} in all)` : '');
}

/**
 * HEAD back to `start` (detached) and a fresh index of its tree (`read-tree`: no staged change,
 * no assume-unchanged or skip-worktree bit that would hide an edit from `git status`); true when
 * anything had moved.
 */
async function foldBack(wt: Worktree, start: string): Promise<boolean> {
  const git = wt.git;
  const attached = (await git.run(['symbolic-ref', '-q', 'HEAD'])).code === 0;
  const head = await git.run(['rev-parse', '--verify', '--quiet', 'HEAD']);
  let moved = false;
  if (attached || head.code !== 0 || head.stdout.trim() !== start) {
    await git.ok(['update-ref', '--no-deref', '-m', "autoresearch: fold the proposer's commits", 'HEAD', start]);
    moved = true;
  }
  const staged = (await git.run(['diff', '--cached', '--quiet', '--no-ext-diff'])).code !== 0;
  const flagged = /(^|\0)([a-z]|S) /.test(await git.ok(['ls-files', '-v', '-z']));
  await git.ok(['read-tree', 'HEAD']);
  return moved || staged || flagged;
}

function takeStamps(
  root: string,
  ignored: Set<string>,
  targets: Map<string, string>,
  maxEntries: number,
): { stamps: Map<string, string>; complete: boolean } {
  const stamps = new Map<string, string>();
  let complete = true;
  const linkNames = new Set(targets.keys());
  for (const p of ignored) {
    const rel = p.replace(/\/$/, '');
    if (linkNames.has(rel)) continue; // the link itself is stamped below
    const st = lstatOrNull(join(root, rel));
    stamps.set(`${rel} (ignored file)`, st ? stampOf(st) : 'gone');
  }
  for (const [link, target] of targets) {
    const self = lstatOrNull(join(root, link));
    stamps.set(`${link} (the link itself)`, self ? `${stampOf(self)}` : 'gone');
    const walk = (abs: string, rel: string) => {
      if (stamps.size >= maxEntries) {
        complete = false;
        return;
      }
      const st = lstatOrNull(abs);
      stamps.set(`${rel} (through the link ${link})`, st ? stampOf(st) : 'gone');
      if (!st?.isDirectory()) return;
      let names: string[];
      try {
        names = readdirSync(abs).sort();
      } catch {
        return;
      }
      for (const n of names) walk(join(abs, n), `${rel}/${n}`);
    };
    walk(target, link);
  }
  return { stamps, complete };
}

function lstatOrNull(p: string) {
  try {
    return lstatSync(p, { bigint: true });
  } catch {
    return null;
  }
}

function stampOf(st: NonNullable<ReturnType<typeof lstatOrNull>>): string {
  return `${st.mode}:${st.size}:${st.ino}:${st.mtimeNs}:${st.ctimeNs}`;
}
