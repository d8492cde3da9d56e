import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/load.js';
import { cli } from '../src/test-support/cli.js';
import { git } from '../src/test-support/landscape.js';

describe('autoresearch demo (tiny template, real loop, real git, real SQLite)', () => {
  it('runs the baseline and experiments, then prints the table, the best change and the paths', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'ar-demo-')), 'ws');
    const env = { ANTHROPIC_API_KEY: '', OPENAI_API_KEY: '' };
    const r = cli(['demo', '--experiments', '2', '--time-budget', '1.5', '--dir', dir], { env });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /proposer: offline search/);
    assert.match(r.stdout, /noise floor: sigma/);
    assert.match(r.stdout, /commit\tval_bpb\tmemory_gb\tstatus\tdescription/);
    assert.match(r.stdout, /best change \(|no change beat the baseline/);
    assert.match(r.stdout, new RegExp(`results: ${join(dir, 'results.tsv')}`));
    const rows = readFileSync(join(dir, 'results.tsv'), 'utf8').trim().split('\n');
    assert.equal(rows.length, 4, rows.join('\n'));
    assert.match(rows[1]!, /^[0-9a-f]{7}\t\d+\.\d{6}\t\d+\.\d\tkeep\tbaseline$/);
    const png = readFileSync(join(dir, 'progress.png'));
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.ok(git(dir, ['log', '--oneline', 'autoresearch/demo']).trim().length > 0);
    // plot as SVG from the CLI too
    const svg = cli(['plot', dir, '--out', join(dir, 'p.svg')]);
    assert.equal(svg.code, 0, svg.stderr);
    assert.match(readFileSync(join(dir, 'p.svg'), 'utf8'), /^<svg[\s\S]*2 experiments/);
    assert.ok(existsSync(join(dir, '.autoresearch', 'ledger.db')));
    // The metric comes from the protected evaluate step, on data prepared once; the validation
    // file is untracked and listed for the sandbox to hide from training.
    const toml = readFileSync(join(dir, 'autoresearch.toml'), 'utf8');
    assert.match(toml, /^evaluate = "tsx evaluate\.ts"/m);
    // The evaluator is protected (hashed before every run; a change touching it is rejected).
    const loaded = loadConfig(dir);
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.message);
    assert.deepEqual(loaded.config.files.protected, ['prepare.ts', 'evaluate.ts']);
    assert.deepEqual(loaded.config.files.editable, ['train.ts']);
    assert.ok(existsSync(join(dir, 'evaluate.ts')));
    assert.match(toml, /^link = \[ "data" \]/m);
    assert.match(toml, /^validation = \[ "data\/val\.bin", "data\/heldout\.bin" \]/m);
    assert.ok(existsSync(join(dir, 'data', 'train.bin')) && existsSync(join(dir, 'data', 'val.bin')));
    assert.equal(git(dir, ['ls-files', 'data']).trim(), '');
    // Training's own log never carries the objective (the evaluate step's output does).
    const log = readFileSync(join(dir, '.autoresearch', 'logs', 'demo', '0000.log'), 'utf8');
    assert.match(log, /training_seconds:/);
  });
});

describe('what demo --data and init write is valid TOML that the loader accepts, end to end', () => {
  it('demo --data PATH: the config parses and the study runs on the given text', () => {
    const root = mkdtempSync(join(tmpdir(), 'ar-demo-data-'));
    const words = 'the quick brown fox jumps over a lazy dog while seven small birds sing in the old oak tree'.split(
      ' ',
    );
    const lines = Array.from({ length: 2500 }, (_, i) =>
      Array.from({ length: 12 }, (_, j) => words[(i * 7 + j * 3) % words.length]).join(' '),
    );
    const data = join(root, 'my text "1".txt'); // a quote in the path: escaped in the TOML
    writeFileSync(data, lines.join('\n'));
    const dir = join(root, 'ws');
    const r = cli(['demo', '--data', data, '--experiments', '1', '--time-budget', '1', '--dir', dir], {
      env: { ANTHROPIC_API_KEY: '', OPENAI_API_KEY: '' },
    });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.doesNotMatch(r.stderr, /invalid TOML/);
    const loaded = loadConfig(dir);
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.message);
    assert.deepEqual(
      loaded.config.files.validation,
      ['data/val.bin', 'data/heldout.bin', data],
      "the user's text is hidden from training too",
    );
    const rows = readFileSync(join(dir, 'results.tsv'), 'utf8').trim().split('\n');
    assert.equal(rows.length, 3, rows.join('\n'));
    assert.match(rows[1]!, /\tkeep\tbaseline$/);
  });

  it('init (custom with flags, the landscape template, the original layout) writes a config the loader accepts', () => {
    const root = mkdtempSync(join(tmpdir(), 'ar-init-toml-'));
    const original = join(root, 'original');
    cpSync(fileURLToPath(new URL('./fixtures/original-layout', import.meta.url)), original, { recursive: true });
    const cases: Array<[string, string[]]> = [
      [
        'custom',
        [
          'init',
          join(root, 'custom'),
          '--command',
          'python3 "my train.py" --tag=x',
          '--editable',
          'my train.py',
          '--protected',
          'prep.py',
          '--metric',
          'acc',
          '--direction',
          'maximize',
        ],
      ],
      ['landscape', ['init', join(root, 'landscape'), '--template', 'landscape']],
      ['original', ['init', original]],
    ];
    for (const [name, args] of cases) {
      const r = cli(args);
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      const loaded = loadConfig(args[1]!);
      assert.ok(loaded.ok, `${name}: ${loaded.ok ? '' : loaded.message}`);
      if (name === 'custom') {
        assert.equal(loaded.config.run.command, 'python3 "my train.py" --tag=x');
        assert.deepEqual(loaded.config.files.editable, ['my train.py']);
        assert.equal(loaded.config.objective.direction, 'maximize');
      }
    }
  });
});
