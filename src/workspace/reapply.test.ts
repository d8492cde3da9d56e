import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { git, makeLandscapeRepo } from '../test-support/landscape.js';
import { reapply } from './reapply.js';
import { Workspace } from './workspace.js';

const F_AND_G = ['def f():', '    x = 1', '    return x', '', 'def g():', '    y = 2', '    return y', ''].join('\n');

/** A repo with t.py at B; X (on B) adds a line inside g(); B' (on B) inserts lines above g. */
async function fixture() {
  const dir = makeLandscapeRepo();
  const commit = (msg: string) => {
    git(dir, ['add', '-A']);
    git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', msg]);
    return git(dir, ['rev-parse', 'HEAD']).trim();
  };
  writeFileSync(join(dir, '.gitignore'), '__pycache__/\n');
  writeFileSync(join(dir, 't.py'), F_AND_G);
  const B = commit('B');
  writeFileSync(join(dir, 't.py'), F_AND_G.replace('    y = 2\n', '    y = 2\n    y += 1\n'));
  const X = commit('X');
  const diff = git(dir, ['diff', B, X]);
  git(dir, ['checkout', '--quiet', B]);
  writeFileSync(join(dir, 't.py'), `import os\nimport sys\n\n${F_AND_G}`);
  const Bp = commit("B'");
  git(dir, ['checkout', '--quiet', B]);
  writeFileSync(join(dir, 't.py'), F_AND_G.replace('    y = 2\n', '    y = 5\n'));
  const Y = commit('Y: the same line as X');
  git(dir, ['checkout', '--quiet', 'main']);
  const ws = await Workspace.open(dir);
  assert.ok(ws.ok);
  const wt = await ws.workspace.openWorktree(join(dir, '.autoresearch', 'wt'), Bp);
  return { dir, wt, B, X, Bp, Y, diff };
}

const EXPECTED = `import os\nimport sys\n\n${F_AND_G.replace('    y = 2\n', '    y = 2\n    y += 1\n')}`;

describe('reapply (git three-way merge)', () => {
  it('puts a line-adding change where it was made, not at its old line number', async () => {
    const { wt, B, X, Bp } = await fixture();
    const r = await reapply(wt, { parent: B, commit: X, diff: '' }, Bp, 'X again');
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.how, 'merge');
    assert.deepEqual(r.changed, ['t.py']);
    assert.equal(readFileSync(join(wt.path, 't.py'), 'utf8'), EXPECTED);
    assert.equal(await wt.head(), r.commit);
    assert.equal(git(wt.path, ['rev-parse', `${r.commit}^`]).trim(), Bp, 'committed on the new base');
    assert.equal(git(wt.path, ['log', '-1', '--format=%s', r.commit]).trim(), 'X again');
    assert.equal(git(wt.path, ['status', '--porcelain']), '', 'the worktree is clean at the new commit');
  });

  it("a conflict is a value with git's reason; the worktree stays at the new base", async () => {
    const { wt, B, X, Y } = await fixture();
    const r = await reapply(wt, { parent: B, commit: X, diff: '' }, Y, 'X again');
    assert.deepEqual(r, { ok: false, reason: 'CONFLICT (content): Merge conflict in t.py' });
    assert.equal(await wt.head(), Y);
    assert.equal(git(wt.path, ['status', '--porcelain']), '');
  });

  it('without the commit (garbage-collected), applies the stored diff three-way, full context', async () => {
    const { wt, B, Bp, Y, diff } = await fixture();
    const gone = 'f'.repeat(40);
    const r = await reapply(wt, { parent: B, commit: gone, diff }, Bp, 'X from its diff');
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.how, 'diff');
    assert.equal(readFileSync(join(wt.path, 't.py'), 'utf8'), EXPECTED);
    const none = await reapply(wt, { parent: B, commit: null, diff }, Y, 'X from its diff');
    assert.equal(none.ok, false);
    assert.match((none as { reason: string }).reason, /conflict/i);
    assert.equal(await wt.head(), Y);
    assert.deepEqual(await reapply(wt, { parent: B, commit: null, diff: '' }, Bp, 'x'), {
      ok: false,
      reason: 'empty change',
    });
  });

  it('ignored files in the worktree do not matter (and are cleaned); linked paths are kept', async () => {
    const { dir, wt, B, X, Bp } = await fixture();
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'shard.bin'), 'data');
    assert.deepEqual(wt.linkFrom(dir, ['data']), []);
    mkdirSync(join(wt.path, '__pycache__'));
    writeFileSync(join(wt.path, '__pycache__', 'x.pyc'), 'stale');
    const r = await reapply(wt, { parent: B, commit: X, diff: '' }, Bp, 'X again');
    assert.ok(r.ok);
    assert.deepEqual(r.changed, ['t.py']);
    assert.equal(existsSync(join(wt.path, '__pycache__')), false, 'git clean -x removed what a run left');
    assert.equal(readFileSync(join(wt.path, 'data', 'shard.bin'), 'utf8'), 'data', 'the link survives the clean');
    assert.equal(readFileSync(join(dir, 'data', 'shard.bin'), 'utf8'), 'data');
  });
});

describe('reapply of changes on neighbouring lines', () => {
  it('merges a stale change to the line next to one the best changed (git alone would conflict)', async () => {
    const dir = makeLandscapeRepo();
    const commit = (msg: string) => {
      git(dir, ['add', '-A']);
      git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', msg]);
      return git(dir, ['rev-parse', 'HEAD']).trim();
    };
    const knobs = 'LR = 0.01\nWIDTH = 32\nDEPTH = 2\n';
    writeFileSync(join(dir, 'k.py'), knobs);
    const B = commit('B');
    writeFileSync(join(dir, 'k.py'), knobs.replace('LR = 0.01', 'LR = 0.02'));
    const X = commit('X: LR');
    git(dir, ['checkout', '--quiet', B]);
    writeFileSync(join(dir, 'k.py'), knobs.replace('WIDTH = 32', 'WIDTH = 64'));
    const best = commit('best: WIDTH');
    git(dir, ['checkout', '--quiet', 'main']);
    const ws = await Workspace.open(dir);
    assert.ok(ws.ok);
    const wt = await ws.workspace.openWorktree(join(dir, '.autoresearch', 'wt'), best);
    const r = await reapply(wt, { parent: B, commit: X, diff: '' }, best, 'LR again');
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(readFileSync(join(wt.path, 'k.py'), 'utf8'), 'LR = 0.02\nWIDTH = 64\nDEPTH = 2\n');
    assert.equal(git(wt.path, ['rev-parse', `${r.commit}^`]).trim(), best);
    assert.equal(git(wt.path, ['status', '--porcelain']), '');
  });
});
