import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/load.js';
import { CHECKPOINT_LINE, EVALUATE_PY } from '../src/config/guard-evaluate.js';
import { protectedImports } from '../src/loop/protected-imports.js';
import { screenDiff } from '../src/loop/screen.js';
import { cli } from '../src/test-support/cli.js';
import { git } from '../src/test-support/landscape.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/original-layout', import.meta.url));
const TRAIN = readFileSync(join(FIXTURE, 'train.py'), 'utf8');
/** PATH without uv (this machine has none; the fixture bin below adds one). */
const NO_UV = { PATH: '/usr/local/bin:/usr/bin:/bin' };

function originalRepo(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'ar-guard-'));
  cpSync(FIXTURE, dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  git(dir, ['init', '--quiet', '-b', 'main']);
  git(dir, ['add', '-A']);
  git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', 'the original layout']);
  return dir;
}

const snapshot = (dir: string) =>
  Object.fromEntries(
    ['train.py', 'evaluate.py', 'autoresearch.toml'].map((f) => [
      f,
      existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : null,
    ]),
  );

describe('init --guard on a repository of the original layout', () => {
  it('writes evaluate.py, adds one checkpoint line before the final evaluation, and sets [run] evaluate', () => {
    const dir = originalRepo();
    const r = cli(['init', '--guard', dir], { env: NO_UV });
    assert.equal(r.code, 0, r.stderr);

    assert.equal(readFileSync(join(dir, 'evaluate.py'), 'utf8'), EVALUATE_PY);
    const compiled = spawnSync('python3', ['-m', 'py_compile', 'evaluate.py', 'train.py'], {
      cwd: dir,
      encoding: 'utf8',
    });
    assert.equal(compiled.status, 0, compiled.stderr);

    const train = readFileSync(join(dir, 'train.py'), 'utf8').split('\n');
    const before = TRAIN.split('\n');
    assert.equal(train.length, before.length + 1, 'exactly one line added');
    const at = train.indexOf(CHECKPOINT_LINE);
    assert.deepEqual([...train.slice(0, at), ...train.slice(at + 1)], before, 'nothing else changed');
    assert.equal(train[at + 1], '# Final eval', 'above the comment and model.eval() that lead to the evaluation');
    assert.ok(
      train.slice(0, at).some((l) => l.startsWith('for step in range')),
      'after the training loop',
    );

    const loaded = loadConfig(dir);
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.message);
    assert.equal(loaded.config.run.evaluate, 'python3 evaluate.py', 'python3 when uv is absent');
    assert.equal(loaded.config.run.command, 'python3 train.py');
    assert.deepEqual(loaded.config.files.protected, ['prepare.py', 'evaluate.py']);
    assert.deepEqual(loaded.config.files.editable, ['train.py']);

    assert.match(r.stdout, /train\.py line \d+: one line added/);
    assert.match(r.stdout, /objective now comes from evaluate\.py/);
    assert.match(r.stdout, /evaluation time is counted apart/);
    assert.match(r.stdout, /git add evaluate\.py train\.py autoresearch\.toml && git commit/);
    assert.equal(git(dir, ['log', '--oneline']).trim().split('\n').length, 1, 'nothing committed');
    assert.match(git(dir, ['status', '--porcelain']), / M train\.py/);
  });

  it('uses uv for evaluate when uv is on PATH, as for the training command', () => {
    const dir = originalRepo();
    const bin = mkdtempSync(join(tmpdir(), 'ar-bin-'));
    writeFileSync(join(bin, 'uv'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(bin, 'uv'), 0o755);
    assert.equal(cli(['init', '--guard', dir], { env: { PATH: `${bin}:${NO_UV.PATH}` } }).code, 0);
    const loaded = loadConfig(dir);
    assert.ok(loaded.ok);
    assert.equal(loaded.config.run.command, 'uv run train.py');
    assert.equal(loaded.config.run.evaluate, 'uv run evaluate.py');
  });

  it('is idempotent: a second run changes nothing and says so', () => {
    const dir = originalRepo();
    assert.equal(cli(['init', '--guard', dir], { env: NO_UV }).code, 0);
    const first = snapshot(dir);
    const again = cli(['init', '--guard', dir], { env: NO_UV });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already guarded/);
    assert.deepEqual(snapshot(dir), first);
  });

  it('edits an existing autoresearch.toml in place, keeping its comments', () => {
    const dir = originalRepo();
    const init = cli(['init', dir, '--tag', 'mytag'], { env: NO_UV });
    assert.equal(init.code, 0, init.stderr);
    assert.match(
      init.stdout,
      /warning: the metric comes from the edited code \(no \[run\] evaluate\); proposals are screened; `autoresearch init --guard`/,
    );
    const before = readFileSync(join(dir, 'autoresearch.toml'), 'utf8');
    assert.equal(cli(['init', '--guard', dir], { env: NO_UV }).code, 0);
    const after = readFileSync(join(dir, 'autoresearch.toml'), 'utf8');
    const removed = before.split('\n').filter((l) => !after.split('\n').includes(l));
    assert.deepEqual(
      removed.map((l) => l.replace(/\s+#.*/, '')),
      ['protected = [ "prepare.py" ]'],
    );
    assert.match(after, /^protected = \[ "prepare\.py", "evaluate\.py" \] +# hashed before every run/m);
    assert.match(
      after,
      /^\[run\]\ncommand = "python3 train\.py"\nevaluate = "python3 evaluate\.py" +# protected evaluation/m,
    );
    assert.match(after, /^# autoresearch study configuration/);
    const loaded = loadConfig(dir);
    assert.ok(loaded.ok);
    assert.equal(loaded.config.study.tag, 'mytag');
    assert.equal(loaded.config.run.evaluate, 'python3 evaluate.py');
    assert.deepEqual(loaded.config.files.protected, ['prepare.py', 'evaluate.py']);
  });

  const refusals: [string, Record<string, string>, RegExp][] = [
    [
      'the evaluation is inside a function',
      {
        'train.py': TRAIN.replace(
          '# Final eval\nmodel.eval()\nwith',
          'def main():\n    model.eval()\n    with',
        ).replace(/\n {4}val_bpb = evaluate_bpb/, '\n        val_bpb = evaluate_bpb'),
      },
      /inside a function/,
    ],
    [
      'no evaluate_bpb call (no anchor)',
      { 'train.py': TRAIN.replace('val_bpb = evaluate_bpb(model, tokenizer, BATCH_SIZE)', 'val_bpb = 0.0') },
      /0 calls of evaluate_bpb/,
    ],
    [
      'two evaluate_bpb calls',
      { 'train.py': TRAIN.replace('# Final eval', 'early = evaluate_bpb(model, tokenizer, 8)\n# Final eval') },
      /2 calls of evaluate_bpb/,
    ],
    [
      'no config to save',
      { 'train.py': TRAIN.replace('config = GPTConfig(', 'cfg = GPTConfig(').replace('GPT(config)', 'GPT(cfg)') },
      /top-level `config = \.\.\.`/,
    ],
    [
      'another prepare.py',
      { 'prepare.py': 'def evaluate_bpb(model, batch_size):\n    pass\n' },
      /prepare\.py lacks def evaluate_bpb\(model, tokenizer, batch_size\)/,
    ],
    [
      'an evaluate.py of the user',
      { 'evaluate.py': 'print(1)\n' },
      /evaluate\.py already exists and was not written by --guard/,
    ],
  ];
  for (const [name, files, message] of refusals) {
    it(`refuses, writing nothing, when ${name}`, () => {
      const dir = originalRepo(files);
      const before = snapshot(dir);
      const r = cli(['init', '--guard', dir], { env: NO_UV });
      assert.equal(r.code, 1);
      assert.match(r.stderr, message);
      assert.ok(!r.stderr.includes('    at '), 'no stack trace');
      assert.deepEqual(snapshot(dir), before);
    });
  }

  it('refuses a directory that is not of the original layout', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ar-guard-'));
    mkdirSync(join(dir, 'x'));
    const r = cli(['init', '--guard', dir], { env: NO_UV });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not of the original autoresearch layout/);
  });

  it('the checkpoint line passes the diff screen (a proposal may restore it)', () => {
    const dir = originalRepo();
    assert.equal(cli(['init', '--guard', dir], { env: NO_UV }).code, 0);
    const diff = execFileSync('git', ['diff', '--', 'train.py'], { cwd: dir, encoding: 'utf8' });
    assert.match(diff, /^\+torch\.save/m);
    const ctx = {
      metric: 'val_bpb',
      protectedModules: protectedImports([{ path: 'train.py', text: TRAIN }], ['prepare.py']),
      protectedPaths: ['prepare.py'],
    };
    assert.deepEqual(screenDiff(diff, ctx), { ok: true });
  });
});
