// `tsx evaluate.ts` end to end, as the harness runs it after training: a fresh process
// reads the checkpoint in $AUTORESEARCH_OUTPUT, runs train.ts's loadModel in a permission-limited
// worker, and prints the `---` block. Hostile train.ts variants (built in temp workspaces) cannot
// forge the number, read the validation file, or peek at later bytes; SEQ_LEN does not change
// how the model is measured.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMetrics } from '../../src/runner/metrics.ts';
import { EVAL_SEQ_LEN, makeRng, VOCAB_SIZE } from '../../templates/tiny/prepare.ts';
import { createModel, loadModel } from '../../templates/tiny/train.ts';
import { beforeReturn, setKnob, tsx, Workspaces } from './workspace.ts';

const ws = new Workspaces();
after(() => ws.cleanup());
let ckpt = ''; // a known checkpoint: random weights of a small model
let honest = NaN; // its val_bpb through the real evaluate step

/** Writes a checkpoint in train.ts's format (model.json + weights.bin) with random weights. */
function writeCheckpoint(dir: string): void {
  const config = { depth: 1, width: 16, heads: 2, mlpRatio: 4 };
  const m = createModel({ ...config, seqLen: 8, batchSize: 1 });
  const rng = makeRng(11);
  for (let i = 0; i < m.params.length; i++) m.params[i] = (rng() - 0.5) * 0.6;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'weights.bin'), new Uint8Array(Float32Array.from(m.params).buffer));
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ config, numParams: m.numParams }));
}

function evaluate(dir: string, out = ckpt, command = ['evaluate.ts']) {
  const r = tsx(dir, command, { AUTORESEARCH_OUTPUT: out });
  return { ...r, metrics: parseMetrics(r.stdout + r.stderr) };
}

before(() => {
  ckpt = join(mkdtempSync(join(tmpdir(), 'tiny-ckpt-')), 'out');
  writeCheckpoint(ckpt);
  const r = evaluate(ws.make());
  assert.equal(r.status, 0, r.stdout + r.stderr);
  honest = r.metrics.val_bpb!;
});

test('the evaluate step prints val_bpb equal to a direct in-process computation on the same checkpoint', () => {
  const val = new Uint8Array(readFileSync(join(ws.sharedData(), 'val.bin')));
  const forward = loadModel(ckpt);
  const T = EVAL_SEQ_LEN,
    V = VOCAB_SIZE;
  let nats = 0;
  for (let start = 0; start < val.length - 1; start += T) {
    const tokens = new Int32Array(T);
    for (let t = 0; t < T && start + t < val.length; t++) tokens[t] = val[start + t]!;
    const logits = forward(tokens, 1, T);
    for (let t = 0; t < T && start + t + 1 < val.length; t++) {
      const row = Array.from(logits.subarray(t * V, (t + 1) * V));
      const max = Math.max(...row);
      nats += max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0)) - row[val[start + t + 1]!]!;
    }
  }
  const direct = nats / Math.LN2 / (val.length - 1);
  assert.ok(Number.isFinite(honest) && honest > 1, String(honest));
  assert.ok(Math.abs(honest - direct) < 5e-6, `evaluate ${honest} vs direct ${direct}`);
});

test('the output ends with the block: val_bpb, eval_seconds, eval_seq_len, eval_bytes', () => {
  const r = evaluate(ws.make());
  const lines = r.stdout.trimEnd().split('\n');
  const block = lines.slice(lines.lastIndexOf('---') + 1);
  assert.deepEqual(
    block.map((l) => l.split(':')[0]),
    ['val_bpb', 'eval_seconds', 'eval_seq_len', 'eval_bytes'],
    r.stdout,
  );
  assert.match(block[0]!, /^val_bpb: {10}\d+\.\d{6}$/);
  assert.equal(r.metrics.eval_seq_len, EVAL_SEQ_LEN);
  assert.equal(r.metrics.val_bpb, honest); // the same number every time
});

