// The tiny template end to end: a short real training run of a temp copy of the template (as a
// user's workspace would hold it: no package.json, no node_modules), its summary block, and the
// NaN/explosion fast-fail. Also checks the knobs keep the form the search proposer edits.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const template = new URL('../../templates/tiny/', import.meta.url).pathname;
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** A fresh copy of the template; `edit` rewrites train.ts's source first. */
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function workspace(edit: (src: string) => string = (s) => s): string {
  const dir = mkdtempSync(join(tmpdir(), 'tiny-ws-'));
  dirs.push(dir);
  for (const f of ['prepare.ts', 'train.ts', 'program.md']) copyFileSync(join(template, f), join(dir, f));
  writeFileSync(join(dir, 'train.ts'), edit(readFileSync(join(dir, 'train.ts'), 'utf8')));
  return dir;
}

function train(dir: string, budget: string) {
  return spawnSync(process.execPath, ['--import', tsx, 'train.ts'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, AUTORESEARCH_TIME_BUDGET: budget, AUTORESEARCH_DATA: '', AUTORESEARCH_VAL_DATA: '' },
    timeout: 60_000,
  });
}

function setKnob(src: string, name: string, value: string): string {
  const re = new RegExp(`^const ${name} = [^;]+;`, 'm');
  assert.match(src, re, `train.ts has no knob ${name}`);
  return src.replace(re, `const ${name} = ${value};`);
}

test('a 3-second run learns and prints a parsable summary block', () => {
  const r = train(workspace(), '3');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  // Loss went down: the first and last progress lines.
  const losses = lines.filter((l) => l.startsWith('step ')).map((l) => Number(/loss ([\d.]+)/.exec(l)![1]));
  assert.ok(losses.length >= 2, r.stdout);
  assert.ok(losses.at(-1)! < losses[0]! - 0.3, `loss ${losses[0]} -> ${losses.at(-1)}`);
  // The block: `---` then exactly these keys, in this order, in this format.
  const block = lines.slice(lines.lastIndexOf('---') + 1);
  const keys = ['val_bpb', 'training_seconds', 'total_seconds', 'num_steps', 'num_params_M', 'tokens_per_second', 'peak_memory_mb'];
  assert.deepEqual(block.map((l) => l.split(':')[0]), keys, r.stdout);
  for (const l of block) assert.match(l, /^[a-z_A-Z]+: +-?\d+(\.\d+)?$/);
  const m = Object.fromEntries(block.map((l) => [l.split(':')[0]!, Number(l.split(':')[1])]));
  assert.match(block[0]!, /^val_bpb: {10}\d+\.\d{6}$/);
  assert.ok(Number.isFinite(m.val_bpb) && m.val_bpb! > 0 && m.val_bpb! < 7.5, `val_bpb ${m.val_bpb} (uniform guessing is 8)`);
  assert.ok(m.training_seconds! >= 3 && m.total_seconds! >= m.training_seconds!);
  assert.ok(m.num_steps! > 1 && m.tokens_per_second! > 0 && m.peak_memory_mb! > 0 && m.num_params_M! > 0);
});

test('an exploding run fails fast with exit code 1 and no summary', () => {
  const dir = workspace((src) => setKnob(setKnob(src, 'MATRIX_LR', '1e6'), 'EMBED_LR', '1e6'));
  const r = train(dir, '30');
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /FAIL: training diverged/);
  assert.doesNotMatch(r.stdout, /^---$/m);
  assert.doesNotMatch(r.stdout, /val_bpb/);
});

test('knobs are top-level `const NAME = literal; // comment` lines', () => {
  const src = readFileSync(join(template, 'train.ts'), 'utf8');
  const knobs = ['DEPTH', 'N_EMBD', 'N_HEAD', 'MLP_RATIO', 'SEQ_LEN', 'BATCH_SIZE', 'MATRIX_LR', 'EMBED_LR', 'NORM_LR',
    'WARMUP_RATIO', 'WARMDOWN_RATIO', 'WEIGHT_DECAY', 'BETA1', 'BETA2', 'ADAM_EPS', 'GRAD_CLIP', 'SEED'];
  for (const k of knobs) assert.match(src, new RegExp(`^const ${k} = -?[\\d.e_-]+; // \\S`, 'm'), k);
});
