import assert from 'node:assert/strict';
import {
  appendFileSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { git, makeLandscapeRepo } from '../test-support/landscape.js';
import { guardAfter, guardBefore, guardRejection } from './proposal-guard.js';
import { Workspace } from './workspace.js';

const ID = ['-c', 'user.name=cli', '-c', 'user.email=cli@x'];
const EDITABLE = ['train.mjs'];

/** A workspace with an untracked, ignored `data/` linked into a fresh worktree at HEAD. */
async function fixture() {
  const dir = makeLandscapeRepo();
  writeFileSync(join(dir, '.gitignore'), 'data/\ncache/\n');
  git(dir, ['add', '.gitignore']);
  git(dir, [...ID, 'commit', '--quiet', '-m', 'ignore']);
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data', 'shard.txt'), 'real data\n');
  const ws = await Workspace.open(dir);
  assert.ok(ws.ok);
  const start = git(dir, ['rev-parse', 'HEAD']).trim();
  const wt = await ws.workspace.openWorktree(join(dir, '.autoresearch', 'wt'), start);
  assert.deepEqual(wt.linkFrom(dir, ['data']), []);
  const edit = (file: string) => appendFileSync(join(wt.path, file), '// changed\n');
  return { dir, wt, start, edit };
}

describe('proposal guard', () => {
  it('a plain edit of an editable file passes', async () => {
    const { wt, edit } = await fixture();
    const before = await guardBefore(wt);
    edit('train.mjs');
    const c = await guardAfter(wt, before, EDITABLE);
    assert.deepEqual(
      { changed: c.changed, forbidden: c.forbidden, folded: c.folded, hidden: c.hidden },
      { changed: ['train.mjs'], forbidden: [], folded: false, hidden: [] },
    );
    assert.equal(guardRejection(c), null);
  });

  it("folds a proposer's commit back into one change; a committed protected file is rejected", async () => {
    const { wt, start, edit } = await fixture();
    let before = await guardBefore(wt);
    edit('train.mjs');
    git(wt.path, [...ID, 'commit', '--quiet', '-am', 'cli: tune']);
    edit('train.mjs');
    git(wt.path, [...ID, 'commit', '--quiet', '-am', 'cli: tune again']);
    let c = await guardAfter(wt, before, EDITABLE);
    assert.equal(c.folded, true);
    assert.deepEqual([c.changed, c.forbidden, c.hidden], [['train.mjs'], [], []]);
    assert.equal(await wt.head(), start, 'HEAD is back at the start commit');
    assert.match(
      readFileSync(join(wt.path, 'train.mjs'), 'utf8'),
      /changed\n\/\/ changed\n$/,
      'both commits are in the working tree',
    );
    assert.equal(guardRejection(c), null);

    await wt.resetHard(start);
    before = await guardBefore(wt);
    edit('prepare.mjs');
    git(wt.path, [...ID, 'commit', '--quiet', '-am', 'cli: easier evaluation']);
    c = await guardAfter(wt, before, EDITABLE);
    assert.deepEqual(c.forbidden, ['prepare.mjs']);
    assert.equal(
      guardRejection(c),
      'the proposal touched file(s) outside [files].editable: prepare.mjs (in commits or staging it made itself, folded into one change)',
    );
  });

  it('a checked-out branch is detached again; staged-only changes are folded too', async () => {
    const { wt, start, edit } = await fixture();
    let before = await guardBefore(wt);
    git(wt.path, ['checkout', '--quiet', '-b', 'cli-branch']);
    edit('prepare.mjs');
    git(wt.path, ['add', 'prepare.mjs']);
    const c = await guardAfter(wt, before, EDITABLE);
    assert.equal(c.folded, true);
    assert.deepEqual(c.forbidden, ['prepare.mjs']);
    assert.throws(() => git(wt.path, ['symbolic-ref', '-q', 'HEAD']), 'HEAD is detached');
    assert.equal(await wt.head(), start);
    assert.equal(git(wt.path, ['diff', '--cached', '--name-only']), '', 'nothing staged');
    await wt.resetHard(start);
    before = await guardBefore(wt);
    assert.equal((await guardAfter(wt, before, EDITABLE)).folded, false);
  });

  it('an index flag that hides an edit from git status (assume-unchanged) is cleared', async () => {
    const { wt, edit } = await fixture();
    const before = await guardBefore(wt);
    git(wt.path, ['update-index', '--assume-unchanged', 'prepare.mjs']);
    edit('prepare.mjs');
    edit('train.mjs');
    assert.doesNotMatch(git(wt.path, ['status', '--porcelain']), /prepare/, 'git status alone does not see it');
    const c = await guardAfter(wt, before, EDITABLE);
    assert.equal(c.folded, true);
    assert.deepEqual(c.forbidden, ['prepare.mjs']);
  });

  it('sees writes through a [files].link (new, changed, even with the mtime put back)', async () => {
    const { dir, wt } = await fixture();
    let before = await guardBefore(wt);
    const shard = join(wt.path, 'data', 'shard.txt');
    const { atime, mtime } = statSync(shard);
    writeFileSync(shard, 'poisoned\n');
    utimesSync(shard, atime, mtime);
    let c = await guardAfter(wt, before, EDITABLE);
    assert.deepEqual(c.hidden, ['data/shard.txt (through the link data)']);
    assert.deepEqual(c.changed, [], 'git itself sees nothing');
    assert.match(
      guardRejection(c)!,
      /^the proposal wrote outside \[files\]\.editable where git does not look: data\/shard\.txt \(through the link data\)$/,
    );
    assert.equal(
      readFileSync(join(dir, 'data', 'shard.txt'), 'utf8'),
      'poisoned\n',
      'the link target is the real data (why this must be seen)',
    );

    before = await guardBefore(wt);
    writeFileSync(join(wt.path, 'data', 'extra.txt'), 'x');
    c = await guardAfter(wt, before, EDITABLE);
    assert.deepEqual(c.hidden.sort(), ['data (through the link data)', 'data/extra.txt (through the link data)']);

    before = await guardBefore(wt);
    rmSync(join(wt.path, 'data'));
    symlinkSync('/tmp', join(wt.path, 'data'));
    c = await guardAfter(wt, before, EDITABLE);
    assert.ok(c.hidden.includes('data (the link itself)'), c.hidden.join());
  });

  it('sees writes to files that were ignored before; an editable file made a symlink is refused', async () => {
    const { wt } = await fixture();
    mkdirSync(join(wt.path, 'cache'));
    writeFileSync(join(wt.path, 'cache', 'state.json'), '{}');
    let before = await guardBefore(wt);
    writeFileSync(join(wt.path, 'cache', 'state.json'), '{"best": 0}');
    let c = await guardAfter(wt, before, EDITABLE);
    assert.deepEqual(c.hidden, ['cache/state.json (ignored file)']);

    before = await guardBefore(wt);
    rmSync(join(wt.path, 'train.mjs'));
    symlinkSync('/tmp/elsewhere.mjs', join(wt.path, 'train.mjs'));
    c = await guardAfter(wt, before, EDITABLE);
    assert.deepEqual(c.hidden, ['train.mjs (a symbolic link)']);
  });
});
