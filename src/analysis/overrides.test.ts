import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findConstants, parseSets, setConstant } from './overrides.ts';

const PY = [
  'DEPTH = 8                    # transformer blocks',
  'ASPECT_RATIO: int = 64',
  'WINDOW_PATTERN = "SSSL"      # comment = kept',
  'def f():',
  '    INNER = 3',
  'if DEPTH == 8: pass',
  'lower = 1',
].join('\n');

const TS = [
  'const DEPTH = 1; // transformer blocks',
  'export const LR: number = 0.01;',
  "const ACTIVATION = 'relu'; // 'relu' | 'gelu'",
  'function f() {',
  '  const INNER = 2;',
  '}',
].join('\n');

test('top-level UPPER_CASE constants of Python and TypeScript files', () => {
  assert.deepEqual(
    findConstants('train.py', PY).map((c) => [c.name, c.value, c.line]),
    [
      ['DEPTH', '8', 1],
      ['ASPECT_RATIO', '64', 2],
      ['WINDOW_PATTERN', '"SSSL"', 3],
    ],
  );
  assert.deepEqual(
    findConstants('train.ts', TS).map((c) => [c.name, c.value]),
    [
      ['DEPTH', '1'],
      ['LR', '0.01'],
      ['ACTIVATION', "'relu'"],
    ],
  );
});

test('setConstant replaces the value only, keeping type, semicolon and comment', () => {
  assert.equal(setConstant(PY, 'DEPTH', '16')!.split('\n')[0], 'DEPTH = 16                    # transformer blocks');
  assert.equal(setConstant(PY, 'ASPECT_RATIO', '32')!.split('\n')[1], 'ASPECT_RATIO: int = 32');
  assert.equal(setConstant(TS, 'LR', '0.02')!.split('\n')[1], 'export const LR: number = 0.02;');
  assert.equal(
    setConstant(TS, 'ACTIVATION', '"gelu"')!.split('\n')[2],
    `const ACTIVATION = "gelu"; // 'relu' | 'gelu'`,
  );
  assert.equal(setConstant(TS, 'INNER', '5'), null, 'an indented (nested) name is not a constant');
  assert.equal(setConstant(PY, 'NOPE', '1'), null);
  // nothing else moves
  const after = setConstant(PY, 'DEPTH', '16')!.split('\n');
  assert.deepEqual(after.slice(1), PY.split('\n').slice(1));
});

test('parseSets: NAME=VALUE, one line, each name once', () => {
  assert.deepEqual(parseSets(['DEPTH=24', 'ACTIVATION="gelu"']), {
    ok: true,
    sets: [
      { name: 'DEPTH', value: '24' },
      { name: 'ACTIVATION', value: '"gelu"' },
    ],
  });
  for (const bad of [['DEPTH'], ['DEPTH='], ['=3'], ['DEPTH=1', 'DEPTH=2'], ['DEPTH=1\nimport os']]) {
    const r = parseSets(bad);
    assert.equal(r.ok, false, bad.join(' '));
  }
});
