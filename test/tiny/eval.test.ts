// The tiny template's metric (scoreModel in templates/tiny/evaluate.ts), in-process: computed from
// logits by the evaluator, every validation byte scored once in windows of EVAL_SEQ_LEN, and a
// model that reads later bytes, other rows, or learns from what it is shown is refused.
// (test/tiny/evaluate.test.ts runs the same through `tsx evaluate.ts` and its worker.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EvalError as EvaluationError, type ModelSession, scoreModel } from '../../templates/tiny/evaluate.ts';
import { EVAL_SEQ_LEN, type ForwardFn, makeRng, readDataset, VOCAB_SIZE } from '../../templates/tiny/prepare.ts';

const V = VOCAB_SIZE,
  T = EVAL_SEQ_LEN;
const val = readDataset({}, 12345).val;

/** Sessions on an in-process model; `make` is called per session (a fresh model each time). */
const sessions = (make: () => ForwardFn) => async (): Promise<ModelSession> => {
  const f = make();
  return { forward: async (tokens, B, seqLen) => f(tokens, B, seqLen), close: () => {} };
};

/** A causal model whose logits at t depend only on the token at t: a bigram table. */
function bigram(table: Float32Array): ForwardFn {
  return (tokens, B, seqLen) => {
    const out = new Float32Array(B * seqLen * V);
    for (let n = 0; n < B * seqLen; n++) out.set(table.subarray(tokens[n]! * V, tokens[n]! * V + V), n * V);
    return out;
  };
}

function bigramTable(): Float32Array {
  const counts = new Float64Array(V * V).fill(0.1);
  for (let i = 1; i < val.length; i++) counts[val[i - 1]! * V + val[i]!]!++;
  const table = new Float32Array(V * V);
  for (let i = 0; i < V * V; i++) table[i] = Math.log(counts[i]!);
  return table;
}

test('uniform logits score exactly 8 bits per byte', async () => {
  const r = await scoreModel(
    sessions(() => (_t, B, s) => new Float32Array(B * s * V)),
    val,
  );
  assert.ok(Math.abs(r.bpb - 8) < 1e-9, String(r.bpb));
  assert.equal(r.scored, val.length - 1);
});

test('the number equals a direct computation, whatever the random order and checks', async () => {
  const table = bigramTable();
  // Direct: a bigram model sees the byte before every target, whatever the windows: bits of val[i] given val[i-1].
  let bits = 0;
  for (let i = 1; i < val.length; i++) {
    const row = table.subarray(val[i - 1]! * V, val[i - 1]! * V + V);
    const max = Math.max(...row);
    bits += (max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0)) - row[val[i]!]!) / Math.LN2;
  }
  const expected = bits / (val.length - 1);
  const a = await scoreModel(
    sessions(() => bigram(table)),
    val,
  );
  const rng = makeRng(3);
  const b = await scoreModel(
    sessions(() => bigram(table)),
    val,
    (n) => Math.floor(rng() * n),
  );
  assert.ok(Math.abs(a.bpb - expected) < 1e-6, `${a.bpb} vs ${expected}`);
  assert.equal(a.bpb, b.bpb); // summed in window order: bit-identical
  assert.equal(a.windows, Math.ceil((val.length - 1) / T));
});

test('a model that reads the next byte is refused', async () => {
  const cheat: ForwardFn = (tokens, B, s) => {
    const out = new Float32Array(B * s * V);
    for (let b = 0; b < B; b++) for (let t = 0; t + 1 < s; t++) out[(b * s + t) * V + tokens[b * s + t + 1]!] = 50;
    return out;
  };
  await assert.rejects(
    scoreModel(
      sessions(() => cheat),
      val,
    ),
    (e: Error) => e instanceof EvaluationError && /not causal/.test(e.message),
  );
});

test('a model that reads the other rows of the batch is refused', async () => {
  // Each row's logits lean towards the first byte of the next row (a later window, often).
  const cheat: ForwardFn = (tokens, B, s) => {
    const out = new Float32Array(B * s * V);
    for (let b = 0; b < B; b++)
      for (let t = 0; t < s; t++) out[(b * s + t) * V + tokens[((b + 1) % B) * s + s - 1]!] = 5;
    return out;
  };
  await assert.rejects(
    scoreModel(
      sessions(() => cheat),
      val,
    ),
    (e: Error) => e instanceof EvaluationError && /not causal/.test(e.message),
  );
});

test('a model that learns from the validation bytes it is shown is refused, even if it answers repeats from a cache', async () => {
  const learner = (): ForwardFn => {
    const seen = new Float64Array(V); // counts of bytes seen so far: a unigram learned at test time
    const cache = new Map<string, Float32Array>();
    return (tokens, B, s) => {
      const key = tokens.join(',');
      const hit = cache.get(key);
      if (hit) return hit;
      const out = new Float32Array(B * s * V);
      for (let n = 0; n < B * s; n++) for (let v = 0; v < V; v++) out[n * V + v] = Math.log(1 + seen[v]!);
      for (const x of tokens) seen[x]!++;
      cache.set(key, out);
      return out;
    };
  };
  await assert.rejects(
    scoreModel(sessions(learner), val),
    (e: Error) => e instanceof EvaluationError && /not (causal|stateless)/.test(e.message),
  );
});

test('a model that learns but answers every prefix it was shown as before is caught by the fresh copy', async () => {
  // A causal function of the prefix as long as prefixes repeat (so the repeat and verification
  // checks pass), but what it has seen shifts its answers for new windows: caught only because a
  // fresh copy of the model answers the late windows otherwise.
  const sneaky = (): ForwardFn => {
    let calls = 0;
    const known = new Map<string, Float32Array>(); // logits per prefix
    return (tokens, B, s) => {
      calls++;
      const out = new Float32Array(B * s * V);
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < s; t++) {
          const key = tokens.subarray(b * s, b * s + t + 1).join(',');
          let l = known.get(key);
          if (!l) {
            l = new Float32Array(V);
            l[32] = Math.min(calls, 40) * 0.01; // "learned": spaces get likelier
            known.set(key, l);
          }
          out.set(l, (b * s + t) * V);
        }
      }
      return out;
    };
  };
  await assert.rejects(
    scoreModel(sessions(sneaky), val),
    (e: Error) => e instanceof EvaluationError && /fresh copy/.test(e.message),
  );
});

test('a wrong logits shape or a non-finite logit is an EvalError', async () => {
  await assert.rejects(
    scoreModel(
      sessions(() => (_t, B, s) => new Float32Array(B * s)),
      val,
    ),
    /expected/,
  );
  await assert.rejects(
    scoreModel(
      sessions(() => (_t, B, s) => new Float32Array(B * s * V).fill(NaN)),
      val,
    ),
    /non-finite/,
  );
});
