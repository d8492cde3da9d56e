/**
 * Workspace: the user's git repository being researched.
 *
 * Contract:
 * - Never touches the user's branches, index or working tree: the study lives on its own branch
 *   `autoresearch/<tag>` (moved to each new best), and experiments run in detached git worktrees
 *   under `.autoresearch/worktrees/<tag>/`.
 * - The only writes to the user's checkout are `.git/info/exclude` entries (so the harness's own
 *   files never make the tree dirty) and files under `.autoresearch/` and `results.tsv`.
 * - Methods return values for expected conditions (dirty tree, missing branch) and throw
 *   `GitError` only when git itself fails unexpectedly.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { Git } from './git.js';
import { parsePorcelainZ } from './porcelain.js';
import { Worktree } from './worktree.js';

export const STATE_DIR = '.autoresearch';

export function studyBranch(tag: string): string {
  return `autoresearch/${tag}`;
}

export class Workspace {
  readonly git: Git;

  private constructor(readonly root: string) {
    this.git = new Git(root);
  }

  /** Opens the repository whose top level is `dir`; an error message when it is not one. */
  static async open(dir: string): Promise<{ ok: true; workspace: Workspace } | { ok: false; message: string }> {
    const root = resolve(dir);
    const git = new Git(root);
    const top = await git.run(['rev-parse', '--show-toplevel']);
    if (top.code !== 0) {
      return {
        ok: false,
        message: `${root} is not a git repository. Run \`git init && git add -A && git commit -m init\` there, or \`autoresearch init\`.`,
      };
    }
    if (resolve(top.stdout.trim()) !== root) {
      return {
        ok: false,
        message: `${root} is inside the git repository ${top.stdout.trim()}; run autoresearch from the repository's top level (where autoresearch.toml lives).`,
      };
    }
    const head = await git.run(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']);
    if (head.code !== 0) {
      return {
        ok: false,
        message: `the repository in ${root} has no commits yet. Commit your files first: git add -A && git commit -m init`,
      };
    }
    return { ok: true, workspace: new Workspace(root) };
  }

  get stateDir(): string {
    return join(this.root, STATE_DIR);
  }

  async head(): Promise<string> {
    return (await this.git.ok(['rev-parse', 'HEAD'])).trim();
  }

  async resolveCommit(ref: string): Promise<string | null> {
    const r = await this.git.run(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
    return r.code === 0 ? r.stdout.trim() : null;
  }

  async branchExists(branch: string): Promise<boolean> {
    return (await this.resolveCommit(`refs/heads/${branch}`)) !== null;
  }

  /** Tracked files with uncommitted changes (staged or not), as `git status` paths. */
  async uncommittedChanges(): Promise<string[]> {
    const out = await this.git.ok(['status', '--porcelain=v1', '-z', '--untracked-files=no']);
    return parsePorcelainZ(out);
  }

  /** Paths (of `paths`) that are not tracked in HEAD. */
  async untrackedAtHead(paths: string[]): Promise<string[]> {
    const missing: string[] = [];
    for (const p of paths) {
      const r = await this.git.run(['cat-file', '-e', `HEAD:${p}`]);
      if (r.code !== 0) missing.push(p);
    }
    return missing;
  }

  /** Adds patterns to `.git/info/exclude` (shared by all worktrees) unless already there. */
  async ensureExcluded(patterns: string[]): Promise<void> {
    const common = (await this.git.ok(['rev-parse', '--git-common-dir'])).trim();
    const file = join(resolve(this.root, common), 'info', 'exclude');
    mkdirSync(dirname(file), { recursive: true });
    const existing = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const lines = new Set(existing.split('\n').map((l) => l.trim()));
    const missing = patterns.filter((p) => !lines.has(p));
    if (missing.length === 0) return;
    const prefix = existing.length && !existing.endsWith('\n') ? '\n' : '';
    appendFileSync(file, `${prefix}# autoresearch (harness state, never committed)\n${missing.join('\n')}\n`);
  }

  /** Moves the study branch to `commit` (it is never checked out: worktrees are detached). */
  async setBranch(branch: string, commit: string): Promise<void> {
    await this.git.ok(['update-ref', '-m', 'autoresearch: frontier', `refs/heads/${branch}`, commit]);
  }

  /** Where a study's worktrees live: one per slot plus one for the proposer. */
  worktreeDir(tag: string): string {
    return join(this.stateDir, 'worktrees', tag);
  }

  /** A checkout (outside `ownDir`) that has `branch` checked out, if any. */
  async branchCheckedOutElsewhere(branch: string, ownDir: string): Promise<string | null> {
    const entries = parseWorktreeList(await this.git.ok(['worktree', 'list', '--porcelain']));
    const hit = entries.find((e) => e.branch === `refs/heads/${branch}` && !isInside(e.path, ownDir));
    return hit ? hit.path : null;
  }

  /**
   * A detached worktree at `path` on `commit`, re-using a healthy one and repairing one that a
   * killed run left behind. Detached so that every slot can hold any commit; the study branch
   * is moved explicitly with `setBranch`.
   */
  async openWorktree(path: string, commit: string): Promise<Worktree> {
    const entries = parseWorktreeList(await this.git.ok(['worktree', 'list', '--porcelain']));
    const mine = entries.find((e) => resolve(e.path) === resolve(path));
    if (mine && existsSync(path)) {
      const wt = new Worktree(path);
      await wt.resetHard(commit);
      return wt;
    }
    if (mine || existsSync(path)) {
      await this.git.run(['worktree', 'remove', '--force', path]);
      rmSync(path, { recursive: true, force: true });
      await this.git.run(['worktree', 'prune']);
    }
    mkdirSync(dirname(path), { recursive: true });
    await this.git.ok(['worktree', 'add', '--force', '--detach', path, commit]);
    return new Worktree(path);
  }

  /** Removes the worktrees under `dir` except those in `keep` (stale slots of a killed run). */
  async removeWorktreesUnder(dir: string, keep: string[] = []): Promise<void> {
    await this.git.run(['worktree', 'prune']);
    const entries = parseWorktreeList(await this.git.ok(['worktree', 'list', '--porcelain']));
    const kept = new Set(keep.map((k) => resolve(k)));
    for (const e of entries) {
      if (isInside(e.path, dir) && !kept.has(resolve(e.path)))
        await this.git.run(['worktree', 'remove', '--force', e.path]);
    }
    if (keep.length === 0) rmSync(dir, { recursive: true, force: true });
    await this.git.run(['worktree', 'prune']);
  }
}

function isInside(path: string, dir: string): boolean {
  const p = resolve(path);
  const d = resolve(dir);
  return p === d || p.startsWith(d + sep);
}

interface WorktreeEntry {
  path: string;
  branch: string | null;
}

function parseWorktreeList(text: string): WorktreeEntry[] {
  const entries: WorktreeEntry[] = [];
  for (const block of text.split('\n\n')) {
    const lines = block.split('\n');
    const path = lines.find((l) => l.startsWith('worktree '))?.slice('worktree '.length);
    if (!path) continue;
    const branch = lines.find((l) => l.startsWith('branch '))?.slice('branch '.length) ?? null;
    entries.push({ path, branch });
  }
  return entries;
}
