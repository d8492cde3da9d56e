import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Git } from '../workspace/git.ts';
import { buildOn, localCommitFor, type RemoteRecipe, treeOf } from './remote-commit.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function repo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'remote-commit-'));
  dirs.push(dir);
  const git = (...a: string[]) => execFileSync('git', a, { cwd: dir, encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  writeFileSync(join(dir, 'train.py'), 'lr = 0.1\nwidth = 32\n');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'base');
  return dir;
}

/** A commit made in `from` on top of its HEAD, with its diff: what a contributor posts. */
function change(dir: string, text: string, who: string): { commit: string; parent: string; diff: string } {
  const git = (...a: string[]) => execFileSync('git', a, { cwd: dir, encoding: 'utf8' });
  const parent = git('rev-parse', 'HEAD').trim();
  writeFileSync(join(dir, 'train.py'), text);
  const diff = git('diff');
  git('-c', `user.name=${who}`, '-c', 'user.email=x@x', 'commit', '-q', '-am', who);
  return { commit: git('rev-parse', 'HEAD').trim(), parent, diff };
}

describe('rebuilding a contributor commit from the hub nodes (by tree)', () => {
  it('rebuilds a two-step chain with the same trees though the hashes differ', async () => {
    const alice = repo();
    const bob = mkdtempSync(join(tmpdir(), 'remote-commit-bob-'));
    dirs.push(bob);
    execFileSync('git', ['clone', '-q', alice, bob]);
    const one = change(alice, 'lr = 0.2\nwidth = 32\n', 'alice');
    const two = change(alice, 'lr = 0.2\nwidth = 64\n', 'alice');
    const nodes = new Map<string, RemoteRecipe>([
      [one.commit, { parent: one.parent, diff: one.diff, description: 'one' }],
      [two.commit, { parent: two.parent, diff: two.diff, description: 'two' }],
    ]);
    const asked: string[] = [];
    const built = await localCommitFor(new Git(bob), two.commit, async (sha) => {
      asked.push(sha);
      return nodes.get(sha) ?? null;
    });
    assert.ok(built.ok, built.ok ? '' : built.reason);
    assert.notEqual(built.commit, two.commit, 'another identity and date: another hash');
    assert.equal(await treeOf(new Git(bob), built.commit), await treeOf(new Git(alice), two.commit), 'the same tree');
    assert.deepEqual(asked, [two.commit, one.commit], 'down to the baseline, which bob has');
    const here = await localCommitFor(new Git(alice), two.commit, async () => null);
    assert.deepEqual(here, { ok: true, commit: two.commit }, 'a commit this repository has is itself');
  });

  it('says why when a commit is unknown or a diff does not apply', async () => {
    const dir = repo();
    const git = new Git(dir);
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim();
    const missing = await localCommitFor(git, 'a'.repeat(40), async () => null);
    assert.deepEqual(missing, { ok: false, reason: 'commit aaaaaaa is neither here nor on the hub' });
    const bad = await buildOn(git, head, '--- a/train.py\n+++ b/train.py\n@@ -1 +1 @@\n-nothing like this\n+x\n', 'm');
    assert.equal(bad.ok, false);
    assert.match(bad.ok ? '' : bad.reason, /the diff does not apply/);
    const same = await buildOn(git, head, '', 'baseline');
    assert.ok(same.ok);
    assert.equal(await treeOf(git, same.commit), await treeOf(git, head), 'an empty diff: the parent tree');
  });
});
