import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { experiment, makeProposalDir } from '../../test-support/proposal-fixtures.js';
import { ToolBox } from './toolbox.js';

function box(dir = makeProposalDir()) {
  const history = [
    experiment({ number: 0, value: 1.5 }),
    experiment({ number: 1, status: 'discard', value: 1.52, description: 'LR 0.01 -> 0.005' }),
    experiment({ number: 2, status: 'keep', value: 1.2, description: 'LR 0.01 -> 0.04' }),
    experiment({ number: 3, status: 'crash', value: null, description: 'WIDTH 32 -> 4096', reason: 'out of memory' }),
  ];
  const tb = new ToolBox({
    worktree: dir,
    editable: ['train.mjs'],
    protected: ['prepare.mjs'],
    history,
    objective: { metric: 'val_bpb', direction: 'minimize' },
  });
  const run = (name: string, args: unknown) =>
    tb.run({ id: 'c', name, arguments: typeof args === 'string' ? args : JSON.stringify(args) });
  return { tb, run, dir };
}

describe('ToolBox', () => {
  it('read_file: whole file, line ranges, missing files, directories', () => {
    const { run } = box();
    assert.match(run('read_file', { path: 'train.mjs' }).content, /^\/\/ A synthetic landscape/);
    assert.equal(
      run('read_file', { path: './prepare.mjs' }).content,
      '// Protected: the fixed evaluation would live here.\nexport const EVAL = 1;\n',
    );
    assert.equal(
      run('read_file', { path: 'train.mjs', start_line: 2, end_line: 2 }).content,
      '[lines 2-2 of 17]\nconst LR = 0.01; // learning rate (optimum 0.04)',
    );
    assert.deepEqual(run('read_file', { path: 'nope.txt' }), {
      content: 'nope.txt does not exist (list_files shows what does)',
      isError: true,
    });
    assert.equal(run('read_file', { path: '.' }).isError, true);
  });

  it('confines paths to the worktree: "..", absolute paths elsewhere, .git, symlinks out', () => {
    const { run, dir } = box();
    assert.match(run('read_file', { path: '../../etc/passwd' }).content, /outside the worktree/);
    assert.match(run('read_file', { path: '/etc/passwd' }).content, /outside the worktree/);
    assert.equal(run('read_file', { path: join(dir, 'train.mjs') }).isError, false, 'an absolute path inside is fine');
    mkdirSync(join(dir, '.git'));
    writeFileSync(join(dir, '.git', 'config'), '');
    assert.match(run('read_file', { path: '.git/config' }).content, /\.git directory is off limits/);
    const outside = join(tmpdir(), `ar-outside-${process.pid}.txt`);
    writeFileSync(outside, 'secret');
    symlinkSync(outside, join(dir, 'link.txt'));
    assert.match(run('read_file', { path: 'link.txt' }).content, /leads outside the worktree/);
    assert.match(run('write_file', { path: 'sub/../../x', content: '' }).content, /outside the worktree/);
  });

  it('edit_file: exact unique match, with clear errors otherwise', () => {
    const { run, dir } = box();
    assert.match(
      run('edit_file', { path: 'train.mjs', old_string: 'const LR = 0.02;', new_string: 'x' }).content,
      /^old_string not found in train\.mjs/,
    );
    assert.match(
      run('edit_file', { path: 'train.mjs', old_string: 'const  LR = 0.01;', new_string: 'x' }).content,
      /a similar text differing in whitespace is at line 2/,
    );
    assert.match(
      run('edit_file', { path: 'train.mjs', old_string: 'const ', new_string: 'let ' }).content,
      /^old_string found 5 times in train\.mjs/,
    );
    assert.match(
      run('edit_file', { path: 'train.mjs', old_string: '', new_string: 'x' }).content,
      /old_string is empty/,
    );
    assert.match(run('edit_file', { path: 'train.mjs', old_string: 'LR', new_string: 'LR' }).content, /identical/);
    assert.deepEqual(
      run('edit_file', { path: 'train.mjs', old_string: 'const WIDTH = 32;', new_string: 'const WIDTH = 64;' }),
      {
        content: 'edited train.mjs: replaced 1 occurrence (first at line 3)',
        isError: false,
      },
    );
    assert.equal(
      run('edit_file', { path: 'train.mjs', old_string: 'const ', new_string: 'let ', replace_all: true }).content,
      'edited train.mjs: replaced 5 occurrences (first at line 2)',
    );
    assert.match(readFileSync(join(dir, 'train.mjs'), 'utf8'), /let WIDTH = 64;/);
  });

  it('write_file and edit_file refuse anything but the editable files', () => {
    const { run, dir } = box();
    assert.equal(
      run('write_file', { path: 'prepare.mjs', content: '' }).content,
      'refused: prepare.mjs is protected (read-only). You may change only: train.mjs.',
    );
    assert.equal(
      run('write_file', { path: 'new.mjs', content: '' }).content,
      'refused: new.mjs is not an editable file. You may change only: train.mjs.',
    );
    assert.equal(run('write_file', { path: 'train.mjs', content: 'a\nb\n' }).content, 'wrote train.mjs (3 lines)');
    assert.equal(readFileSync(join(dir, 'train.mjs'), 'utf8'), 'a\nb\n');
  });

  it('write_file and edit_file never write through a symbolic link: dangling, to a file, or a linked directory', () => {
    const outside = mkdtempSync(join(tmpdir(), 'ar-outside-'));
    const target = join(outside, 'train.mjs');
    // a dangling link in place of the editable file
    const dir = makeProposalDir();
    rmSync(join(dir, 'train.mjs'));
    symlinkSync(target, join(dir, 'train.mjs'));
    const tb = new ToolBox({
      worktree: dir,
      editable: ['train.mjs', 'sub/train.mjs', 'alias.mjs'],
      protected: [],
      history: [],
      objective: { metric: 'val_bpb', direction: 'minimize' },
    });
    const run = (name: string, args: unknown) => tb.run({ id: 'c', name, arguments: JSON.stringify(args) });
    assert.equal(
      run('write_file', { path: 'train.mjs', content: 'x' }).content,
      'refused: train.mjs is a symbolic link; only plain files of the worktree can be written',
    );
    assert.equal(existsSync(target), false, 'nothing was created outside');
    // a directory of the worktree that is a link to outside (an editable path below it)
    symlinkSync(outside, join(dir, 'sub'));
    assert.equal(
      run('write_file', { path: 'sub/train.mjs', content: 'x' }).content,
      'refused: sub/train.mjs leads through a symbolic link; only plain files of the worktree can be written',
    );
    writeFileSync(target, 'const A = 1;\n');
    assert.match(
      run('edit_file', { path: 'sub/train.mjs', old_string: 'A = 1', new_string: 'A = 2' }).content,
      /sub\/train\.mjs leads outside the worktree \(a symbolic link\)/,
    );
    assert.equal(readFileSync(target, 'utf8'), 'const A = 1;\n', 'the file outside is unchanged');
    // a link to a file inside the worktree is refused too (the write would change another file)
    symlinkSync('prepare.mjs', join(dir, 'alias.mjs'));
    assert.match(
      run('edit_file', { path: 'alias.mjs', old_string: 'EVAL = 1', new_string: 'EVAL = 0' }).content,
      /^refused: alias\.mjs is a symbolic link/,
    );
    assert.match(readFileSync(join(dir, 'prepare.mjs'), 'utf8'), /EVAL = 1/);
    assert.deepEqual(readdirSync(outside), ['train.mjs']);
  });

  it('finish needs a change and a description; "give up" is always accepted', () => {
    const { run, tb } = box();
    assert.match(run('finish', { description: 'x' }).content, /no editable file \(train\.mjs\) has changed yet/);
    assert.ok(run('finish', { description: 'give up: cannot' }).finished);
    run('edit_file', { path: 'train.mjs', old_string: 'const LR = 0.01;', new_string: 'const LR = 0.02;' });
    assert.deepEqual(tb.changedFiles(), ['train.mjs']);
    assert.match(run('finish', { description: '  \n ' }).content, /non-empty/);
    assert.deepEqual(run('finish', { description: 'LR 0.01 ->\n 0.02' }).finished, { description: 'LR 0.01 -> 0.02' });
  });

  it('unknown tools, bad JSON, wrong types, empty arguments', () => {
    const { run } = box();
    assert.match(
      run('bash', {}).content,
      /^unknown tool "bash"; available tools: read_file, edit_file, write_file, list_files, query_results, finish$/,
    );
    assert.match(run('read_file', '{"path": ').content, /^the arguments of read_file are not valid JSON/);
    assert.match(run('read_file', { path: 3 }).content, /^invalid arguments for read_file: path: /);
    assert.match(run('list_files', '').content, /prepare\.mjs \(protected\)[\s\S]*train\.mjs \(editable\)/);
  });

  it('query_results filters and sorts the history', () => {
    const { run } = box();
    const best = run('query_results', { sort: 'best', limit: 2 }).content.split('\n');
    assert.equal(best.length, 3);
    assert.match(best[1]!, /^#2 keep +1\.2 \(-0\.3\) {2}LR 0\.01 -> 0\.04$/);
    assert.match(
      run('query_results', { status: 'crash' }).content,
      /#3 crash +- {2}WIDTH 32 -> 4096 \[out of memory\]/,
    );
    assert.equal(run('query_results', { status: 'timeout' }).content, 'no matching experiments');
  });
});