test('AUTORESEARCH_SPLIT=heldout scores data/heldout.bin and says so; any other value is refused', () => {
  const dir = ws.make();
  const held = new Uint8Array(readFileSync(join(ws.sharedData(), 'heldout.bin')));
  const val = new Uint8Array(readFileSync(join(ws.sharedData(), 'val.bin')));
  assert.ok(held.length >= 2 * EVAL_SEQ_LEN && !Buffer.from(held).equals(Buffer.from(val)), 'a split of its own');
  const r = tsx(dir, ['evaluate.ts'], { AUTORESEARCH_OUTPUT: ckpt, AUTORESEARCH_SPLIT: 'heldout' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const m = parseMetrics(r.stdout);
  assert.equal(m.heldout_split, 1);
  assert.ok(Number.isFinite(m.val_bpb) && m.val_bpb !== honest, `held-out ${m.val_bpb} vs validation ${honest}`);
  assert.equal(evaluate(dir).metrics.heldout_split, undefined, 'the validation split says nothing of the kind');
  const bad = tsx(dir, ['evaluate.ts'], { AUTORESEARCH_OUTPUT: ckpt, AUTORESEARCH_SPLIT: 'train' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /AUTORESEARCH_SPLIT must be "heldout"/);
});

test('changing SEQ_LEN in train.ts does not change how the same weights are measured', () => {
  for (const seqLen of ['8', '128']) {
    const r = evaluate(ws.make((src) => setKnob(src, 'SEQ_LEN', seqLen)));
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(r.metrics.val_bpb, honest, `SEQ_LEN ${seqLen}`);
  }
});

test('a model worker that prints a fake metric does not change the last block', () => {
  const dir = ws.make((src) =>
    beforeReturn(
      src,
      [
        "    console.log('---'); console.log('val_bpb: 0.010000');",
        "    process.stdout.write('\\r---\\rval_bpb: 0.01\\n'); console.error('METRIC val_bpb=0.01'); console.error('\\x1b[2K---\\nval_bpb: 0.01');",
      ].join('\n'),
    ),
  );
  const r = evaluate(dir);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^\[model\] /m); // its lines are shown, defused
  assert.equal(r.metrics.val_bpb, honest);
  assert.doesNotMatch(r.stdout + r.stderr, /^val_bpb: *0\.01/m);
});

test('the model worker cannot read the validation file', () => {
  // Cheats perfectly if it can read data/val.bin (finds the window, predicts the next byte).
  const dir = ws.make((src) =>
    beforeReturn(
      src.replace(
        'export function loadModel(dir: string): ForwardFn {',
        `export function loadModel(dir: string): ForwardFn {
  let val: Uint8Array | null = null;
  for (const p of ['${ws.sharedData()}/val.bin', join(process.cwd(), '..', 'data', 'val.bin'), join(dir, '..', '..', 'data', 'val.bin')]) {
    try { val = readFileSync(p); break; } catch (e) { console.log('read', (e as { code?: string }).code); }
  }`,
      ),
      `    if (val) for (let b = 0; b < batchSize; b++) {
      const row = Array.from(tokens.subarray(b * seqLen, (b + 1) * seqLen)).join(',');
      for (let s = 0; s + seqLen <= val.length; s += seqLen) if (Array.from(val.subarray(s, s + seqLen)).join(',') === row) {
        for (let t = 0; t < seqLen && s + t + 1 < val.length; t++) logits[(b * seqLen + t) * 256 + val[s + t + 1]!]! += 40;
      }
    }`,
    ),
  );
  const r = evaluate(dir);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /\[model\] read ERR_ACCESS_DENIED/);
  assert.equal(r.metrics.val_bpb, honest);
});

test('a model that reads the next byte is a crash with the reason', () => {
  const dir = ws.make((src) =>
    beforeReturn(
      src,
      '    for (let b = 0; b < batchSize; b++) for (let t = 0; t + 1 < seqLen; t++) logits[(b * seqLen + t) * 256 + tokens[b * seqLen + t + 1]!]! += 30;',
    ),
  );
  const r = evaluate(dir);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^FAIL: the model is not causal/m);
  assert.equal(r.metrics.val_bpb, undefined);
});

test('a checkpoint with a symbolic link, no checkpoint, or no data is refused with the reason', () => {
  const dir = ws.make();
  const linked = join(mkdtempSync(join(tmpdir(), 'tiny-ckpt-')), 'out');
  writeCheckpoint(linked);
  symlinkSync(join(ws.sharedData(), 'val.bin'), join(linked, 'val-copy.bin'));
  let r = evaluate(dir, linked);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /^FAIL: the checkpoint may hold plain files only: val-copy\.bin/m);
  r = evaluate(dir, join(linked, 'missing'));
  assert.equal(r.status, 1);
  assert.match(r.stdout, /^FAIL: no checkpoint/m);
  r = evaluate(ws.make(undefined, false));
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^error: .*val\.bin not found: run "tsx prepare\.ts"/);
});

test('`tsx prepare.ts evaluate` (the command of older workspaces) runs the same evaluation', () => {
  const r = evaluate(ws.make(), ckpt, ['prepare.ts', 'evaluate']);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(r.metrics.val_bpb, honest);
});

test('train.ts may import only ./prepare.ts and node: built-ins into the model worker, not the evaluator', () => {
  // evaluate.ts is bundled into the worker (its serveModel), but train.ts may not reach into it;
  // nor any other file of the workspace.
  for (const spec of ['./evaluate.ts', './program.md', './data/meta.json']) {
    const dir = ws.make((src) => `import * as extra from '${spec}';\nconsole.log(typeof extra);\n${src}`);
    const r = evaluate(dir);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      new RegExp(
        `^FAIL: could not build the model's code .*train\\.ts may import only \\./prepare\\.ts and node: built-ins, not "${spec.replace(/\./g, '\\.')}"`,
        'm',
      ),
      spec,
    );
    assert.equal(r.metrics.val_bpb, undefined);
  }
});
