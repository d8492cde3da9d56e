import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { changeFetcher } from '../../hub/hub-proposer.js';
import type { RemoteRecipe } from '../../hub/remote-commit.js';
import { experiment, makeProposalDir } from '../../test-support/proposal-fixtures.js';
import { guardAfter, guardBefore, guardRejection } from '../../workspace/proposal-guard.js';
import { Worktree } from '../../workspace/worktree.js';
import type { OthersContext, ProposalContext } from '../types.js';
import { applyChange, BUILD_ON_MAX_DIFF_CHARS } from './build-on.js';
import { triedSection } from './others-section.js';
import { ToolBox } from './toolbox.js';

const LEAF = 'a1b2c3d4e5f6'.padEnd(40, '7');
const OTHER = 'f'.repeat(40);

const git = (dir: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: dir, encoding: 'utf8' });

/** A real git repository at the "best" (train.mjs + prepare.mjs committed, HEAD detached). */
function repo(): string {
  const dir = makeProposalDir();
  git(dir, 'init', '-q');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'best');
  git(dir, 'checkout', '-q', '--detach');
  return dir;
}

/** The diff another contributor's edit makes on the best (made with real git, then undone). */
function leafDiff(dir: string, edit: (text: string) => string, file = 'train.mjs'): string {
  const before = readFileSync(join(dir, file), 'utf8');
  writeFileSync(join(dir, file), edit(before));
  const diff = git(dir, 'diff', '--no-color');
  writeFileSync(join(dir, file), before);
  return diff;
}

function box(dir: string, diff: string | { error: string }) {
  const asked: string[] = [];
  const tried: OthersContext['tried'] = [
    { contributor: 'bob', description: 'DROPOUT 0.5 -> 0.2', status: 'discard', value: 1.21, commit: LEAF },
    { contributor: 'queued by the owner', description: 'WIDTH 32 -> 64', status: 'queued', value: null },
  ];
  const tb = new ToolBox({
    worktree: dir,
    editable: ['train.mjs'],
    protected: ['prepare.mjs'],
    history: [experiment({ number: 0, value: 1.5 })],
    objective: { metric: 'val_bpb', direction: 'minimize' },
    others: {
      tried,
      fetchChange: async (commit) => {
        asked.push(commit);
        return typeof diff === 'string' ? { diff } : diff;
      },
    },
  });
  const call = (name: string, args: unknown) => tb.runAsync({ id: 'c', name, arguments: JSON.stringify(args) });
  return { tb, call, asked };
}

const state = (dir: string) => ({
  train: readFileSync(join(dir, 'train.mjs'), 'utf8'),
  prepare: readFileSync(join(dir, 'prepare.mjs'), 'utf8'),
  status: git(dir, 'status', '--porcelain'),
  staged: git(dir, 'diff', '--cached', '--name-only'),
});

