/**
 * Workspace: the user's git repository being researched.
 *
 * Contract:
 * - Never touches the user's branches, index or working tree: the study lives on its own branch
 *   `autoresearch/<tag>`, checked out in a separate git worktree under `.autoresearch/`.
 * - The only writes to the user's checkout are `.git/info/exclude` entries (so the harness's own
 *   files never make the tree dirty) and files under `.autoresearch/` and `results.tsv`.
 * - Methods return values for expected conditions (dirty tree, missing branch) and throw
 *   `GitError` only when git itself fails unexpectedly.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Git } from './git.js';
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
      return { ok: false, message: `${root} is not a git repository. Run \`git init && git add -A && git commit -m init\` there, or \`autoresearch init\`.` };
    }
    if (resolve(top.stdout.trim()) !== root) {
      return { ok: false, message: `${root} is inside the git repository ${top.stdout.trim()}; run autoresearch from the repository's top level (where autoresearch.toml lives).` };
    }
    const head = await git.run(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']);
    if (head.code !== 0) {
      return { ok: false, message: `the repository in ${root} has no commits yet. Commit your files first: git add -A && git commit -m init` };
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

  async createBranch(branch: string, at: string): Promise<void> {
    await this.git.ok(['branch', branch, at]);
  }

  /** Where the worktree of a study slot lives. */
  worktreePath(tag: string, slot = 0): string {
    return join(this.stateDir, 'worktrees', slot === 0 ? tag : `${tag}-${slot}`);
  }

  /**
   * Checks out `branch` in a worktree at `path` (re-using a healthy one, repairing a stale one
   * left by a killed run). Returns an error message when git refuses, e.g. because the branch is
   * checked out in the user's own checkout.
   */
  async openWorktree(branch: string, path: string): Promise<{ ok: true; worktree: Worktree } | { ok: false; message: string }> {
    await this.git.run(['worktree', 'prune']);
    const list = await this.git.ok(['worktree', 'list', '--porcelain']);
    const entries = parseWorktreeList(list);
    const mine = entries.find((e) => resolve(e.path) === resolve(path));
    if (mine && mine.branch === `refs/heads/${branch}`) {
      return { ok: true, worktree: new Worktree(path) };
    }
    if (mine) await this.git.run(['worktree', 'remove', '--force', path]);
    const elsewhere = entries.find((e) => e.branch === `refs/heads/${branch}` && resolve(e.path) !== resolve(path));
    if (elsewhere) {
      return {
        ok: false,
        message: `branch ${branch} is checked out in ${elsewhere.path}; switch that checkout to another branch (e.g. \`git -C ${elsewhere.path} checkout -\`) so the study can use it.`,
      };
    }
    mkdirSync(dirname(path), { recursive: true });
    const r = await this.git.run(['worktree', 'add', '--force', path, branch]);
    if (r.code !== 0) return { ok: false, message: `cannot create the worktree for ${branch}: ${r.stderr.trim()}` };
    return { ok: true, worktree: new Worktree(path) };
  }

  async removeWorktree(path: string): Promise<void> {
    await this.git.run(['worktree', 'remove', '--force', path]);
    await this.git.run(['worktree', 'prune']);
  }
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

/** Paths from `git status --porcelain=v1 -z` output (rename sources skipped). */
export function parsePorcelainZ(out: string): string[] {
  const parts = out.split('\0');
  const paths: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const entry = parts[i]!;
    if (entry.length < 4) continue;
    const xy = entry.slice(0, 2);
    paths.push(entry.slice(3));
    if (xy[0] === 'R' || xy[0] === 'C') i++; // the next part is the rename source
  }
  return paths;
}
