import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findConstants, type Constant, type Lang } from './constants.js';
import { formatValue, rewriteConstant, roundSig } from './rewrite.js';

function one(src: string, name: string, lang: Lang = 'python'): Constant {
  const c = findConstants(src, lang).find((x) => x.name === name);
  assert.ok(c, `${name} not found`);
  return c;
}

/** The source must change only between the literal's offsets. */
function assertOnlyLiteralChanged(before: string, after: string, c: Constant, literal: string): void {
  assert.equal(after.slice(0, c.start), before.slice(0, c.start));
  assert.equal(after.slice(c.start, c.start + literal.length), literal);
  assert.equal(after.slice(c.start + literal.length), before.slice(c.end));
}

test('rewrites exactly the literal; formatting and comment stay byte-identical', () => {
  const src = 'import os\n\nMATRIX_LR   =  0.04   #  lr for matrices\r\nDEPTH = 8\n';
  const c = one(src, 'MATRIX_LR');
  const out = rewriteConstant(src, c, 0.04 * 1.25);
  assert.equal(out, 'import os\n\nMATRIX_LR   =  0.05   #  lr for matrices\r\nDEPTH = 8\n');
  assertOnlyLiteralChanged(src, out, c, '0.05');
});

test('floats are printed short, with at most 4 significant digits, and stay float literals', () => {
  const c = one('X = 0.5\n', 'X');
  assert.equal(formatValue(c, 0.04 * 1.25), '0.05');
  assert.equal(formatValue(c, 0.1 + 0.2), '0.3');
  assert.equal(formatValue(c, 1), '1.0');
  assert.equal(formatValue(c, 2), '2.0');
  assert.equal(formatValue(c, 1 / 3), '0.3333');
  assert.equal(formatValue(c, 123456.7), '123500.0');
  assert.equal(formatValue(c, -0.08), '-0.08');
  assert.equal(formatValue(c, 1e-9), '1e-9');
  assert.equal(roundSig(0.05000000000000001), 0.05);
  assert.equal(formatValue(one('X = .5\n', 'X'), 0.25), '.25');
});

test('scientific stays scientific', () => {
  const c = one('export const LR = 3e-4; // learning rate\n', 'LR', 'typescript');
  assert.equal(formatValue(c, 3e-4 * 2), '6e-4');
  assert.equal(formatValue(c, 3e-4 * 1.25), '3.75e-4');
  assert.equal(formatValue(c, 3e-4 * 0.5), '1.5e-4');
  assert.equal(formatValue(c, 8e-4 * 1.25), '1e-3');
  const d = one('LR = 1.0E-3\n', 'LR');
  assert.equal(formatValue(d, 2e-3), '2.0E-3');
  const src = 'export const LR = 3e-4; // learning rate\n';
  assert.equal(rewriteConstant(src, c, 6e-4), 'export const LR = 6e-4; // learning rate\n');
});

test('power form stays a power form when the value is a power; otherwise a plain int', () => {
  const src = 'TOTAL_BATCH_SIZE = 2**19  # tokens\n';
  const c = one(src, 'TOTAL_BATCH_SIZE');
  assert.equal(rewriteConstant(src, c, 2 ** 20), 'TOTAL_BATCH_SIZE = 2**20  # tokens\n');
  assert.equal(formatValue(c, 2 ** 18), '2**18');
  assert.equal(formatValue(c, 3 * 2 ** 17), '393216');
  const spaced = one('const B = 2 ** 5;', 'B', 'typescript');
  assert.equal(formatValue(spaced, 64), '2 ** 6');
});

test('ints stay ints; underscores are kept as thousands groups', () => {
  const c = one('STEPS = 524_288\n', 'STEPS');
  assert.equal(formatValue(c, 1048576), '1_048_576');
  assert.equal(formatValue(c, 512), '512');
  assert.equal(formatValue(one('N = 10\n', 'N'), 15), '15');
  assert.equal(formatValue(one('N = -10\n', 'N'), -15), '-15');
  assert.throws(() => formatValue(one('N = 10\n', 'N'), 1.5), TypeError);
});

test('bools use the language spelling; strings keep their quote character', () => {
  assert.equal(formatValue(one('USE = True\n', 'USE'), false), 'False');
  const ts = "const USE_BIAS: boolean = false;\nlet ACT = 'relu'; // 'relu' | 'gelu'\n";
  const b = one(ts, 'USE_BIAS', 'typescript');
  assert.equal(rewriteConstant(ts, b, true), "const USE_BIAS: boolean = true;\nlet ACT = 'relu'; // 'relu' | 'gelu'\n");
  const a = one(ts, 'ACT', 'typescript');
  const out = rewriteConstant(ts, a, 'gelu');
  assert.equal(out, "const USE_BIAS: boolean = false;\nlet ACT = 'gelu'; // 'relu' | 'gelu'\n");
  assertOnlyLiteralChanged(ts, out, a, "'gelu'");
  assert.equal(formatValue(one('P = "SSSL"\n', 'P'), 'say "hi"'), '"say \\"hi\\""');
  assert.throws(() => formatValue(a, 3), TypeError);
});

test('refuses to rewrite a source that no longer holds the literal', () => {
  const c = one('A = 1\n', 'A');
  assert.throws(() => rewriteConstant('A = 2\n', c, 3), /no longer holds/);
});
