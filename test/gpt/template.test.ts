/**
 * The gpt template on a machine without a GPU or PyTorch: its Python files compile, prepare.py's
 * CPU parts pass their unit tests (test/gpt/test_prepare.py: readers, downloader against a local
 * HTTP server, tokenizer, packing), its knobs are visible to the search proposer, and
 * `init --template gpt` lays the workspace out. With PyTorch (Debian's python3-torch is enough:
 * test/gpt/torch_evaluate.py runs train.py's model on the CPU), the evaluate step
 * (`prepare.py evaluate`) scores a saved checkpoint like evaluate_bpb in process, and hostile
 * train.py versions cannot change its last `---` block.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findConstants } from '../../src/proposer/search/constants.js';
import { candidateMoves, stringAlternatives } from '../../src/proposer/search/moves.js';
import { cli } from '../../src/test-support/cli.js';
import { onPath } from '../../src/config/detect.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TEMPLATE = join(ROOT, 'templates', 'gpt');
const python = (args: string[], opts: { cwd?: string } = {}) =>
  spawnSync('python3', args, {
    cwd: opts.cwd ?? ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });

/** The first python3 that has torch, numpy and regex (pyenv's python3 may lack what Debian's has). */
function torchPython(): string | undefined {
  for (const exe of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(exe, ['-c', 'import torch, numpy, regex'], { encoding: 'utf8', timeout: 120_000 });
    if (r.status === 0) return exe;
  }
  return undefined;
}

describe('templates/gpt', () => {
  it('its Python files compile', () => {
    const files = readdirSync(TEMPLATE)
      .filter((f) => f.endsWith('.py'))
      .map((f) => join(TEMPLATE, f));
    assert.deepEqual(files.map((f) => f.split('/').pop()).sort(), ['prepare.py', 'train.py']);
    const out = mkdtempSync(join(tmpdir(), 'ar-pyc-'));
    const code =
      'import os, py_compile, sys\nfor f in sys.argv[2:]: py_compile.compile(f, cfile=os.path.join(sys.argv[1], os.path.basename(f) + "c"), doraise=True)';
    const r = python(['-c', code, out, ...files]);
    assert.equal(r.status, 0, r.stderr);
  });

  it("prepare.py's CPU parts pass their Python tests", () => {
    const r = python(['-m', 'unittest', 'discover', '-s', 'test/gpt', '-p', 'test_*.py']);
    assert.equal(r.status, 0, r.stderr.slice(-4000));
    assert.match(r.stderr, /^OK/m);
  });

  it('template.json describes the workload', () => {
    const t = JSON.parse(readFileSync(join(TEMPLATE, 'template.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(t, {
      command: 'uv run train.py',
      evaluate: 'uv run prepare.py evaluate',
      metric: 'val_bpb',
      direction: 'minimize',
      editable: ['train.py'],
      protected: ['prepare.py', 'pyproject.toml'],
      validation: ['data/validation'],
      network: true,
      timeoutS: 600,
    });
  });

  it('the evaluate step scores the checkpoint in a fresh process, and hostile train.py versions cannot forge it', () => {
    const exe = torchPython();
    assert.ok(exe, 'no python3 with torch, numpy and regex: apt-get install python3-torch python3-numpy python3-regex');
    const r = spawnSync(exe, ['test/gpt/torch_evaluate.py'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 900_000,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    });
    assert.equal(r.status, 0, (r.stdout + r.stderr).slice(-6000));
    assert.match(r.stderr, /^Ran \d+ tests/m);
    assert.match(r.stderr, /^OK$/m);
  });

  it('the knobs of train.py are plain literals the search can move', () => {
    const source = readFileSync(join(TEMPLATE, 'train.py'), 'utf8');
    const constants = findConstants(source, 'python');
    const byName = new Map(constants.map((c) => [c.name, c]));
    for (const name of [
      'DEPTH',
      'ASPECT_RATIO',
      'MATRIX_LR',
      'EMBEDDING_LR',
      'WEIGHT_DECAY',
      'WARMDOWN_RATIO',
      'TOTAL_BATCH_SIZE',
      'DEVICE_BATCH_SIZE',
    ]) {
      const c = byName.get(name);
      assert.ok(c, `${name} is a knob`);
      assert.ok(candidateMoves(c).length > 0, `${name} can be moved`);
    }
    assert.deepEqual(stringAlternatives(byName.get('WINDOW_PATTERN')!), ['SL', 'SSSL']);
    assert.deepEqual(stringAlternatives(byName.get('ATTENTION')!), ['flash', 'flex']);
    assert.equal(byName.get('TOTAL_BATCH_SIZE')!.value, 2 ** 19);
    // prepare.py holds the fixed constants, not train.py
    assert.equal(byName.has('TIME_BUDGET'), false);
    assert.equal(byName.has('MAX_SEQ_LEN'), false);
  });

  it('init --template gpt copies the workload and writes its config', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'ar-gpt-')), 'ws');
    const r = cli(['init', dir, '--template', 'gpt', '--tag', 'gpu1']);
    assert.equal(r.code, 0, r.stderr);
    for (const f of ['prepare.py', 'train.py', 'program.md', 'pyproject.toml', 'autoresearch.toml'])
      assert.ok(existsSync(join(dir, f)), f);
    assert.equal(existsSync(join(dir, 'template.json')), false);
    const toml = readFileSync(join(dir, 'autoresearch.toml'), 'utf8');
    // uv run train.py where uv is installed; python3 train.py (and a note) where it is not
    if (onPath('uv', process.env.PATH ?? '')) assert.match(toml, /command = "uv run train.py"/);
    else {
      assert.match(toml, /command = "python3 train.py"/);
      assert.match(r.stdout, /uv is not installed: using "python3 train.py"/);
    }
    assert.match(toml, /protected = \[ "prepare.py", "pyproject.toml" \]/);
  });
});
