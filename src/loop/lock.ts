/**
 * Exclusive locks the operating system releases when their holder dies: the study lock (two
 * `run`s never drive one study at once) and the GPU reservations (two studies never share a card).
 *
 * How: a lock is a SQLite file `<name>.lock.db` held in `BEGIN EXCLUSIVE` by one connection for
 * as long as the lock is held. SQLite takes POSIX fcntl locks, which the kernel drops when the
 * process dies (kill -9 included) and which child processes do not inherit; SQLite also refuses
 * a second connection of the same process. So there is no stale lock to judge and no take-over
 * race: whoever gets the exclusive lock holds it, everyone else gets SQLITE_BUSY.
 * Who holds it (pid, host, start, tag) is written to a side file `<name>.lock.json`, for messages
 * only; it is written after the lock is taken and removed before it is released.
 *
 * Contract:
 * - `acquireLock` never throws for a held lock: it returns the holder (read from the side file).
 *   It throws only for unexpected I/O errors (a directory that can't be created).
 * - The returned lock must stay reachable until `release()` (the connection is the lock).
 * - Nothing else in this process may open the `.lock.db` file (closing any descriptor of a file
 *   drops this process's fcntl locks on it); the side file is a different file for that reason.
 * - The `.lock.db` file is never deleted (deleting lock files is what makes lock schemes racy).
 */
import Database from 'better-sqlite3';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { writeAtomic } from './write-atomic.js';

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: number;
  /** The study holding it (GPU reservations say which study has the card). */
  tag?: string;
}

export interface StudyLock {
  release(): void;
}

export type LockResult = { ok: true; lock: StudyLock } | { ok: false; holder: LockHolder };

/** Unknown holder: the lock is held but its side file is missing (only for a few microseconds). */
const UNKNOWN: LockHolder = { pid: 0, host: 'unknown', startedAt: 0 };

/**
 * Takes the lock at `path` (a `.lock.db` file) if no process holds it. Waits at most `waitMs`
 * (default 250) for a momentary reader (`liveLockHolder` probing it) to let go; a holder that
 * keeps it makes this return `{ ok: false, holder }`.
 */
export function acquireLock(path: string, info: { tag?: string } = {}, waitMs = 250): LockResult {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma(`busy_timeout = ${Math.max(0, Math.round(waitMs))}`);
  try {
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
    return { ok: false, holder: awaitHolder(path) };
  }
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    startedAt: Date.now(),
    ...(info.tag ? { tag: info.tag } : {}),
  };
  writeAtomic(holderPath(path), JSON.stringify(me));
  let released = false;
  return {
    ok: true,
    lock: {
      release() {
        if (released) return;
        released = true;
        rmSync(holderPath(path), { force: true });
        db.exec('ROLLBACK');
        db.close();
      },
    },
  };
}

/** True when some connection (another process, or another lock object in this one) holds the lock. */
export function isLockHeld(path: string): boolean {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch {
    return false; // never created: never held
  }
  try {
    db.pragma('busy_timeout = 0');
    db.prepare('SELECT count(*) FROM sqlite_master').get(); // needs a shared lock: fails while one holds it
    return false;
  } catch (err) {
    if ((err as { code?: string }).code === 'SQLITE_BUSY') return true;
    throw err;
  } finally {
    db.close();
  }
}

/** The holder of the lock at `path` when another process holds it, else null (never throws). */
export function liveLockHolder(path: string): LockHolder | null {
  try {
    if (!isLockHeld(path)) return null;
  } catch {
    return null;
  }
  const h = readHolder(path) ?? UNKNOWN;
  return h.pid === process.pid ? null : h;
}

export function studyLockPath(stateDir: string, tag: string): string {
  return join(stateDir, 'locks', `${tag}.lock.db`);
}

/** The study lock: `acquireLock` on the study's lock file, the holder tagged with the study. */
export function acquireStudyLock(path: string, tag?: string): LockResult {
  return acquireLock(path, tag ? { tag } : {});
}

function holderPath(lockPath: string): string {
  return lockPath.replace(/\.db$/, '') + '.json';
}

/**
 * The holder named by the side file. A winner writes it right after taking the lock, so a loser
 * of a race may briefly see the previous (dead) holder's file or none: it waits up to ~1 s for a
 * live one.
 */
function awaitHolder(lockPath: string): LockHolder {
  const until = Date.now() + 1000;
  let h = readHolder(lockPath);
  while ((!h || !isAlive(h)) && Date.now() < until) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    h = readHolder(lockPath);
  }
  return h ?? UNKNOWN;
}

function readHolder(lockPath: string): LockHolder | null {
  try {
    const h = JSON.parse(readFileSync(holderPath(lockPath), 'utf8')) as LockHolder;
    return typeof h.pid === 'number' && typeof h.startedAt === 'number' ? h : null;
  } catch {
    return null;
  }
}

function isAlive(h: LockHolder): boolean {
  if (h.host !== hostname()) return true; // can't tell: assume alive
  try {
    process.kill(h.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Workspace-wide locks live under `locks/shared/` (a tag can't contain "/", so they never meet a
 * study's lock): one per GPU, and one for the root results.tsv.
 */
export function gpuLockPath(stateDir: string, index: number): string {
  return join(stateDir, 'locks', 'shared', `gpu-${index}.lock.db`);
}

export function resultsLockPath(stateDir: string): string {
  return join(stateDir, 'locks', 'shared', 'results-tsv.lock.db');
}
