import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { git, makeLandscapeRepo } from '../test-support/landscape.ts';
import { Git } from './git.js';
import { type CommitRecipe, materialise } from './materialise.js';
import { reapply } from './reapply.js';
import { Workspace } from './workspace.js';

const tmp = mkdtempSync(join(tmpdir(), 'ar-mat-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const PIN = { name: 'autoresearch', email: 'autoresearch@localhost', date: '@1764547200 +0000' };

async function open(dir: string): Promise<Workspace> {
  const r = await Workspace.open(dir);
  assert.ok(r.ok);
  return r.workspace;
}

describe('materialise', () => {
  it('rebuilds another clone’s commits (proposal, re-applied, repaired) with the same hashes', async () => {
    const a = makeLandscapeRepo();
    const b = join(tmp, 'clone-b');
    execFileSync('git', ['clone', '--quiet', a, b]);
    // Host A: a proposal commit, then a second change re-applied onto it, then a repair (amend)
    const wsA = await open(a);
    const base = await wsA.head();
    const wt = await wsA.openWorktree(join(tmp, 'wt-a'), base);
    wt.git.pin(PIN);
    const recipes: CommitRecipe[] = [];
    const edit = (from: string, to: string) => {
      const f = join(wt.path, 'train.mjs');
      writeFileSync(f, readFileSync(f, 'utf8').replace(from, to));
    };
    edit('const LR = 0.01;', 'const LR = 0.02;');
    const d1 = await wt.diff(['train.mjs'], []);
    const c1 = await wt.commit(['train.mjs'], 'LR 0.02', []);
    recipes.push({ commit: c1, parent: base, diff: d1, message: 'LR 0.02' });
    // a change made on base, re-applied onto c1 (commit-tree)
    await wt.resetHard(base);
    edit('const DROPOUT = 0.5;', 'const DROPOUT = 0.3;');
    const side = await wt.commit(['train.mjs'], 'dropout 0.3', []);
    const moved = await reapply(wt, { parent: base, commit: side, diff: '' }, c1, 'dropout 0.3');
    assert.ok(moved.ok);
    recipes.push({
      commit: moved.commit,
      parent: c1,
      diff: await wt.diffCommits(c1, moved.commit),
      message: 'dropout 0.3',
    });
    // a repair: the same parent, the change plus a fix (amend)
    edit('const WIDTH = 32;', 'const WIDTH = 64;');
    const fixed = await wt.amend(['train.mjs'], 'dropout 0.3');
    recipes.push({ commit: fixed, parent: c1, diff: await wt.diffCommits(c1, fixed), message: 'dropout 0.3' });

    const gitB = new Git(b);
    gitB.pin(PIN);
    const recipeOf = (c: string) => recipes.find((r) => r.commit === c) ?? null;
    assert.notEqual((await gitB.run(['cat-file', '-e', `${fixed}^{commit}`])).code, 0, 'B lacks it');
    const r = await materialise(gitB, fixed, recipeOf);
    assert.deepEqual(r, { ok: true, created: [c1, fixed] });
    assert.equal(git(b, ['show', `${fixed}:train.mjs`]), git(a, ['show', `${fixed}:train.mjs`]));
    assert.deepEqual(await materialise(gitB, moved.commit, recipeOf), { ok: true, created: [moved.commit] });
    assert.deepEqual(await materialise(gitB, fixed, recipeOf), { ok: true, created: [] }, 'already there');
  });

  it('reports a recipe that does not give the recorded commit, and an unknown commit', async () => {
    const a = makeLandscapeRepo();
    const g = new Git(a);
    g.pin(PIN);
    const base = git(a, ['rev-parse', 'HEAD']).trim();
    const ghost = 'f'.repeat(40);
    const unknown = await materialise(g, ghost, () => null);
    assert.equal(unknown.ok, false);
    assert.match(!unknown.ok ? unknown.reason : '', /no recipe/);
    const lie = await materialise(g, ghost, (c) =>
      c === ghost ? { commit: ghost, parent: base, diff: '', message: 'x' } : null,
    );
    assert.match(!lie.ok ? lie.reason : '', /rebuilding fffffff from the ledger gave [0-9a-f]{7}/);
    const bad = await materialise(g, ghost, (c) =>
      c === ghost ? { commit: ghost, parent: base, diff: 'not a diff at all\n', message: 'x' } : null,
    );
    assert.match(!bad.ok ? bad.reason : '', /rebuilding fffffff: git apply failed/);
  });
});
