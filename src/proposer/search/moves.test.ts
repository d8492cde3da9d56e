import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findConstants, parseLiteral, type Constant, type Lang } from './constants.js';
import { candidateMoves, isExcluded, isFractionLike, stringAlternatives } from './moves.js';

function one(src: string, lang: Lang = 'python'): Constant {
  const c = findConstants(src, lang)[0];
  assert.ok(c, `no constant in ${src}`);
  return c;
}

const summary = (c: Constant) => candidateMoves(c).map((m) => `${m.direction}/${m.step}:${m.to}`);

test('floats move multiplicatively: big x2 / x0.5, small x1.25 / x0.8, printed short', () => {
  assert.deepEqual(summary(one('MATRIX_LR = 0.04\n')), [
    'up/big:0.08',
    'down/big:0.02',
    'up/small:0.05',
    'down/small:0.032',
  ]);
  assert.deepEqual(summary(one('EMBEDDING_LR = 0.6\n')), [
    'up/big:1.2',
    'down/big:0.3',
    'up/small:0.75',
    'down/small:0.48',
  ]);
  assert.deepEqual(summary(one('export const LR = 3e-4; // learning rate\n', 'typescript')), [
    'up/big:6e-4',
    'down/big:1.5e-4',
    'up/small:3.75e-4',
    'down/small:2.4e-4',
  ]);
  assert.deepEqual(summary(one('SCALE = 2.0\n')), ['up/big:4.0', 'down/big:1.0', 'up/small:2.5', 'down/small:1.6']);
  assert.deepEqual(summary(one('SHIFT = -0.5\n')), [
    'down/big:-1.0',
    'up/big:-0.25',
    'down/small:-0.625',
    'up/small:-0.4',
  ]);
});

test('fraction-like floats stay inside [0,1]', () => {
  assert.deepEqual(summary(one('WARMUP_RATIO = 0.0\n')), ['up/big:0.1', 'up/small:0.05']);
  assert.deepEqual(summary(one('FINAL_LR_FRAC = 0.0\n')), ['up/big:0.1', 'up/small:0.05']);
  assert.deepEqual(summary(one('WARMDOWN_RATIO = 0.5\n')), [
    'up/big:0.75',
    'down/big:0.25',
    'up/small:0.6',
    'down/small:0.4',
  ]);
  assert.deepEqual(summary(one('DROPOUT = 1.0\n')), ['down/big:0.9', 'down/small:0.95']);
  assert.ok(isFractionLike(one('KEEP_RATE = 0.3  # fraction of tokens kept\n')));
  assert.ok(!isFractionLike(one('WEIGHT_DECAY = 0.2\n')));
  assert.ok(!isFractionLike(one('ASPECT_RATIO = 1.5\n')));
  for (const name of ['WARMUP_RATIO', 'BETA2', 'MOMENTUM', 'DROPOUT', 'TOP_P', 'LABEL_SMOOTHING']) {
    for (let i = 0; i <= 100; i++) {
      const v = i / 100;
      const c = one(`${name} = ${v.toFixed(2)}\n`);
      for (const m of candidateMoves(c)) {
        assert.ok(typeof m.value === 'number' && m.value >= 0 && m.value <= 1, `${name} ${v} -> ${m.to}`);
        assert.notEqual(m.value, v);
        assert.equal(m.direction === 'up', m.value > v);
      }
    }
  }
});

test('zero floats elsewhere get a small positive value informed by the name', () => {
  assert.deepEqual(summary(one('WEIGHT_DECAY = 0.0\n')), ['up/big:0.01', 'up/small:0.005']);
  assert.deepEqual(summary(one('GRAD_CLIP = 0.0\n')), ['up/big:1.0', 'up/small:0.5']);
  assert.deepEqual(summary(one('ADAM_EPS = 0.0\n')), ['up/big:1e-8', 'up/small:5e-9']);
  assert.deepEqual(summary(one('Z_LOSS = 0.0\n')), ['up/big:0.01', 'up/small:0.005']);
});

