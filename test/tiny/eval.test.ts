// The tiny template's metric (evaluateBpb in templates/tiny/prepare.ts): computed from logits by
// the harness, every validation byte scored once whatever the window and batch, and a model that
// peeks at later tokens is refused. Runs on the built-in synthetic data (no env).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateBpb, readDataset, VOCAB_SIZE, type ForwardFn } from '../../templates/tiny/prepare.ts';

delete process.env.AUTORESEARCH_DATA;
delete process.env.AUTORESEARCH_VAL_DATA;
const V = VOCAB_SIZE;

/** A causal model whose logits at t depend only on the token at t: a bigram table. */
function bigramModel(table: Float32Array): ForwardFn {
  let out = new Float32Array(0);
  return (tokens, B, T) => {
    if (out.length !== B * T * V) out = new Float32Array(B * T * V);
    for (let n = 0; n < B * T; n++) out.set(table.subarray(tokens[n]! * V, tokens[n]! * V + V), n * V);
    return out;
  };
}

test('uniform logits score exactly 8 bits per byte', () => {
  const bpb = evaluateBpb((_t, B, T) => new Float32Array(B * T * V), 4, 16);
  assert.ok(Math.abs(bpb - 8) < 1e-9, String(bpb));
});

test('every byte is scored once: the result does not depend on window length or batch size', () => {
  const val = readDataset({}).val;
  const counts = new Float64Array(V * V).fill(0.1);
  for (let i = 1; i < val.length; i++) counts[val[i - 1]! * V + val[i]!]!++;
  const table = new Float32Array(V * V);
  for (let a = 0; a < V; a++) for (let b = 0; b < V; b++) table[a * V + b] = Math.log(counts[a * V + b]!);
  // Direct computation of the same number: bits of val[i] given val[i-1], i >= 1.
  let bits = 0;
  for (let i = 1; i < val.length; i++) {
    const row = table.subarray(val[i - 1]! * V, val[i - 1]! * V + V);
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
    bits += (lse - row[val[i]!]!) / Math.LN2;
  }
  const expected = bits / (val.length - 1);
  const model = bigramModel(table);
  for (const [B, T] of [[1, 1], [3, 7], [8, 64], [5, 256]] as const) {
    const bpb = evaluateBpb(model, B, T);
    assert.ok(Math.abs(bpb - expected) < 1e-6, `B=${B} T=${T}: ${bpb} vs ${expected}`);
  }
});

test('a model that looks at later tokens is refused', () => {
  // Puts all its mass on the token that comes next in the window: a perfect score if allowed.
  const cheat: ForwardFn = (tokens, B, T) => {
    const out = new Float32Array(B * T * V);
    for (let b = 0; b < B; b++) for (let t = 0; t + 1 < T; t++) out[(b * T + t) * V + tokens[b * T + t + 1]!] = 50;
    return out;
  };
  assert.throws(() => evaluateBpb(cheat, 4, 32), /not causal/);
});

test('a wrong logits shape or a bad window length is an error', () => {
  assert.throws(() => evaluateBpb((_t, B, T) => new Float32Array(B * T), 2, 8), /expected/);
  assert.throws(() => evaluateBpb((_t, B, T) => new Float32Array(B * T * V), 2, 10_000), /seqLen/);
});

test('NaN logits give a NaN score (train.ts turns that into a failure)', () => {
  assert.ok(Number.isNaN(evaluateBpb((_t, B, T) => new Float32Array(B * T * V).fill(NaN), 2, 8)));
});
