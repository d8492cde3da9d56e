import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    assert.match(toml, /^evaluate = "tsx prepare\.ts evaluate"/m);
    assert.match(toml, /^link = \[ "data" \]/m);
    assert.match(toml, /^validation = \[ "data\/val\.bin" \]/m);
    assert.ok(existsSync(join(dir, 'data', 'train.bin')) && existsSync(join(dir, 'data', 'val.bin')));
    assert.equal(git(dir, ['ls-files', 'data']).trim(), '');
    // Training's own log never carries the objective (the evaluate step's output does).
    const log = readFileSync(join(dir, '.autoresearch', 'logs', 'demo', '0000.log'), 'utf8');
    assert.match(log, /training_seconds:/);
  });
});
