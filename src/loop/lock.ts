/**
 * A per-study lock file so that two `run`s never drive the same study at once.
 *
 * Contract: `acquireStudyLock` never throws for a held lock: it returns the holder. A lock left
 * by a process that no longer exists (kill -9) is taken over. Taking over is race-free: the stale
 * file is first renamed away (only one process can win that rename), then created with O_EXCL.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: number;
}

export interface StudyLock {
  release(): void;
}

export type LockResult = { ok: true; lock: StudyLock } | { ok: false; holder: LockHolder };

export function acquireStudyLock(path: string): LockResult {
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 5; attempt++) {
    const me: LockHolder = { pid: process.pid, host: hostname(), startedAt: Date.now() };
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      let released = false;
      return {
        ok: true,
        lock: {
          release() {
            if (released) return;
            released = true;
            if (readHolder(path)?.pid === me.pid) rmSync(path, { force: true });
          },
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readHolder(path);
    if (holder && isAlive(holder)) return { ok: false, holder };
    try {
      renameSync(path, `${path}.stale-${process.pid}-${attempt}`);
      rmSync(`${path}.stale-${process.pid}-${attempt}`, { force: true });
    } catch {
      // another process removed it first; try again
    }
  }
  const holder = readHolder(path);
  return { ok: false, holder: holder ?? { pid: 0, host: 'unknown', startedAt: 0 } };
}

function readHolder(path: string): LockHolder | null {
  if (!existsSync(path)) return null;
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
    return typeof h.pid === 'number' ? h : null;
  } catch {
    return null; // half-written by a killed process: stale
  }
}

function isAlive(h: LockHolder): boolean {
  if (h.host !== hostname()) return true; // can't tell: assume alive
  if (h.pid === process.pid) return true; // this process holds it (another study object in it)
  try {
    process.kill(h.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The process holding the lock at `path` when it is alive, else null (never throws). */
export function liveLockHolder(path: string): LockHolder | null {
  const h = readHolder(path);
  return h && h.pid !== process.pid && isAlive(h) ? h : null;
}

export function studyLockPath(stateDir: string, tag: string): string {
  return join(stateDir, 'locks', `${tag}.lock`);
}
