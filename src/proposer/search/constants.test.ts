import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findConstants, langOf, parseLiteral } from './constants.js';

const TRAIN_PY = `"""
Pretraining script. Not a constant:
FAKE = 3
"""
import os
import torch

# ---------------------------------------------------------------------------
# Hyperparameters (edit these)

# Model architecture
DEPTH = 8
ASPECT_RATIO = 64  # model_dim = depth * ASPECT_RATIO
HEAD_DIM = 128
WINDOW_PATTERN = "SSSL"  # "L" full, "S" half
# Optimization
TOTAL_BATCH_SIZE = 2**19
EMBEDDING_LR = 0.6
MATRIX_LR = 0.04
WEIGHT_DECAY = 0.2
ADAM_BETAS = (0.8, 0.95)
WARMUP_RATIO = 0.0
WARMDOWN_RATIO = 0.5
FINAL_LR_FRAC = 0.0
DEVICE_BATCH_SIZE = 128
MODEL_DIM = DEPTH * ASPECT_RATIO
DTYPE = torch.bfloat16
NUM_LAYERS: int = 12  # typed
CONFIG = dict(
LR = 0.1,
)

def main():
    INNER = 5
    if DEPTH > 4:
        LR = 0.3
`;

test('finds the top-level constants of an autoresearch train.py header, in order', () => {
  const cs = findConstants(TRAIN_PY, 'python');
  assert.deepEqual(
    cs.map((c) => `${c.name}=${String(c.value)}:${c.kind}`),
    [
      'DEPTH=8:int',
      'ASPECT_RATIO=64:int',
      'HEAD_DIM=128:int',
      'WINDOW_PATTERN=SSSL:string',
      'TOTAL_BATCH_SIZE=524288:int',
      'EMBEDDING_LR=0.6:float',
      'MATRIX_LR=0.04:float',
      'WEIGHT_DECAY=0.2:float',
      'WARMUP_RATIO=0:float',
      'WARMDOWN_RATIO=0.5:float',
      'FINAL_LR_FRAC=0:float',
      'DEVICE_BATCH_SIZE=128:int',
      'NUM_LAYERS=12:int',
    ],
  );
});

test('offsets, lines, raw text and comments of python constants', () => {
  const cs = findConstants(TRAIN_PY, 'python');
  const lines = TRAIN_PY.split('\n');
  for (const c of cs) {
    assert.equal(TRAIN_PY.slice(c.start, c.end), c.raw, c.name);
    assert.ok(lines[c.line]?.startsWith(c.name), c.name);
  }
  const by = (n: string) => cs.find((c) => c.name === n)!;
  assert.equal(by('ASPECT_RATIO').trailingComment, 'model_dim = depth * ASPECT_RATIO');
  assert.equal(by('WINDOW_PATTERN').trailingComment, '"L" full, "S" half');
  assert.equal(by('WINDOW_PATTERN').style.quote, '"');
  assert.equal(by('DEPTH').commentAbove, 'Model architecture');
  assert.equal(by('TOTAL_BATCH_SIZE').commentAbove, 'Optimization');
  assert.equal(by('HEAD_DIM').comment, '');
  assert.equal(by('TOTAL_BATCH_SIZE').raw, '2**19');
  assert.deepEqual(by('TOTAL_BATCH_SIZE').style.power, { base: 2, before: '', after: '' });
  assert.equal(by('NUM_LAYERS').trailingComment, 'typed');
});

