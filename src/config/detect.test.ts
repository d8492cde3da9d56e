import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { detectOriginalLayout, onPath } from './detect.js';
import { loadConfig } from './load.js';
import { renderConfigToml } from './render.js';
import { cli } from '../test-support/cli.js';

/**
 * A CPU-only stand-in for an original autoresearch checkout: the seed's file names, a train.py
 * with UPPER_CASE knobs that prints the seed's summary block in well under a second.
 */
function makeOriginalRepo(extra: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'ar-original-'));
  const files: Record<string, string> = {
    'prepare.py': 'MAX_SEQ_LEN = 2048\nTIME_BUDGET = 300\n\ndef evaluate_bpb(loss):\n    return loss / 0.693\n',
    'train.py': [
      'import math',
      'from prepare import evaluate_bpb',
      '',
      'MATRIX_LR = 0.08        # learning rate',
      'DEPTH = 8               # layers',
      '',
      'loss = 0.7 + (math.log2(MATRIX_LR / 0.04)) ** 2 * 0.01 + abs(DEPTH - 8) * 0.001',
      'print("step 00001 | loss %.4f" % loss)',
      'print("---")',
      'print("val_bpb:          %.6f" % evaluate_bpb(loss))',
      'print("training_seconds: 300.1")',
      'print("peak_vram_mb:     45060.2")',
      '',
    ].join('\n'),
    'program.md': '# autoresearch\n\nImprove val_bpb by editing train.py.\n',
    ...extra,
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const git = (args: string[]) => spawnSync('git', args, { cwd: dir, encoding: 'utf8' });
  git(['init', '-q']);
  git(['add', '-A']);
  git(['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'original autoresearch']);
  return dir;
}

function fakeBin(names: string[]): string {
  const bin = mkdtempSync(join(tmpdir(), 'ar-bin-'));
  for (const n of names) {
    writeFileSync(join(bin, n), '#!/bin/sh\nexit 0\n');
    chmodSync(join(bin, n), 0o755);
  }
  return bin;
}

describe('detectOriginalLayout', () => {
  it('recognises prepare.py + train.py + program.md and prefers uv when it is on PATH', () => {
    const dir = makeOriginalRepo({ 'pyproject.toml': '[project]\nname = "x"\n', 'uv.lock': '' });
    const r = detectOriginalLayout(dir, { pathVar: fakeBin(['uv']), tag: 'mar5' });
    assert.ok(r.detected);
    assert.deepEqual(r.answers, {
      tag: 'mar5',
      command: 'uv run train.py',
      metric: 'val_bpb',
      direction: 'minimize',
      editable: ['train.py'],
      protected: ['prepare.py', 'pyproject.toml', 'uv.lock'],
      timeoutS: 600,
    });
    assert.match(r.notes.join('\n'), /original autoresearch layout/);
    // what init/run write from it is a valid config whose memory column is peak_vram_mb
    writeFileSync(join(dir, 'autoresearch.toml'), renderConfigToml(r.answers));
    const loaded = loadConfig(dir);
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.message);
    assert.equal(loaded.config.results.memory_metric, 'peak_vram_mb');
    assert.deepEqual(loaded.config.files.protected, ['prepare.py', 'pyproject.toml', 'uv.lock']);
  });

  it('falls back to python3 without uv and protects only what exists', () => {
    const dir = makeOriginalRepo();
    const r = detectOriginalLayout(dir, { pathVar: fakeBin(['python3']) });
    assert.ok(r.detected);
    assert.equal(r.answers.command, 'python3 train.py');
    assert.deepEqual(r.answers.protected, ['prepare.py']);
    assert.match(r.notes.join('\n'), /uv is not on PATH/);
  });

  it('is not fooled by a partial layout, an existing config or a directory named like a file', () => {
    const partial = makeOriginalRepo();
    writeFileSync(join(partial, 'program.md'), '');
    const noProgram = mkdtempSync(join(tmpdir(), 'ar-partial-'));
    writeFileSync(join(noProgram, 'prepare.py'), '');
    writeFileSync(join(noProgram, 'train.py'), '');
    assert.equal(detectOriginalLayout(noProgram).detected, false);
    mkdirSync(join(noProgram, 'program.md'));
    assert.equal(detectOriginalLayout(noProgram).detected, false);
    writeFileSync(join(partial, 'autoresearch.toml'), '');
    assert.equal(detectOriginalLayout(partial).detected, false);
    assert.equal(detectOriginalLayout(partial, { ignoreExistingConfig: true }).detected, true);
    assert.equal(detectOriginalLayout(join(tmpdir(), 'does-not-exist-ar')).detected, false);
  });

  it('onPath needs an executable file', () => {
    const bin = fakeBin(['uv']);
    writeFileSync(join(bin, 'notexec'), '');
    assert.equal(onPath('uv', `/nonexistent:${bin}`), true);
    assert.equal(onPath('notexec', bin), false);
    assert.equal(onPath('uv', ''), false);
  });
});

describe('drop-in use of an original checkout from the command line', () => {
  const noUvPath = `${fakeBin([])}:${process.env.PATH ?? ''}`
    .split(':')
    .filter((d) => !existsSync(join(d, 'uv')))
    .join(':');

  it('init without --template writes the config from the layout and says so', () => {
    const dir = makeOriginalRepo();
    const r = cli(['init', dir, '--tag', 'drop'], { env: { PATH: noUvPath } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /detected the original autoresearch layout/);
    const toml = readFileSync(join(dir, 'autoresearch.toml'), 'utf8');
    assert.match(toml, /command = "python3 train.py"/);
    assert.match(toml, /metric = "val_bpb"/);
    assert.match(toml, /protected = \[ "prepare.py" \]/);
  });

  it('run without a config detects the layout, writes the config and runs the study', () => {
    const dir = makeOriginalRepo();
    const r = cli(['run', dir, '-n', '1', '--tag', 'drop', '--json'], { env: { PATH: noUvPath } });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stderr, /no autoresearch\.toml.*wrote one/);
    assert.ok(existsSync(join(dir, 'autoresearch.toml')));
    const rows = readFileSync(join(dir, 'results.tsv'), 'utf8').trim().split('\n');
    assert.equal(rows[0], 'commit\tval_bpb\tmemory_gb\tstatus\tdescription');
    assert.equal(rows.length, 3, rows.join('\n')); // header, baseline, 1 experiment
    assert.match(rows[1]!, /\t1\.(0|1)\d+\t44\.0\tkeep\tbaseline/);
  });
});