describe('build_on (an agent builds on another contributor result)', () => {
  it('is offered only with others results that carry a commit', () => {
    const dir = repo();
    assert.ok(box(dir, '').tb.toolNames().includes('build_on'));
    const plain = new ToolBox({
      worktree: dir,
      editable: ['train.mjs'],
      protected: [],
      history: [],
      objective: { metric: 'val_bpb', direction: 'minimize' },
    });
    assert.ok(!plain.toolNames().includes('build_on'));
  });

  it('applies a listed result change cleanly; the agent can edit further and finish', async () => {
    const dir = repo();
    const diff = leafDiff(dir, (t) => t.replace('const DROPOUT = 0.5;', 'const DROPOUT = 0.2;'));
    const { tb, call, asked } = box(dir, diff);
    const out = await call('build_on', { commit: LEAF.slice(0, 12) });
    assert.equal(out.isError, false, out.content);
    assert.match(
      out.content,
      /^applied the change of a1b2c3d4e5f6 \(discard 1\.21, by "bob": "DROPOUT 0\.5 -> 0\.2"\)/,
    );
    assert.match(out.content, /to train\.mjs \(\+1 -1 lines\)/);
    assert.deepEqual(asked, [LEAF], 'the full listed commit is fetched');
    assert.match(readFileSync(join(dir, 'train.mjs'), 'utf8'), /const DROPOUT = 0\.2;/);
    assert.equal(state(dir).staged, '', 'the index stays at HEAD');
    assert.deepEqual(tb.changedFiles(), ['train.mjs']);
    const edited = await call('edit_file', {
      path: 'train.mjs',
      old_string: 'const LR = 0.01;',
      new_string: 'const LR = 0.02;',
    });
    assert.equal(edited.isError, false);
    const fin = await call('finish', { description: 'DROPOUT 0.2 (from bob) + LR 0.02' });
    assert.deepEqual(fin.finished, { description: 'DROPOUT 0.2 (from bob) + LR 0.02' });
  });

  it('merges three-way onto the agent own nearby edits', async () => {
    const dir = repo();
    const diff = leafDiff(dir, (t) => t.replace('const DROPOUT = 0.5;', 'const DROPOUT = 0.2;'));
    const { call } = box(dir, diff);
    await call('edit_file', { path: 'train.mjs', old_string: 'const LR = 0.01;', new_string: 'const LR = 0.03;' });
    const out = await call('build_on', { commit: LEAF });
    assert.equal(out.isError, false, out.content);
    assert.match(out.content, /with a three-way merge/);
    const text = readFileSync(join(dir, 'train.mjs'), 'utf8');
    assert.match(text, /const LR = 0\.03;/);
    assert.match(text, /const DROPOUT = 0\.2;/);
    assert.equal(state(dir).staged, '');
  });

  it('a conflict leaves the working copy exactly as it was', async () => {
    const dir = repo();
    const diff = leafDiff(dir, (t) => t.replace('const LR = 0.01;', 'const LR = 0.05;'));
    const { tb, call } = box(dir, diff);
    await call('edit_file', { path: 'train.mjs', old_string: 'const LR = 0.01;', new_string: 'const LR = 0.03;' });
    const before = state(dir);
    const out = await call('build_on', { commit: LEAF.slice(0, 7) });
    assert.equal(out.isError, true);
    assert.match(
      out.content,
      /^the change of a1b2c3d4e5f6 does not apply on your working copy \(nothing was changed\)/,
    );
    assert.deepEqual(state(dir), before, 'files, status and index unchanged');
    assert.doesNotMatch(readFileSync(join(dir, 'train.mjs'), 'utf8'), /<<<<<<<|>>>>>>>/);
    assert.deepEqual(tb.changedFiles(), ['train.mjs']);
  });

  it('refuses any commit not listed with a result: nothing is fetched', async () => {
    const dir = repo();
    const { call, asked } = box(
      dir,
      leafDiff(dir, (t) => `${t}// x\n`),
    );
    const before = state(dir);
    for (const commit of [OTHER, 'HEAD', '../../etc/passwd', 'a1b2c3', `${LEAF}0`]) {
      const out = await call('build_on', { commit });
      assert.equal(out.isError, true, commit);
      assert.match(out.content, /^refused: .* is not the commit of a result listed under "Tried by other contributors/);
    }
    assert.match((await call('build_on', {})).content, /^invalid arguments for build_on: commit/);
    assert.deepEqual(asked, [], 'the hub was never asked');
    assert.deepEqual(state(dir), before);
  });

  it('refuses oversized, empty and symbolic-link diffs and hub errors, changing nothing', async () => {
    const dir = repo();
    const before = state(dir);
    const big = leafDiff(dir, (t) => t + `// ${'x'.repeat(BUILD_ON_MAX_DIFF_CHARS)}\n`);
    assert.match(
      (await box(dir, big).call('build_on', { commit: LEAF })).content,
      /^refused: .* over the 262144 bound/,
    );
    assert.match((await box(dir, '').call('build_on', { commit: LEAF })).content, /is empty/);
    assert.match(
      (await box(dir, { error: 'HTTP 404' }).call('build_on', { commit: LEAF })).content,
      /^cannot get the change of a1b2c3d4e5f6 from the hub: HTTP 404/,
    );
    const link = [
      'diff --git a/train.mjs b/train.mjs',
      'deleted file mode 100644',
      'new file mode 120000',
      '--- a/train.mjs',
      '+++ b/train.mjs',
      '@@ -0,0 +1 @@',
      '+/etc/passwd',
      '',
    ].join('\n');
    assert.match((await box(dir, link).call('build_on', { commit: LEAF })).content, /symbolic link/);
    assert.deepEqual(state(dir), before);
  });

  it('a diff touching a protected file is refused by the tool, and rejected by the proposal guard anyway', async () => {
    const dir = repo();
    const diff = leafDiff(dir, (t) => t.replace('EVAL = 1', 'EVAL = 0'), 'prepare.mjs');
    const before = state(dir);
    const out = await box(dir, diff).call('build_on', { commit: LEAF });
    assert.equal(out.isError, true);
    assert.match(
      out.content,
      /^refused: the change of a1b2c3d4e5f6 touches file\(s\) outside the editable files: prepare\.mjs/,
    );
    assert.deepEqual(state(dir), before);
    // the tool's own check bypassed: the same apply, then the loop's guard
    const wt = new Worktree(dir);
    const snap = await guardBefore(wt);
    assert.equal((await applyChange(dir, diff)).kind, 'applied');
    assert.match(readFileSync(join(dir, 'prepare.mjs'), 'utf8'), /EVAL = 0/);
    const rejection = guardRejection(await guardAfter(wt, snap, ['train.mjs']));
    assert.match(rejection ?? '', /touched file\(s\) outside \[files\]\.editable: prepare\.mjs/);
  });

  it('the hub fetcher serves only listed commits; the prompt names the tool only when it is offered', async () => {
    const others: OthersContext = {
      tried: [{ contributor: 'bob', description: 'DROPOUT 0.2', status: 'discard', value: 1.21, commit: LEAF }],
      notes: [],
    };
    const recipes: string[] = [];
    const recipeOf = async (sha: string): Promise<RemoteRecipe | null> => {
      recipes.push(sha);
      return sha === LEAF ? { parent: OTHER, diff: 'the diff', description: 'x' } : null;
    };
    const fetch = changeFetcher(others, recipeOf);
    assert.deepEqual(await fetch(LEAF), { diff: 'the diff' });
    assert.match(JSON.stringify(await fetch(OTHER)), /not a result listed from this best/);
    assert.deepEqual(recipes, [LEAF]);
    const ctx = { objective: { metric: 'val_bpb', direction: 'minimize' }, others } as unknown as ProposalContext;
    assert.doesNotMatch(triedSection(ctx, { buildOn: true }), /build_on/, 'no fetcher: no tool');
    const withFetch = { ...ctx, others: { ...others, fetchChange: fetch } };
    assert.doesNotMatch(triedSection(withFetch), /build_on|a1b2c3/, 'a coding-agent CLI has no such tool');
    const text = triedSection(withFetch, { buildOn: true });
    assert.match(text, /call build_on\(\{commit\}\)/);
    assert.match(text, /^- \[a1b2c3d4e5f6\] discard val_bpb=1\.21 \(by "bob"\): "DROPOUT 0\.2"$/m);
  });
});
