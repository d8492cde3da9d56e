/**
 * Worktree: the harness's own checkout of the study branch, where proposers edit and runs run.
 *
 * Contract: everything here may discard uncommitted state in the worktree (it belongs to the
 * harness, never to the user). Expected outcomes are values; `GitError` only when git fails.
 */
import { existsSync, lstatSync, symlinkSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { Git } from './git.js';
import { parsePorcelainZ } from './porcelain.js';
import { normalRel } from './rel-path.js';

/** Stored diffs are capped so that a proposer writing a huge file can't bloat the ledger. */
export const DIFF_CAP_BYTES = 1024 * 1024;

export interface ChangeCheck {
  /** Every path the proposal created, modified or deleted (relative to the worktree). */
  changed: string[];
  /** Changed paths outside the editable files. */
  forbidden: string[];
  /** Changed paths that git does not track yet (new files). */
  untracked: string[];
}

export class Worktree {
  readonly git: Git;
  /** Paths symlinked in by `linkFrom`: never reported as changes, never cleaned. */
  private links: string[] = [];

  constructor(readonly path: string) {
    this.git = new Git(path);
  }

  async head(): Promise<string> {
    return (await this.git.ok(['rev-parse', 'HEAD'])).trim();
  }

  /** Moves the branch and the files to `commit`, dropping every uncommitted change. */
  async resetHard(commit: string): Promise<void> {
    await this.git.ok(['reset', '--hard', '--quiet', commit]);
    await this.clean();
  }

  /** True when `commit` names a commit of this repository (one cheap git call; files untouched). */
  async hasCommit(commit: string): Promise<boolean> {
    return (await this.git.run(['cat-file', '-e', `${commit}^{commit}`])).code === 0;
  }

  /**
   * Removes every untracked file, ignored ones included (`__pycache__`, build outputs, what a run
   * or a proposer left), except the `[files].link` paths: nothing one run leaves reaches the next.
   * (With `-x`, git still honours the `-e` patterns.)
   */
  private async clean(): Promise<void> {
    await this.git.ok(['clean', '-fdqx', ...this.links.flatMap((l) => ['-e', `/${l}`])]);
  }

  /** The `[files].link` paths symlinked into this worktree (worktree-relative). */
  linkedPaths(): readonly string[] {
    return this.links;
  }

  /** Ignored files present now (a snapshot, to spot ignored files a proposer creates). */
  async ignoredFiles(): Promise<Set<string>> {
    return (await this.status()).ignored;
  }

  /** One `git status` with everything: changed (tracked and new) and ignored paths. */
  private async status(): Promise<{ changed: string[]; untracked: string[]; ignored: Set<string> }> {
    const out = await this.git.ok(['status', '--porcelain=v1', '-z', '--ignored=traditional', '--untracked-files=all']);
    const ignored = new Set<string>();
    const rest: string[] = [];
    for (const entry of out.split('\0')) {
      if (entry.startsWith('!! ')) ignored.add(entry.slice(3));
      else if (entry) rest.push(entry);
    }
    const linked = new Set(this.links);
    const changed = parsePorcelainZ(rest.join('\0')).filter((p) => !linked.has(normalRel(p)));
    const untracked = rest
      .filter((e) => e.startsWith('?? '))
      .map((e) => e.slice(3))
      .filter((p) => changed.includes(p));
    return { changed, untracked, ignored };
  }

  /**
   * Lists what changed since HEAD (tracked edits, new untracked files, and ignored files that
   * were not in `ignoredBefore`) and which of those are outside `editable`.
   */
  async checkChanges(editable: string[], ignoredBefore: Set<string>): Promise<ChangeCheck> {
    const st = await this.status();
    const changed = [...st.changed];
    const untracked = [...st.untracked];
    for (const p of st.ignored) {
      if (!ignoredBefore.has(p)) {
        changed.push(p);
        untracked.push(p);
      }
    }
    const allowed = new Set(editable.map(normalRel));
    // A directory entry ("dir/": a new ignored directory) is never an editable file.
    const forbidden = changed.filter((p) => p.endsWith('/') || !allowed.has(normalRel(p)));
    return { changed, forbidden, untracked };
  }

  /**
   * Unified diff of `paths` (from checkChanges) against HEAD, new files included (capped).
   * `untracked` names the new ones among them (all of them when not given).
   */
  async diff(paths: string[], untracked: string[] = paths): Promise<string> {
    if (paths.length === 0) return '';
    const fresh = paths.filter((p) => untracked.includes(p));
    if (fresh.length) await this.git.ok(['add', '-N', '-f', '--', ...fresh]);
    const d = await this.git.ok(['diff', '--no-color', '--no-ext-diff', 'HEAD', '--', ...paths]);
    if (fresh.length) await this.git.ok(['reset', '--quiet', '--', ...fresh]);
    if (Buffer.byteLength(d) <= DIFF_CAP_BYTES) return d;
    return `${d.slice(0, DIFF_CAP_BYTES)}\n[autoresearch: diff truncated at ${DIFF_CAP_BYTES} bytes]\n`;
  }

  /**
   * Commits exactly `files` with `message`; returns the new commit. `untracked` names the new
   * files among them (all of them when not given), which must be added first.
   */
  async commit(files: string[], message: string, untracked: string[] = files): Promise<string> {
    const id = await this.git.identityArgs();
    const fresh = files.filter((f) => untracked.includes(f));
    if (fresh.length) await this.git.ok(['add', '-A', '--', ...fresh]);
    await this.git.ok([
      ...id,
      'commit',
      '--quiet',
      '--no-verify',
      '--allow-empty-message',
      '-m',
      message,
      '--',
      ...files,
    ]);
    return this.head();
  }

  /** Replaces HEAD with a commit of the same parent holding HEAD's change plus `files` edits. */
  async amend(files: string[], message: string): Promise<string> {
    const id = await this.git.identityArgs();
    await this.git.ok(['add', '-A', '--', ...files]);
    await this.git.ok([...id, 'commit', '--quiet', '--no-verify', '--allow-empty-message', '--amend', '-m', message]);
    return this.head();
  }

  /** Unified diff between two commits (capped like `diff`); `context` lines around changes. */
  async diffCommits(from: string, to: string, context = 3): Promise<string> {
    const d = await this.git.ok(['diff', '--no-color', '--no-ext-diff', `-U${context}`, from, to]);
    if (Buffer.byteLength(d) <= DIFF_CAP_BYTES) return d;
    return `${d.slice(0, DIFF_CAP_BYTES)}\n[autoresearch: diff truncated at ${DIFF_CAP_BYTES} bytes]\n`;
  }

  /** Puts `paths` back as they are in `commit`. */
  async restoreFiles(commit: string, paths: string[]): Promise<void> {
    if (paths.length) await this.git.ok(['checkout', commit, '--', ...paths]);
  }

  /**
   * Symlinks untracked paths of the user's checkout (data, .venv) into the worktree when the
   * worktree lacks them. Paths outside the workspace are refused (returned as problems).
   */
  linkFrom(root: string, paths: string[]): string[] {
    const problems: string[] = [];
    for (const p of paths) {
      const src = resolve(root, p);
      if (!src.startsWith(resolve(root) + sep)) {
        problems.push(`[files].link: ${p} is outside the workspace`);
        continue;
      }
      if (!existsSync(src)) {
        problems.push(`[files].link: ${p} does not exist in ${root}`);
        continue;
      }
      const rel = normalRel(relative(root, src));
      const dst = join(this.path, rel);
      if (!this.links.includes(rel)) this.links.push(rel);
      if (existsSync(dst) || isSymlink(dst)) continue;
      symlinkSync(src, dst);
    }
    return problems;
  }
}

function isSymlink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
