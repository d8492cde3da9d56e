import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { git, makeLandscapeRepo } from '../test-support/landscape.js';
import { normalRel } from './rel-path.js';
import { Workspace } from './workspace.js';

describe('normalRel (the one worktree-relative path normaliser)', () => {
  it('folds ./, //, . and .. segments and a trailing slash; keeps a climb out visible', () => {
    assert.equal(normalRel('./src//a/../train.py/'), 'src/train.py');
    assert.equal(normalRel('train.py'), 'train.py');
    assert.equal(normalRel('./'), '');
    assert.equal(normalRel('a/../../x'), '../x');
  });

  it('the editable-file check uses it: "./train.mjs" in [files].editable allows train.mjs, nothing else', async () => {
    const dir = makeLandscapeRepo();
    const ws = await Workspace.open(dir);
    assert.ok(ws.ok);
    const head = git(dir, ['rev-parse', 'HEAD']).trim();
    const wt = await ws.workspace.openWorktree(join(dir, '.autoresearch', 'wt'), head);
    const ignored = await wt.ignoredFiles();
    appendFileSync(join(wt.path, 'train.mjs'), '// changed\n');
    writeFileSync(join(wt.path, 'notes.md'), 'x\n');
    const c = await wt.checkChanges(['./train.mjs', 'src/../notes.md/'], ignored);
    assert.deepEqual(c.forbidden, []);
    const strict = await wt.checkChanges(['./train.mjs'], ignored);
    assert.deepEqual(strict.forbidden, ['notes.md']);
  });
});
