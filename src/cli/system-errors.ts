/**
 * Turns the machine's own failures into one clear line for people instead of "internal error":
 * a full disk (or an exhausted quota) wherever it shows up — a ledger write, a log, a results
 * file, git — and a missing `git` binary.
 *
 * Contract: pure classification (plus `statfs` of the directories given); never throws. Returns
 * null when the error is none of these (then it is a bug, reported as one).
 */
import { spawnSync } from 'node:child_process';
import { statfsSync } from 'node:fs';

/** Exit code for a full disk: EX_TEMPFAIL (sysexits.h) — free space and run again. */
export const DISK_FULL_EXIT = 75;
/** Exit code for a missing git: EX_UNAVAILABLE (sysexits.h). */
export const NO_GIT_EXIT = 69;

export const NO_GIT_MESSAGE =
  'git is not installed (or not on PATH): install git (e.g. apt-get install git, brew install git) and run again';

/** Below this much free space, an I/O failure is taken for a full disk (SQLite says "disk I/O error"). */
const NEARLY_FULL_BYTES = 1024 * 1024;

const FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);
/** How the OS, git and SQLite say it: strerror(ENOSPC / EDQUOT), git's "Out of diskspace", SQLite's SQLITE_FULL. */
const FULL_TEXT =
  /\bENOSPC\b|\bEDQUOT\b|No space left on device|Disk quota exceeded|Out of diskspace|database or disk is full/i;

export interface Explained {
  message: string;
  exitCode: number;
}

/**
 * The one line for `err`, or null. `dirs`: directories whose file system the command writes to
 * (the workspace, its state directory); when one of them has (almost) no free space left, an
 * I/O failure there is reported as a full disk even when its text does not say so.
 */
export function explainSystemError(err: unknown, dirs: readonly string[] = []): Explained | null {
  const chain = errorChain(err);
  if (chain.some(isGitMissing)) return { message: NO_GIT_MESSAGE, exitCode: NO_GIT_EXIT };
  const full = chain.find((e) => FULL_CODES.has(codeOf(e)) || FULL_TEXT.test(textOf(e)));
  if (full) return diskFull(whereOf(full, chain) ?? fullestDir(dirs)?.dir ?? null);
  const nearly = fullestDir(dirs);
  if (nearly && nearly.free < NEARLY_FULL_BYTES) return diskFull(nearly.dir);
  return null;
}

/** The line for a full disk; `where` names the file, the ledger or the git step when known. */
export function diskFull(where: string | null): Explained {
  return {
    message: `the disk is full${where ? ` (${where})` : ''}: free space and run again; the study resumes where it stopped`,
    exitCode: DISK_FULL_EXIT,
  };
}

/** True when the `git` binary can be started (spawning it does not fail with ENOENT / EACCES). */
export function gitInstalled(env: NodeJS.ProcessEnv = process.env): boolean {
  const r = spawnSync('git', ['--version'], { env, stdio: 'ignore' });
  return !r.error;
}

/** The error, its `cause`s and an AggregateError's `errors`, outermost first (cycles cut). */
function errorChain(err: unknown): unknown[] {
  const out: unknown[] = [];
  const todo = [err];
  while (todo.length && out.length < 20) {
    const e = todo.shift();
    if (e === undefined || e === null || out.includes(e)) continue;
    out.push(e);
    if (typeof e === 'object') {
      const o = e as { cause?: unknown; errors?: unknown };
      if (o.cause !== undefined) todo.push(o.cause);
      if (Array.isArray(o.errors)) todo.push(...o.errors);
    }
  }
  return out;
}

function codeOf(e: unknown): string {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : '';
}

function textOf(e: unknown): string {
  if (typeof e === 'string') return e;
  const o = e as { message?: unknown; stderr?: unknown } | null;
  return `${typeof o?.message === 'string' ? o.message : ''}\n${typeof o?.stderr === 'string' ? o.stderr : ''}`;
}

/** `spawn git ENOENT` (execFile / spawn of git that is not on PATH), raw or quoted in a message. */
function isGitMissing(e: unknown): boolean {
  const o = e as { code?: unknown; path?: unknown; syscall?: unknown } | null;
  if (o && o.code === 'ENOENT' && (o.path === 'git' || o.syscall === 'spawn git')) return true;
  return /\bspawn git ENOENT\b/.test(textOf(e));
}

/** Where the write failed: the file of an fs error, the ledger, or the git command. */
function whereOf(full: unknown, chain: unknown[]): string | null {
  const path = (full as { path?: unknown } | null)?.path;
  if (typeof path === 'string' && path) return `writing ${path}`;
  for (const e of chain) {
    const o = e as { name?: unknown; args?: unknown } | null;
    if (o?.name === 'GitError' && Array.isArray(o.args)) return `git ${String(o.args[0] ?? '')}`.trim();
    if (o?.name === 'LedgerError' || /^SQLITE_/.test(codeOf(e))) return 'writing the ledger';
  }
  const quoted = /'(\/[^']+)'/.exec(textOf(full));
  return quoted ? `writing ${quoted[1]}` : null;
}

/** The directory among `dirs` with the least space available to this user, and that space. */
function fullestDir(dirs: readonly string[]): { dir: string; free: number } | null {
  let best: { dir: string; free: number } | null = null;
  for (const dir of dirs) {
    try {
      const s = statfsSync(dir);
      const free = Number(s.bavail) * Number(s.bsize);
      if (!best || free < best.free) best = { dir, free };
    } catch {
      // gone or unreadable: says nothing about space
    }
  }
  return best;
}