test('powers of two stay powers of two, never below 1', () => {
  assert.deepEqual(summary(one('DEVICE_BATCH_SIZE = 128\n')), ['up/big:256', 'down/big:64']);
  assert.deepEqual(summary(one('TOTAL_BATCH_SIZE = 2**19\n')), ['up/big:2**20', 'down/big:2**18']);
  assert.deepEqual(summary(one('N = 2\n')), ['up/big:4', 'down/big:1']);
  assert.deepEqual(summary(one('N = 2**0\n')), ['up/big:2**1']);
  for (let k = 1; k <= 30; k++) {
    for (const m of candidateMoves(one(`N = ${2 ** k}\n`))) {
      const v = m.value as number;
      assert.ok(v >= 1 && Number.isInteger(Math.log2(v)), `${2 ** k} -> ${v}`);
    }
  }
});

test('other ints stay ints, change by at least 1, never cross zero', () => {
  assert.deepEqual(summary(one('DEPTH = 12\n')), ['up/big:18', 'down/big:8', 'up/small:15', 'down/small:10']);
  assert.deepEqual(summary(one('N = 3\n')), ['up/big:5', 'down/big:2', 'up/small:4']);
  assert.deepEqual(summary(one('N = 1\n')), ['up/big:2']);
  assert.deepEqual(summary(one('N = 0\n')), ['up/big:1']);
  assert.deepEqual(summary(one('N = -3\n')), ['down/big:-5', 'up/big:-2', 'down/small:-4']);
  assert.deepEqual(summary(one('N = 10_000\n')), [
    'up/big:15_000',
    'down/big:6_700',
    'up/small:12_500',
    'down/small:8_000',
  ]);
  for (let v = -300; v <= 300; v++) {
    for (const m of candidateMoves(one(`N = ${v}\n`))) {
      const n = m.value as number;
      assert.ok(Number.isInteger(n), `${v} -> ${n}`);
      assert.ok(Math.abs(n - v) >= 1);
      if (v >= 1) assert.ok(n >= 1, `${v} -> ${n}`);
      if (v <= -1) assert.ok(n <= -1, `${v} -> ${n}`);
      if (v === 0) assert.ok(n >= 0);
      assert.equal(parseLiteral(m.to, 'python')?.value, n);
    }
  }
});

test('bools flip; strings move only to alternatives their comment lists', () => {
  assert.deepEqual(summary(one('USE_BIAS = True\n')), ['set/big:False']);
  assert.deepEqual(summary(one('const USE_BIAS: boolean = false;\n', 'typescript')), ['set/big:true']);
  assert.deepEqual(summary(one("let ACT = 'relu'; // 'relu' | 'gelu'\n", 'typescript')), ["set/big:'gelu'"]);
  assert.deepEqual(summary(one('ACT = "relu"  # relu | gelu | silu\n')), ['set/big:"gelu"', 'set/big:"silu"']);
  assert.deepEqual(summary(one('OPT = "adamw"  # one of: adamw, muon, sgd\n')), ['set/big:"muon"', 'set/big:"sgd"']);
  assert.deepEqual(summary(one('# choose "a" or "b"\nMODE = "a"\n')), ['set/big:"b"']);
  assert.deepEqual(summary(one('NAME = "gpt"  # the model name\n')), []);
  assert.deepEqual(summary(one('NAME = "gpt"\n')), []);
  // the comment describes the characters of a pattern, not alternative values
  assert.deepEqual(stringAlternatives(one('WINDOW_PATTERN = "SSSL"  # "L" full, "S" half\n')), []);
});

test('protected and excluded names get no moves', () => {
  for (const src of [
    'SEED = 42\n',
    'TIME_BUDGET = 300\n',
    'EVAL_TOKENS = 1000\n',
    'MAX_BUDGET = 1.0\n',
    'VERSION = 2\n',
  ]) {
    assert.deepEqual(candidateMoves(one(src)), [], src);
  }
  assert.ok(isExcluded('DEPTH', ['DEPTH']));
  assert.deepEqual(candidateMoves(one('DEPTH = 8\n'), { exclude: ['DEPTH'] }), []);
  assert.equal(candidateMoves(one('DEPTH = 8\n'), { file: 'train.py' })[0]?.file, 'train.py');
});

test('every move reparses to its value and records from/to literals', () => {
  const c = one('MATRIX_LR = 0.04  # lr\n');
  for (const m of candidateMoves(c, { file: 'train.py' })) {
    assert.equal(m.from, '0.04');
    assert.equal(m.name, 'MATRIX_LR');
    assert.equal(parseLiteral(m.to, 'python')?.value, m.value);
  }
});
