// The tiny template end to end: a short real training run of a temp copy of the template (as a
// user's workspace would hold it: no package.json, no node_modules), its summary block (no
// val_bpb: the metric comes from the evaluate step), the checkpoint it saves and the evaluate
// step on it, and the NaN/explosion fast-fail. Also checks the knobs keep the form the search
// proposer edits.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMetrics } from '../../src/runner/metrics.ts';
import { setKnob, TEMPLATE, tsx, Workspaces } from './workspace.ts';

const ws = new Workspaces();
after(() => ws.cleanup());

test('a 3-second run learns, prints its block without val_bpb and saves a checkpoint that evaluates', () => {
  const dir = ws.make();
  const out = join(mkdtempSync(join(tmpdir(), 'tiny-out-')), 'run-1');
  const r = tsx(dir, ['train.ts'], { AUTORESEARCH_TIME_BUDGET: '3', AUTORESEARCH_OUTPUT: out });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  const losses = lines.filter((l) => l.startsWith('step ')).map((l) => Number(/loss ([\d.]+)/.exec(l)![1]));
  assert.ok(losses.length >= 2, r.stdout);
  assert.ok(losses.at(-1)! < losses[0]! - 0.3, `loss ${losses[0]} -> ${losses.at(-1)}`);
  // The block: `---` then exactly these keys, in this order, in this format.
  const block = lines.slice(lines.lastIndexOf('---') + 1);
  const keys = [
    'train_loss',
    'training_seconds',
    'total_seconds',
    'num_steps',
    'num_params_M',
    'tokens_per_second',
    'peak_memory_mb',
  ];
  assert.deepEqual(
    block.map((l) => l.split(':')[0]),
    keys,
    r.stdout,
  );
  for (const l of block) assert.match(l, /^[a-z_A-Z]+: +-?\d+(\.\d+)?$/);
  assert.doesNotMatch(r.stdout + r.stderr, /val_bpb/); // training never prints the objective
  const m = parseMetrics(r.stdout);
  assert.ok(m.training_seconds! >= 3 && m.total_seconds! >= m.training_seconds!);
  assert.ok(m.num_steps! > 1 && m.tokens_per_second! > 0 && m.peak_memory_mb! > 0 && m.num_params_M! > 0);
  assert.ok(existsSync(join(out, 'model.json')) && existsSync(join(out, 'weights.bin')));
  const e = tsx(dir, ['evaluate.ts'], { AUTORESEARCH_OUTPUT: out });
  assert.equal(e.status, 0, e.stdout + e.stderr);
  const bpb = parseMetrics(e.stdout).val_bpb!;
  assert.ok(Number.isFinite(bpb) && bpb > 0 && bpb < 7.5, `val_bpb ${bpb} (uniform guessing is 8)`);
});

test('run by hand (no AUTORESEARCH_OUTPUT) it saves in out/ and says how to evaluate', () => {
  const dir = ws.make();
  const r = tsx(dir, ['train.ts'], { AUTORESEARCH_TIME_BUDGET: '0.5' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /saved the model in .*out; score it with: tsx evaluate\.ts/);
  assert.ok(existsSync(join(dir, 'out', 'weights.bin')));
});

test('an exploding run fails fast with exit code 1 and no summary', () => {
  const dir = ws.make((src) => setKnob(setKnob(src, 'MATRIX_LR', '1e6'), 'EMBED_LR', '1e6'));
  const r = tsx(dir, ['train.ts'], { AUTORESEARCH_TIME_BUDGET: '30' });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /FAIL: training diverged/);
  assert.doesNotMatch(r.stdout, /^---$/m);
});

test('without prepared data, training says to run prepare.ts (exit 2)', () => {
  const r = tsx(ws.make(undefined, false), ['train.ts'], { AUTORESEARCH_TIME_BUDGET: '1' });
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /^error: .*train\.bin not found: run "tsx prepare\.ts" once/);
});

test('knobs are top-level `const NAME = literal; // comment` lines', () => {
  const src = readFileSync(join(TEMPLATE, 'train.ts'), 'utf8');
  const knobs = [
    'DEPTH',
    'N_EMBD',
    'N_HEAD',
    'MLP_RATIO',
    'SEQ_LEN',
    'BATCH_SIZE',
    'MATRIX_LR',
    'EMBED_LR',
    'NORM_LR',
    'WARMUP_RATIO',
    'WARMDOWN_RATIO',
    'WEIGHT_DECAY',
    'BETA1',
    'BETA2',
    'ADAM_EPS',
    'GRAD_CLIP',
    'SEED',
  ];
  for (const k of knobs) assert.match(src, new RegExp(`^const ${k} = -?[\\d.e_-]+; // \\S`, 'm'), k);
});
