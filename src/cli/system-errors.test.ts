import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { LedgerError } from '../ledger/types.js';
import { GitError } from '../workspace/git.js';
import { DISK_FULL_EXIT, explainSystemError, gitInstalled, NO_GIT_EXIT } from './system-errors.js';

/** A real ENOSPC from the kernel: /dev/full refuses every write with it. */
function realEnospc(): Error {
  try {
    writeFileSync('/dev/full', 'x'.repeat(4096));
  } catch (err) {
    return err as Error;
  }
  throw new Error('/dev/full accepted a write');
}

describe('explainSystemError', () => {
  it('a real ENOSPC (a log or results write) is one line with exit 75, naming the file when known', () => {
    const err = realEnospc();
    assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
    assert.deepEqual(explainSystemError(err), {
      message: 'the disk is full: free space and run again; the study resumes where it stopped',
      exitCode: DISK_FULL_EXIT,
    });
    assert.notEqual(DISK_FULL_EXIT, 70);
    const atPath = Object.assign(err, { path: '/w/.autoresearch/results/t.tsv.tmp' });
    assert.match(
      explainSystemError(atPath)!.message,
      /^the disk is full \(writing \/w\/\.autoresearch\/results\/t\.tsv\.tmp\)/,
    );
  });

  it("git's and SQLite's words for it, also when wrapped as a cause", () => {
    // git's own messages, as seen on a full tmpfs
    const commit = new GitError(
      "git commit -m x failed: fatal: sha1 file '/w/.git/worktrees/propose/index.lock' write error. Out of diskspace",
      ['commit', '-m', 'x'],
      '',
    );
    assert.match(explainSystemError(commit)!.message, /^the disk is full \(git commit\)/);
    const wt = new GitError(
      "git worktree add failed: fatal: could not write to '/w/x/.git': No space left on device",
      ['worktree', 'add'],
      '',
    );
    assert.match(explainSystemError(wt)!.message, /^the disk is full \(git worktree\)/);
    const sqlite = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    const ledger = new LedgerError('finishExperiment failed: database or disk is full', { cause: sqlite });
    assert.match(explainSystemError(ledger)!.message, /^the disk is full \(writing the ledger\)/);
    const quota = Object.assign(new Error('EDQUOT: disk quota exceeded, write'), { code: 'EDQUOT' });
    assert.equal(explainSystemError(new Error('outer', { cause: quota }))!.exitCode, DISK_FULL_EXIT);
  });

  it('a missing git binary, raw or quoted by GitError', () => {
    const spawnErr = Object.assign(new Error('spawn git ENOENT'), {
      code: 'ENOENT',
      syscall: 'spawn git',
      path: 'git',
    });
    assert.deepEqual(explainSystemError(spawnErr)?.exitCode, NO_GIT_EXIT);
    assert.match(
      explainSystemError(new GitError('git init failed: spawn git ENOENT', ['init'], ''))!.message,
      /^git is not installed \(or not on PATH\): install git/,
    );
    assert.equal(gitInstalled(), true);
    assert.equal(gitInstalled({ ...process.env, PATH: '/nonexistent' }), false);
  });

  it('leaves bugs alone: an ordinary error with room on the disk is not explained', () => {
    assert.equal(
      explainSystemError(new TypeError("Cannot read properties of undefined (reading 'x')"), [tmpdir()]),
      null,
    );
    assert.equal(
      explainSystemError(Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT', path: '/x' })),
      null,
    );
    assert.equal(explainSystemError(undefined), null);
  });
});
