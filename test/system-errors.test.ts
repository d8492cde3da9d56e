import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteLedger } from '../src/ledger/sqlite.js';
import { cli } from '../src/test-support/cli.js';
import { git, makeLandscapeRepo } from '../src/test-support/landscape.js';

const GREEDY = '[judge]\nkind = "greedy"\nnoise_runs = 1\n';

describe('the machine fails, not the program: one clear line', () => {
  it('git not installed: run, init and demo say so (not "not a git repository"), exit 69', () => {
    const dir = makeLandscapeRepo({ extraToml: GREEDY });
    const env = { PATH: mkdtempSync(join(tmpdir(), 'ar-nogit-path-')) }; // a PATH without git
    for (const args of [
      ['run', dir, '-n', '1'],
      ['init', join(dir, 'sub'), '--command', 'node t.mjs', '--editable', 't.mjs'],
      ['demo', '--dir', join(dir, 'demo')],
    ]) {
      const r = cli(args, { env });
      assert.equal(r.code, 69, `${args[0]}: ${r.stderr}`);
      assert.equal(
        r.stderr.trim(),
        'autoresearch: git is not installed (or not on PATH): install git (e.g. apt-get install git, brew install git) and run again',
        args[0],
      );
      assert.doesNotMatch(r.stdout + r.stderr, /not a git repository|internal error/);
    }
  });

  it('disk full at any step (git, ledger, files): one line, exit 75, then the study resumes once there is room', async (t) => {
    const mnt = mkdtempSync(join(tmpdir(), 'ar-tmpfs-'));
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt]);
    if (mounted.status !== 0) {
      t.skip('needs a small tmpfs (mount as root) to fill the disk for real');
      return;
    }
    try {
      const ws = join(mnt, 'ws');
      cpSync(makeLandscapeRepo({ extraToml: GREEDY }), ws, { recursive: true });
      const fill = join(mnt, 'fill');
      const fillLeaving = (kb: number) => {
        rmSync(fill, { force: true });
        const s = statfsSync(mnt);
        const availKb = Math.floor((Number(s.bavail) * Number(s.bsize)) / 1024);
        execFileSync('dd', ['if=/dev/zero', `of=${fill}`, 'bs=1k', `count=${Math.max(0, availKb - kb)}`], {
          stdio: 'ignore',
        });
      };
      const seen = new Set<string>();
      for (const kb of [8, 40, 120, 200, 300, 400]) {
        fillLeaving(kb);
        const r = cli(['run', ws, '-n', '60', '--json']);
        if (r.code === 0) break; // enough room to finish: nothing more to provoke
        assert.equal(r.code, 75, `${kb} KB left: ${r.stderr}`);
        assert.match(
          r.stderr,
          /^autoresearch: the disk is full( \([^)]+\))?: free space and run again; the study resumes where it stopped\n$/,
          `${kb} KB left`,
        );
        seen.add(/\(([^)]+)\)/.exec(r.stderr)?.[1]?.replace(/ \/.*/, '') ?? '');
      }
      assert.ok(seen.size >= 2, `failed at several places: ${[...seen].join(', ')}`);
      rmSync(fill);
      const r = cli(['run', ws, '-n', '12', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const ledger = SqliteLedger.open(join(ws, '.autoresearch', 'ledger.db'));
      try {
        const s = (await ledger.getStudy('test'))!;
        const all = await ledger.listExperiments(s.id);
        assert.ok(all.filter((e) => !e.baseline).length >= 12);
        assert.equal(all.filter((e) => e.status === 'running').length, 0);
        assert.equal(git(ws, ['rev-parse', 'autoresearch/test']).trim(), s.bestCommit);
      } finally {
        await ledger.close();
      }
    } finally {
      spawnSync('umount', [mnt]);
    }
  });
});
