// Gradient check of the tiny template's hand-written backward pass: every parameter tensor kind
// (embeddings, attention, MLP, norms, head) against central finite differences, in float64 (the
// model's array type is switchable for exactly this), so the thresholds can be tight.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel, type Config } from '../../templates/tiny/train.ts';
import { makeRng, VOCAB_SIZE } from '../../templates/tiny/prepare.ts';

const cfg: Config = { depth: 2, width: 8, heads: 2, mlpRatio: 4, seqLen: 8, batchSize: 2 };
const N = cfg.batchSize * cfg.seqLen;

function lossOf(logits: ArrayLike<number>, targets: Int32Array): number {
  let loss = 0;
  for (let n = 0; n < N; n++) {
    let max = -Infinity;
    for (let v = 0; v < VOCAB_SIZE; v++) max = Math.max(max, logits[n * VOCAB_SIZE + v]!);
    let sum = 0;
    for (let v = 0; v < VOCAB_SIZE; v++) sum += Math.exp(logits[n * VOCAB_SIZE + v]! - max);
    loss += Math.log(sum) + max - logits[n * VOCAB_SIZE + targets[n]!]!;
  }
  return loss / N;
}

function setup() {
  const model = createModel(cfg, Float64Array);
  const rng = makeRng(7);
  const randn = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  // Random values everywhere (the default init zeroes some projections, which would hide bugs).
  for (const t of model.tensors) {
    for (let i = 0; i < t.data.length; i++) t.data[i] = t.group === 'norm' ? 1 + 0.3 * randn() : 0.5 * randn();
  }
  const x = new Int32Array(N),
    y = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    x[i] = Math.floor(rng() * 12);
    y[i] = Math.floor(rng() * VOCAB_SIZE);
  } // few distinct tokens: rows repeat
  return { model, x, y, rng };
}

test('backward matches central finite differences for every parameter tensor (float64)', () => {
  const { model, x, y, rng } = setup();
  model.forward(x);
  const loss = model.backward(y);
  assert.ok(Math.abs(loss - lossOf(model.forward(x), y)) < 1e-12, 'backward returns the forward loss');
  model.forward(x);
  model.backward(y);
  const kinds = new Set<string>();
  const eps = 1e-5;
  for (const t of model.tensors) {
    kinds.add(t.name.replace(/^h\d+\./, ''));
    // Indices to probe: random ones, plus (for the token embedding) entries of rows that are used.
    const idx = Array.from({ length: 12 }, () => Math.floor(rng() * t.data.length));
    if (t.name === 'wte') for (let k = 0; k < 12; k++) idx.push(x[k]! * cfg.width + (k % cfg.width));
    let worst = 0;
    for (const i of idx) {
      const analytic = t.grad[i]!;
      const saved = t.data[i]!;
      t.data[i] = saved + eps;
      const lp = lossOf(model.forward(x), y);
      t.data[i] = saved - eps;
      const lm = lossOf(model.forward(x), y);
      t.data[i] = saved;
      const numeric = (lp - lm) / (2 * eps);
      const err = Math.abs(analytic - numeric) / Math.max(1e-6, Math.abs(analytic) + Math.abs(numeric));
      worst = Math.max(worst, err);
      assert.ok(
        err < 1e-5,
        `${t.name}[${i}]: analytic ${analytic} vs numeric ${numeric} (rel err ${err.toExponential(2)})`,
      );
    }
  }
  for (const k of ['wte', 'norm1', 'wqkv', 'wo', 'norm2', 'wfc', 'wproj', 'normf', 'head']) assert.ok(kinds.has(k), k);
});

test('the float32 model computes the same logits and gradients as the float64 one', () => {
  const { model: m64, x, y } = setup();
  const m32 = createModel(cfg, Float32Array);
  m32.params.set(m64.params);
  const l64 = Float64Array.from(m64.forward(x));
  const l32 = m32.forward(x);
  for (let i = 0; i < l64.length; i++)
    assert.ok(Math.abs(l64[i]! - l32[i]!) < 1e-4 * (1 + Math.abs(l64[i]!)), `logit ${i}`);
  const loss64 = m64.backward(y),
    loss32 = m32.backward(y);
  assert.ok(Math.abs(loss64 - loss32) < 1e-4);
  let num = 0,
    den = 0;
  for (let i = 0; i < m64.grads.length; i++) {
    num += (m64.grads[i]! - m32.grads[i]!) ** 2;
    den += m64.grads[i]! ** 2;
  }
  assert.ok(Math.sqrt(num / den) < 1e-4, `relative gradient difference ${Math.sqrt(num / den)}`);
});