test('typescript constants: export, types, semicolons, comments, quotes', () => {
  const src = [
    `import { x } from './x.js';`,
    `export const LR = 3e-4; // learning rate`,
    `const USE_BIAS: boolean = false;`,
    `let ACT = 'relu'; // 'relu' | 'gelu'`,
    `/** Number of layers. */`,
    `export const N_LAYER: number = 4`,
    `var STEPS = 1_000 /* total */`,
    `const BATCH = 2 ** 5;`,
    `const SHAPE = [1, 2];`,
    `const lower = 3;`,
    `const TEMPLATE = \`abc\`;`,
    `function f() {`,
    `const INSIDE = 1;`,
    `}`,
    `/*`,
    `const COMMENTED = 1;`,
    `*/`,
    `const DROP = .5;`,
  ].join('\n');
  const cs = findConstants(src, 'typescript');
  assert.deepEqual(
    cs.map((c) => [c.name, c.kind, c.value, c.raw]),
    [
      ['LR', 'float', 3e-4, '3e-4'],
      ['USE_BIAS', 'bool', false, 'false'],
      ['ACT', 'string', 'relu', "'relu'"],
      ['N_LAYER', 'int', 4, '4'],
      ['STEPS', 'int', 1000, '1_000'],
      ['BATCH', 'int', 32, '2 ** 5'],
      ['TEMPLATE', 'string', 'abc', '`abc`'],
      ['DROP', 'float', 0.5, '.5'],
    ],
  );
  const by = (n: string) => cs.find((c) => c.name === n)!;
  assert.equal(by('LR').trailingComment, 'learning rate');
  assert.deepEqual(by('LR').style.scientific, { expChar: 'e', mantissaDot: false, plusSign: false });
  assert.equal(by('ACT').trailingComment, "'relu' | 'gelu'");
  assert.equal(by('N_LAYER').commentAbove, 'Number of layers.');
  assert.equal(by('STEPS').trailingComment, 'total');
  assert.equal(by('STEPS').style.underscores, true);
  assert.equal(by('DROP').style.leadingDot, true);
  for (const c of cs) assert.equal(src.slice(c.start, c.end), c.raw);
});

test('skips expressions, tuples, calls, lowercase names and language-foreign bools', () => {
  const py = [
    'A = 1 + 2',
    'B = (1, 2)',
    'C = int(3)',
    'D = 1 if x else 2',
    'lr = 0.1',
    'E = true',
    'F == 2',
    'G = -0.1',
    'H = .5',
    'I = 1e-3',
    'J = f"x"',
    'K = 0x10',
  ].join('\n');
  assert.deepEqual(
    findConstants(py, 'python').map((c) => [c.name, c.value]),
    [
      ['G', -0.1],
      ['H', 0.5],
      ['I', 0.001],
    ],
  );
  assert.deepEqual(findConstants('const A = True;\nconst B = x;\nconst C = 1 as const;', 'typescript'), []);
});

test('CRLF line endings and comments containing quotes or hashes', () => {
  const src = 'A = 1\r\nB = "x#y"  # it\'s "fine"\r\nC = 2.5\r\n';
  const cs = findConstants(src, 'python');
  assert.deepEqual(
    cs.map((c) => [c.name, c.value]),
    [
      ['A', 1],
      ['B', 'x#y'],
      ['C', 2.5],
    ],
  );
  for (const c of cs) assert.equal(src.slice(c.start, c.end), c.raw);
  assert.equal(cs[1]?.trailingComment, 'it\'s "fine"');
});

test('parseLiteral reads the literal forms', () => {
  assert.equal(parseLiteral('2 ** 19 rest', 'python')?.value, 524288);
  assert.equal(parseLiteral('524_288', 'python')?.value, 524288);
  assert.equal(parseLiteral('1.5E+3', 'python')?.kind, 'float');
  assert.equal(parseLiteral('True', 'python')?.value, true);
  assert.equal(parseLiteral('true', 'python'), null);
  assert.equal(parseLiteral("'a\\'b'", 'python')?.value, "a'b");
  assert.equal(parseLiteral('abc', 'typescript'), null);
});

test('langOf maps extensions', () => {
  assert.equal(langOf('train.py'), 'python');
  assert.equal(langOf('src/train.ts'), 'typescript');
  assert.equal(langOf('train.mjs'), 'typescript');
  assert.equal(langOf('train.mts'), 'typescript');
  assert.equal(langOf('train.js'), 'typescript');
  assert.equal(langOf('notes.md'), null);
  assert.equal(langOf('Makefile'), null);
});
