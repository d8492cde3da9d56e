/**
 * The study lock against real processes: many racing `node` processes, holders killed with -9.
 * Only the public API (`acquireStudyLock`, `studyLockPath`, `liveLockHolder`) is used, so the
 * same test runs against any implementation of it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireStudyLock, liveLockHolder, studyLockPath } from './lock.js';

const LOCK_MODULE = new URL('./lock.ts', import.meta.url).href;

/**
 * A long-lived process driven by stdin lines:
 * - `arm <round> <epochMs>`: at that instant, try to take the lock; print `<round> won` or `<round> lost <holderPid>`
 * - `release <round>`: release the held lock; print `<round> released`
 * - `hold`: take the lock now; print `held` (the victim that gets kill -9'd)
 */
const WORKER = `
const { acquireStudyLock } = await import(${JSON.stringify(LOCK_MODULE)});
const path = process.argv.at(-1);
let held = null;
let buf = '';
process.stdin.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    const [cmd, round, at] = buf.slice(0, i).split(' ');
    buf = buf.slice(i + 1);
    if (cmd === 'hold') {
      const r = acquireStudyLock(path);
      if (r.ok) held = r.lock;
      console.log(r.ok ? 'held' : 'not-held');
    } else if (cmd === 'arm') {
      setTimeout(() => {
        while (Date.now() < Number(at)) {} // the last few ms spun, so that all start together
        const r = acquireStudyLock(path);
        if (r.ok) held = r.lock;
        console.log(r.ok ? round + ' won' : round + ' lost ' + r.holder.pid);
      }, Math.max(0, Number(at) - Date.now() - 15));
    } else if (cmd === 'release') {
      held?.release();
      held = null;
      console.log(round + ' released');
    }
  }
});
process.stdin.on('end', () => process.exit(0));
console.log('ready');
`;

interface Worker {
  child: ChildProcess;
  lines: string[];
  waitFor(pred: (line: string) => boolean, ms?: number): Promise<string>;
  send(line: string): void;
}

function startWorker(lockPath: string): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', WORKER, lockPath], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
    for (const w of waiters.splice(0)) w();
  });
  const w: Worker = {
    child,
    lines,
    send: (line) => child.stdin!.write(`${line}\n`),
    waitFor: (pred, ms = 30_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`worker ${child.pid}: timed out; lines: ${lines.join(' | ')}`)),
          ms,
        );
        const check = () => {
          const hit = lines.find(pred);
          if (hit !== undefined) {
            clearTimeout(timer);
            resolve(hit);
          } else waiters.push(check);
        };
        check();
      }),
  };
  return w;
}

async function killHard(w: Worker): Promise<void> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return;
  const exited = new Promise((r) => w.child.once('exit', r));
  w.child.kill('SIGKILL');
  await exited;
}

describe('study lock', () => {
  it('exactly one of many racing processes wins, also when a kill -9 holder left the lock behind', async () => {
    const lockPath = studyLockPath(mkdtempSync(join(tmpdir(), 'ar-lock-')), 'race');
    const N = 6;
    const ROUNDS = 10;
    const workers = Array.from({ length: N }, () => startWorker(lockPath));
    try {
      await Promise.all(workers.map((w) => w.waitFor((l) => l === 'ready')));
      for (let round = 0; round < ROUNDS; round++) {
        const stale = round % 2 === 1;
        if (stale) {
          const victim = startWorker(lockPath);
          victim.send('hold');
          assert.equal(
            await victim.waitFor((l) => l.endsWith('held')),
            'held',
            `round ${round}: the victim could not take a free lock`,
          );
          await killHard(victim);
        }
        const at = Date.now() + 300;
        for (const w of workers) w.send(`arm ${round} ${at}`);
        const results = await Promise.all(
          workers.map((w) => w.waitFor((l) => l.startsWith(`${round} w`) || l.startsWith(`${round} l`))),
        );
        const winners = workers.filter((_, i) => results[i] === `${round} won`);
        assert.equal(
          winners.length,
          1,
          `round ${round}${stale ? ' (after a kill -9 holder)' : ''}: ${winners.length} processes hold the lock: ${results.join(', ')}`,
        );
        const winnerPid = winners[0]!.child.pid;
        for (const r of results)
          if (r !== `${round} won`) assert.equal(r, `${round} lost ${winnerPid}`, 'a loser names the live holder');
        winners[0]!.send(`release ${round}`);
        await winners[0]!.waitFor((l) => l === `${round} released`);
      }
    } finally {
      for (const w of workers) await killHard(w);
    }
  });

  it('a kill -9 holder frees the lock at once; a live holder is reported, then freed by release', async () => {
    const lockPath = studyLockPath(mkdtempSync(join(tmpdir(), 'ar-lock-')), 'dead');
    const holder = startWorker(lockPath);
    try {
      holder.send('hold');
      assert.equal(await holder.waitFor((l) => l.endsWith('held')), 'held');
      const busy = acquireStudyLock(lockPath);
      assert.equal(busy.ok, false);
      assert.equal(!busy.ok && busy.holder.pid, holder.child.pid);
      assert.equal(liveLockHolder(lockPath)?.pid, holder.child.pid, 'status sees the live holder');
      await killHard(holder);
      assert.equal(liveLockHolder(lockPath), null, 'no live holder once it is dead');
      const t0 = Date.now();
      const mine = acquireStudyLock(lockPath);
      assert.ok(mine.ok, "the dead holder's lock is free");
      assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
      // a second acquisition in this same process (another study object) is refused too
      const again = acquireStudyLock(lockPath);
      assert.equal(again.ok, false);
      assert.equal(!again.ok && again.holder.pid, process.pid);
      mine.lock.release();
      const after = acquireStudyLock(lockPath);
      assert.ok(after.ok, 'free after release');
      after.lock.release();
    } finally {
      await killHard(holder);
    }
  });
});
